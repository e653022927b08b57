// Config file parsing and validation (nlohmann/json), the merge with the
// command line, and the shared value checks. See config.hpp.
#include "probe/ops/config.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "meoktong/files.hpp"
#include "meoktong/ipaddr.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "probe/net/dns.hpp"
#include "probe/net/doh.hpp"
#include "probe/ops/upload.hpp"

namespace meoktong {

namespace {

using json = nlohmann::json;

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
            {"doh", [&](const json& v, const std::string& k) { read_doh(v, k); }},
            {"routable", [&](const json& v, const std::string& k) { read_routable(v, k); }},
            {"canaries", [&](const json& v, const std::string& k) { read_canaries(v, k); }},
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
            {"retests", [&](const json& v, const std::string& k) {
                 out_.retests = static_cast<int>(integer_value(v, k, 0, kMaxRetests)); }},
            {"timeout_ms", [&](const json& v, const std::string& k) {
                 out_.timeout_ms = static_cast<int>(integer_value(v, k, 1, kMaxTimeoutMs)); }},
        });
    }

private:
    void read_resolvers(const json& v, const std::string& key) {
        out_.resolvers = string_list(v, key);
        for (const auto& r : out_.resolvers)
            if (!dns::normalise_resolver(r)) fail(key, "'" + r + "' is not IP or IP:PORT");
    }

    void read_doh(const json& v, const std::string& key) {
        out_.doh = string_list(v, key);
        for (const auto& url : out_.doh)
            if (!doh::url_host(url)) fail(key, "'" + url + "' is not an https:// URL");
    }

    void read_routable(const json& v, const std::string& key) {
        out_.routable = string_list(v, key);
        for (const auto& c : out_.routable)
            if (!parse_cidr(c)) fail(key, "'" + c + "' is not a CIDR");
    }

    void read_canaries(const json& v, const std::string& key) {
        out_.canaries = string_list(v, key);
        for (const auto& uri : out_.canaries) {
            try {
                parse_target_uri(uri);
            } catch (const InputError& e) {
                fail(key, e.what());
            }
        }
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
            {"cc", [&](const json& c, const std::string& k) {
                 std::string text = string_value(c, k);
                 out_.cc = parse_country_code(text);
                 if (!out_.cc) fail(k, "bad country code '" + text + "' (two letters, e.g. KR)"); }},
            {"asn", [&](const json& a, const std::string& k) {
                 std::string text = a.is_number_integer() ? std::to_string(integer_value(a, k, 0, UINT32_MAX))
                                                          : string_value(a, k);
                 out_.asn = parse_asn(text);
                 if (!out_.asn) fail(k, "bad ASN '" + text + "' (e.g. AS4766)"); }},
        });
    }

    void read_retention(const json& v, const std::string& key) {
        read_object(object_value(v, key), key, {
            {"days", [&](const json& d, const std::string& k) {
                 out_.retention_days = static_cast<int>(integer_value(d, k, 1, kMaxRetentionDays)); }},
            {"megabytes", [&](const json& m, const std::string& k) {
                 out_.retention_mb = integer_value(m, k, 1, kMaxRetentionMegabytes); }},
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
        if (!is_capture_setting(c)) fail(key, "must be auto, off or an interface name");
        out_.capture = c;
    }

    void read_log(const json& v, const std::string& key) {
        std::string l = string_value(v, key);
        if (!is_log_destination(l)) fail(key, "must be stderr or syslog");
        out_.log = l;
    }

    // Seconds as an integer, or a duration text ("20m").
    void read_max_runtime(const json& v, const std::string& key) {
        if (v.is_number_integer()) {
            out_.max_runtime_s = static_cast<int>(integer_value(v, key, 1, kMaxRuntimeSeconds));
            return;
        }
        std::string text = string_value(v, key);
        auto seconds = parse_duration_seconds(text);
        if (!seconds || *seconds < 1 || *seconds > kMaxRuntimeSeconds)
            fail(key, "bad duration '" + text + "' (e.g. 90, 90s, 20m, 2h; at most 7d)");
        out_.max_runtime_s = static_cast<int>(*seconds);
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
    override_if_given(merged.doh, cli.doh);
    override_if_given(merged.routable, cli.routable);
    override_if_given(merged.canaries, cli.canaries);
    override_if_given(merged.geoip_db, cli.geoip_db);
    override_if_set(merged.control_url, cli.control_url);
    if (cli.control_token || cli.control_token_file) {
        merged.control_token = cli.control_token;
        merged.control_token_file = cli.control_token_file;
    }
    override_if_set(merged.ca_file, cli.ca_file);
    override_if_set(merged.app_roots, cli.app_roots);
    override_if_set(merged.vantage, cli.vantage);
    override_if_set(merged.cc, cli.cc);
    override_if_set(merged.asn, cli.asn);
    override_if_set(merged.out, cli.out);
    override_if_set(merged.capture, cli.capture);
    override_if_set(merged.concurrency, cli.concurrency);
    override_if_set(merged.retests, cli.retests);
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

bool is_capture_setting(const std::string& text) {
    bool iface_chars = std::all_of(text.begin(), text.end(), [](unsigned char ch) {
        return std::isalnum(ch) || ch == '_' || ch == '.' || ch == '-' || ch == ':' || ch == '@';
    });
    return !text.empty() && text.size() <= 15 && iface_chars;
}

bool is_log_destination(const std::string& text) { return text == "stderr" || text == "syslog"; }

void check_upload_url(const std::string& url_or_ooni, const std::string& what) {
    std::string url = url_or_ooni.starts_with(kOoniUploadPrefix) ? url_or_ooni.substr(std::strlen(kOoniUploadPrefix)) : url_or_ooni;
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

}  // namespace meoktong
