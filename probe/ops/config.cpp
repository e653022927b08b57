// Config file parsing and validation (nlohmann/json), the merge with the
// command line, and the shared value checks. See config.hpp.
#include "probe/ops/config.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "meoktong/files.hpp"
#include "meoktong/ipaddr.hpp"
#include "meoktong/target.hpp"

namespace meoktong {

namespace {

using json = nlohmann::json;

constexpr int kMaxConcurrency = 1024;
constexpr int kMaxTimeoutMs = 10 * 60 * 1000;
constexpr int kMaxRuntimeSeconds = 7 * 24 * 3600;
constexpr size_t kMaxConfigBytes = 1 << 20;

// Reads the keys of one JSON object, naming "origin: key 'a.b'" in errors.
class ConfigReader {
public:
    ConfigReader(std::string origin, RunConfig& out) : origin_(std::move(origin)), out_(out) {}

    [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
        throw InputError("config " + origin_ + ": key '" + key + "': " + problem);
    }
    std::string where(const std::string& key) const { return "config " + origin_ + ": key '" + key + "'"; }

    std::string string_value(const json& v, const std::string& key) const {
        if (!v.is_string()) fail(key, "must be a string");
        std::string s = v.get<std::string>();
        if (s.empty()) fail(key, "must not be empty");
        if (s.find('\0') != std::string::npos || s.find('\n') != std::string::npos)
            fail(key, "must be one line of text");
        return s;
    }

    // A string or an array of strings.
    std::vector<std::string> string_list(const json& v, const std::string& key) const {
        if (v.is_string()) return {string_value(v, key)};
        if (!v.is_array()) fail(key, "must be a string or an array of strings");
        std::vector<std::string> items;
        for (size_t i = 0; i < v.size(); ++i) items.push_back(string_value(v[i], key + "[" + std::to_string(i) + "]"));
        return items;
    }

    int64_t integer_value(const json& v, const std::string& key, int64_t min, int64_t max) const {
        if (!v.is_number_integer()) fail(key, "must be an integer");
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(max))
            fail(key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
        int64_t n = v.get<int64_t>();
        if (n < min || n > max)
            fail(key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
        return n;
    }

    const json& object_value(const json& v, const std::string& key) const {
        if (!v.is_object()) fail(key, "must be an object");
        return v;
    }

    using Handler = std::function<void(const json&, const std::string&)>;

    // Calls the handler of each key; an unknown key is an error (catches typos).
    void read_object(const json& object, const std::string& prefix,
                     const std::map<std::string, Handler>& handlers) const {
        for (const auto& [key, value] : object.items()) {
            std::string full = prefix.empty() ? key : prefix + "." + key;
            if (key == "comment") continue;
            auto handler = handlers.find(key);
            if (handler == handlers.end()) fail(full, "unknown key (see docs/operations.md)");
            handler->second(value, full);
        }
    }

    void read_top(const json& root) {
        if (!root.is_object()) throw InputError("config " + origin_ + ": must be a JSON object");
        read_object(root, "", {
            {"lists", [&](const json& v, const std::string& k) { out_.lists = string_list(v, k); }},
            {"services", [&](const json& v, const std::string& k) { out_.services = string_list(v, k); }},
            {"resolvers", [&](const json& v, const std::string& k) { read_resolvers(v, k); }},
            {"routable", [&](const json& v, const std::string& k) { read_routable(v, k); }},
            {"control", [&](const json& v, const std::string& k) { read_control(v, k); }},
            {"vantage", [&](const json& v, const std::string& k) { read_vantage(v, k); }},
            {"retention", [&](const json& v, const std::string& k) { read_retention(v, k); }},
            {"upload", [&](const json& v, const std::string& k) { read_upload(v, k); }},
            {"out", [&](const json& v, const std::string& k) { out_.out = string_value(v, k); }},
            {"ca_file", [&](const json& v, const std::string& k) { out_.ca_file = string_value(v, k); }},
            {"capture", [&](const json& v, const std::string& k) { read_capture(v, k); }},
            {"geoip_db", [&](const json& v, const std::string& k) { out_.geoip_db = string_list(v, k); }},
            {"log", [&](const json& v, const std::string& k) { read_log(v, k); }},
            {"max_runtime", [&](const json& v, const std::string& k) { read_max_runtime(v, k); }},
            {"concurrency", [&](const json& v, const std::string& k) {
                 out_.concurrency = static_cast<int>(integer_value(v, k, 1, kMaxConcurrency)); }},
            {"timeout_ms", [&](const json& v, const std::string& k) {
                 out_.timeout_ms = static_cast<int>(integer_value(v, k, 1, kMaxTimeoutMs)); }},
        });
    }

private:
    void read_resolvers(const json& v, const std::string& key) {
        out_.resolvers = string_list(v, key);
        for (const auto& r : out_.resolvers)
            if (!is_resolver_address(r)) fail(key, "'" + r + "' is not IP or IP:PORT");
    }

    void read_routable(const json& v, const std::string& key) {
        out_.routable = string_list(v, key);
        for (const auto& c : out_.routable)
            if (!parse_cidr(c)) fail(key, "'" + c + "' is not a CIDR");
    }

    void read_control(const json& v, const std::string& key) {
        read_object(object_value(v, key), key, {
            {"url", [&](const json& u, const std::string& k) {
                 std::string url = string_value(u, k);
                 if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
                     fail(k, "must start with https://");
                 out_.control_url = url; }},
            {"token", [&](const json& t, const std::string& k) { out_.control_token = string_value(t, k); }},
            {"token_file", [&](const json& t, const std::string& k) { out_.control_token_file = string_value(t, k); }},
        });
        if (out_.control_token && out_.control_token_file)
            fail(key, "give either token or token_file, not both");
    }

    void read_vantage(const json& v, const std::string& key) {
        read_object(object_value(v, key), key, {
            {"label", [&](const json& l, const std::string& k) { out_.vantage = string_value(l, k); }},
            {"cc", [&](const json& c, const std::string& k) { out_.cc = normalise_cc(string_value(c, k), where(k)); }},
            {"asn", [&](const json& a, const std::string& k) {
                 std::string text = a.is_number_integer() ? std::to_string(integer_value(a, k, 0, UINT32_MAX))
                                                          : string_value(a, k);
                 out_.asn = normalise_asn(text, where(k)); }},
        });
    }

    void read_retention(const json& v, const std::string& key) {
        read_object(object_value(v, key), key, {
            {"days", [&](const json& d, const std::string& k) {
                 out_.retention_days = static_cast<int>(integer_value(d, k, 1, 100000)); }},
            {"megabytes", [&](const json& m, const std::string& k) {
                 out_.retention_mb = integer_value(m, k, 1, int64_t{1} << 40); }},
        });
    }

    void read_upload(const json& v, const std::string& key) {
        read_object(object_value(v, key), key, {
            {"url", [&](const json& u, const std::string& k) {
                 std::string url = string_value(u, k);
                 check_upload_url(url, where(k));
                 out_.upload_url = url; }},
            {"token", [&](const json& t, const std::string& k) { out_.upload_token = string_value(t, k); }},
        });
    }

    void read_capture(const json& v, const std::string& key) {
        std::string c = string_value(v, key);
        bool iface_chars = std::all_of(c.begin(), c.end(), [](unsigned char ch) {
            return std::isalnum(ch) || ch == '_' || ch == '.' || ch == '-' || ch == ':' || ch == '@';
        });
        if (c.size() > 15 || !iface_chars) fail(key, "must be auto, off or an interface name");
        out_.capture = c;
    }

    void read_log(const json& v, const std::string& key) {
        std::string l = string_value(v, key);
        if (l != "stderr" && l != "syslog") fail(key, "must be stderr or syslog");
        out_.log = l;
    }

    void read_max_runtime(const json& v, const std::string& key) {
        if (v.is_number_integer()) {
            out_.max_runtime_s = static_cast<int>(integer_value(v, key, 1, kMaxRuntimeSeconds));
        } else {
            out_.max_runtime_s = parse_duration_seconds(string_value(v, key), where(key));
        }
    }

    static bool is_resolver_address(const std::string& r) {
        if (is_ip_literal(r)) return true;
        std::string host, port;
        if (!r.empty() && r[0] == '[') {
            auto close = r.find("]:");
            if (close == std::string::npos) return false;
            host = r.substr(1, close - 1);
            port = r.substr(close + 2);
        } else {
            auto colon = r.rfind(':');
            if (colon == std::string::npos) return false;
            host = r.substr(0, colon);
            port = r.substr(colon + 1);
            if (host.find(':') != std::string::npos) return false;
        }
        if (!is_ip_literal(host) || port.empty() || port.size() > 5) return false;
        if (!std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
        int p = std::stoi(port);
        return p >= 1 && p <= 65535;
    }

    std::string origin_;
    RunConfig& out_;
};

template <typename T>
void override_if_set(std::optional<T>& into, const std::optional<T>& value) {
    if (value) into = value;
}

void override_if_given(std::vector<std::string>& into, const std::vector<std::string>& value) {
    if (!value.empty()) into = value;
}

std::string url_host(const std::string& url) {
    auto scheme_end = url.find("://");
    std::string rest = url.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
    if (!rest.empty() && rest[0] == '[') return rest.substr(1, rest.find(']') - 1);
    return rest.substr(0, rest.find(':'));
}

}  // namespace

RunConfig parse_config(const std::string& text, const std::string& origin) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a huge number
        std::string what = e.what();
        what = what.substr(0, what.find('\n'));
        throw InputError("config " + origin + ": not valid JSON (" + what + ")");
    }
    RunConfig options;
    ConfigReader(origin, options).read_top(root);
    return options;
}

RunConfig load_config(const std::string& path) {
    std::string text;
    try {
        text = read_file(path);
    } catch (const FileError&) {
        throw InputError("config " + path + ": cannot be read");
    }
    if (text.size() > kMaxConfigBytes) throw InputError("config " + path + ": larger than 1 MiB");
    return parse_config(text, path);
}

RunConfig load_run_config(const std::optional<std::string>& explicit_path) {
    if (explicit_path) return load_config(*explicit_path);
    std::error_code ec;
    if (std::filesystem::exists(kDefaultConfigPath, ec)) return load_config(kDefaultConfigPath);
    return {};
}

RunConfig merge_options(const RunConfig& config, const RunConfig& command_line) {
    RunConfig merged = config;
    const RunConfig& cli = command_line;
    override_if_given(merged.lists, cli.lists);
    override_if_given(merged.services, cli.services);
    override_if_given(merged.resolvers, cli.resolvers);
    override_if_given(merged.routable, cli.routable);
    override_if_given(merged.geoip_db, cli.geoip_db);
    override_if_set(merged.control_url, cli.control_url);
    if (cli.control_token || cli.control_token_file) {
        merged.control_token = cli.control_token;
        merged.control_token_file = cli.control_token_file;
    }
    override_if_set(merged.ca_file, cli.ca_file);
    override_if_set(merged.vantage, cli.vantage);
    override_if_set(merged.cc, cli.cc);
    override_if_set(merged.asn, cli.asn);
    override_if_set(merged.out, cli.out);
    override_if_set(merged.capture, cli.capture);
    override_if_set(merged.concurrency, cli.concurrency);
    override_if_set(merged.timeout_ms, cli.timeout_ms);
    override_if_set(merged.max_runtime_s, cli.max_runtime_s);
    override_if_set(merged.retention_days, cli.retention_days);
    override_if_set(merged.retention_mb, cli.retention_mb);
    override_if_set(merged.upload_url, cli.upload_url);
    override_if_set(merged.upload_token, cli.upload_token);
    override_if_set(merged.log, cli.log);
    return merged;
}

std::optional<std::string> resolve_control_token(const RunConfig& options) {
    if (options.control_token) return options.control_token;
    if (!options.control_token_file) return std::nullopt;
    return read_token_file(*options.control_token_file);
}

int parse_duration_seconds(const std::string& text, const std::string& what) {
    auto bad = [&]() -> InputError {
        return InputError(what + ": bad duration '" + text + "' (e.g. 90, 90s, 20m, 2h)");
    };
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == 0 || digits > 7) throw bad();
    std::string unit = text.substr(digits);
    int64_t n = std::stoll(text.substr(0, digits));
    int64_t scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
    if (scale == 0) throw bad();
    int64_t seconds = n * scale;
    if (seconds < 1 || seconds > kMaxRuntimeSeconds) throw bad();
    return static_cast<int>(seconds);
}

std::string normalise_cc(const std::string& text, const std::string& what) {
    bool letters = text.size() == 2 && std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return std::isalpha(c);
    });
    if (!letters) throw InputError(what + ": bad country code '" + text + "' (two letters, e.g. KR)");
    std::string cc = text;
    for (char& c : cc) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return cc;
}

std::string normalise_asn(const std::string& text, const std::string& what) {
    std::string digits = text;
    if (digits.size() > 2 && (digits[0] == 'A' || digits[0] == 'a') && (digits[1] == 'S' || digits[1] == 's'))
        digits = digits.substr(2);
    bool numeric = !digits.empty() && digits.size() <= 10 &&
                   std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); });
    if (!numeric || std::stoull(digits) > UINT32_MAX)
        throw InputError(what + ": bad ASN '" + text + "' (e.g. AS4766)");
    return "AS" + std::to_string(std::stoull(digits));
}

void check_upload_url(const std::string& url, const std::string& what) {
    if (url.rfind("https://", 0) == 0 && url.size() > 8) return;
    if (url.rfind("http://", 0) == 0) {
        std::string host = url_host(url);
        bool loopback = host == "localhost" ||
                        (is_ip_literal(host) && special_purpose(host) == std::optional<std::string>("loopback"));
        if (loopback) return;
        throw InputError(what + ": plain http:// only to a loopback collector; use https://");
    }
    throw InputError(what + ": bad upload URL '" + url + "' (must start with https://)");
}

const char* const kOpsUsage =
    "\n"
    "unattended operation (docs/operations.md):\n"
    "  --config PATH           config file (default /etc/meoktong/config.json if it exists);\n"
    "                          options on the command line override it\n"
    "  --max-runtime DURATION  bound on the run: 90, 90s, 20m, 2h\n"
    "  --geoip-db PATH         MaxMind-format database for cc/asn (repeatable: country + ASN)\n"
    "  --upload URL            send finished reports to this collector (https://), queued locally\n"
    "  --log stderr|syslog     where the one-line-per-event logs go (default stderr)\n"
    "  --retention-days N      keep the reports of the last N days in the output directory\n"
    "  --retention-mb N        keep at most N MiB of reports (never today's)\n"
    "  A second run while one is under way (same output directory) exits 0 at once.\n";

namespace {

bool is_ops_option(const std::string& name) {
    static const char* const names[] = {"--config", "--max-runtime", "--geoip-db", "--upload",
                                        "--log", "--retention-days", "--retention-mb"};
    return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

int positive_int(const std::string& option, const std::string& value, int max) {
    bool digits = !value.empty() && value.size() <= 9 &&
                  std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); });
    int n = digits ? std::stoi(value) : 0;
    if (n < 1 || n > max)
        throw InputError("bad " + option + " '" + value + "': expected a number from 1 to " + std::to_string(max));
    return n;
}

void apply_ops_option(OpsArgs& out, const std::string& name, const std::string& value) {
    if (value.empty()) throw InputError("option " + name + " needs a non-empty value");
    RunConfig& o = out.options;
    if (name == "--config") {
        out.config_path = value;
    } else if (name == "--max-runtime") {
        o.max_runtime_s = parse_duration_seconds(value, "bad --max-runtime");
    } else if (name == "--geoip-db") {
        o.geoip_db.push_back(value);
    } else if (name == "--upload") {
        check_upload_url(value, "bad --upload");
        o.upload_url = value;
    } else if (name == "--log") {
        if (value != "stderr" && value != "syslog") throw InputError("bad --log '" + value + "': expected stderr or syslog");
        o.log = value;
    } else if (name == "--retention-days") {
        o.retention_days = positive_int(name, value, 100000);
    } else if (name == "--retention-mb") {
        o.retention_mb = positive_int(name, value, 1 << 30);
    }
}

}  // namespace

OpsArgs take_ops_options(const std::vector<std::string>& args) {
    OpsArgs out;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        auto eq = arg.find('=');
        std::string name = arg.rfind("--", 0) == 0 && eq != std::string::npos ? arg.substr(0, eq) : arg;
        bool inline_value = name.size() != arg.size();
        if (!is_ops_option(name)) {
            out.run_args.push_back(arg);
            // Every other run option but --help takes a value: keep it with its option.
            bool takes_value = arg.rfind("--", 0) == 0 && !inline_value && arg != "--help";
            if (takes_value && i + 1 < args.size()) out.run_args.push_back(args[++i]);
            continue;
        }
        if (!inline_value && i + 1 >= args.size())
            throw InputError("option " + name + " needs a value (see 'meoktong run --help')");
        apply_ops_option(out, name, inline_value ? arg.substr(eq + 1) : args[++i]);
    }
    return out;
}

bool has_option(const std::vector<std::string>& args, const std::string& name) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
        return a == name || a.rfind(name + "=", 0) == 0;
    });
}

std::vector<std::string> config_run_args(const RunConfig& file, const std::vector<std::string>& command_line) {
    std::vector<std::string> args;
    auto add = [&](const std::string& name, const std::optional<std::string>& value) {
        if (value && !has_option(command_line, name)) args.insert(args.end(), {name, *value});
    };
    auto add_each = [&](const std::string& name, const std::vector<std::string>& values) {
        if (has_option(command_line, name)) return;
        for (const auto& v : values) args.insert(args.end(), {name, v});
    };
    if (!has_option(command_line, "--target")) add_each("--list", file.lists);
    add_each("--service", file.services);
    add_each("--resolver", file.resolvers);
    add_each("--routable", file.routable);
    add("--control", file.control_url);
    if (!has_option(command_line, "--control-token")) add("--control-token", resolve_control_token(file));
    add("--ca-file", file.ca_file);
    add("--out", file.out);
    add("--vantage", file.vantage);
    add("--capture", file.capture);
    if (file.concurrency) add("--concurrency", std::to_string(*file.concurrency));
    if (file.timeout_ms) add("--timeout-ms", std::to_string(*file.timeout_ms));
    return args;
}

}  // namespace meoktong
