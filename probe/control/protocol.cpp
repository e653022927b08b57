// Control protocol wire format: request/reply JSON building, parsing and
// validation. Every parser here reads bytes from the other side of the
// internet and must answer "malformed" instead of throwing or crashing.
#include "probe/control/protocol.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>

#include "meoktong/target.hpp"
#include "meoktong/text.hpp"

namespace meoktong::control {
namespace {

// SAX consumer that only tracks nesting depth and aborts past the limit.
class DepthLimit : public nlohmann::json_sax<json> {
public:
    explicit DepthLimit(int max_depth) : max_depth_(max_depth) {}
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return ++depth_ <= max_depth_; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return --depth_ >= 0; }
    bool start_array(std::size_t) override { return ++depth_ <= max_depth_; }
    bool end_array() override { return --depth_ >= 0; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
    int max_depth_;
    int depth_ = 0;
};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Parses `text` as JSON after the depth check; nullopt when it is not JSON.
std::optional<json> parse_bounded(std::string_view text) {
    if (!json_depth_within(text)) return std::nullopt;
    json doc = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    return doc;
}

bool printable_ascii(const std::string& s, bool allow_space) {
    return std::all_of(s.begin(), s.end(), [&](unsigned char c) { return (c > 0x20 && c < 0x7f) || (allow_space && c == ' '); });
}

// An integer JSON value within [lo, hi]; floats are refused.
bool integer_within(const json& v, int64_t lo, uint64_t hi) {
    if (v.is_number_unsigned()) return v.get<uint64_t>() <= hi;
    if (v.is_number_integer()) {
        auto x = v.get<int64_t>();
        return x >= lo && (x < 0 || static_cast<uint64_t>(x) <= hi);
    }
    return false;
}

std::optional<uint16_t> read_port(const json& item, const std::string& protocol, std::string& error) {
    auto it = item.find("port");
    if (it == item.end() || it->is_null()) {
        if (port_required(protocol)) {
            error = "port is required for " + protocol;
            return std::nullopt;
        }
        return default_port(protocol);
    }
    if (!integer_within(*it, 0, 65535)) {
        error = "port must be an integer 0-65535";
        return std::nullopt;
    }
    auto port = it->get<uint16_t>();
    if (protocol == "dns" && port != 0) {
        error = "dns targets take no port";
        return std::nullopt;
    }
    if (protocol != "dns" && port == 0) {
        error = "port must be 1-65535";
        return std::nullopt;
    }
    return port;
}

std::optional<std::string> read_path(const json& item, const std::string& protocol, std::string& error) {
    auto it = item.find("path");
    if (it == item.end() || it->is_null()) return std::string("/");
    if (!it->is_string()) {
        error = "path must be a string";
        return std::nullopt;
    }
    auto path = it->get<std::string>();
    if (protocol != "http" && protocol != "https") {
        if (path == "/") return path;
        error = "a path is only allowed for http and https";
        return std::nullopt;
    }
    if (path.empty() || path[0] != '/' || path.size() > kMaxPathLength || !printable_ascii(path, false)) {
        error = "path must start with '/' and hold at most 2048 printable characters";
        return std::nullopt;
    }
    return path;
}

// An http(s) URL that parse_target_uri reads, printable and bounded; nullopt
// when it is not one. The URL goes to libcurl as is, so every character of it
// must be one whose meaning both parsers agree on (no spaces, no userinfo:
// '@' is not a host name character).
std::optional<Target> parse_download_url(const std::string& url) {
    if (url.empty() || url.size() > kMaxDownloadUrlLength || !printable_ascii(url, false)) return std::nullopt;
    try {
        Target t = parse_target_uri(url);
        if (t.protocol != "http" && t.protocol != "https") return std::nullopt;
        return t;
    } catch (const InputError&) {
        return std::nullopt;
    }
}

// The optional download_url of a request entry; "" when absent.
std::optional<std::string> read_download_url(const json& item, std::string& error) {
    auto it = item.find("download_url");
    if (it == item.end() || it->is_null()) return std::string();
    if (!it->is_string() || !parse_download_url(it->get<std::string>())) {
        error = "download_url must be an http:// or https:// URL of at most 2048 printable characters";
        return std::nullopt;
    }
    return it->get<std::string>();
}

// The download_url a target carries on the wire: only one the server accepts,
// so a malformed URL in a test list costs its throughput, not the whole batch.
std::string wire_download_url(const Target& t) { return parse_download_url(t.download_url) ? t.download_url : ""; }

// One request entry -> Target, checked with the same rules as target URIs.
std::optional<Target> target_from_wire(const json& item, std::string& error) {
    if (!item.is_object()) {
        error = "must be an object";
        return std::nullopt;
    }
    auto protocol = item.find("protocol");
    if (protocol == item.end() || !protocol->is_string() || !is_known_protocol(protocol->get<std::string>())) {
        error = "protocol must be one of tls, tcp, https, http, dns";
        return std::nullopt;
    }
    auto host = item.find("host");
    if (host == item.end() || !host->is_string() || host->get<std::string>().empty() ||
        host->get<std::string>().size() > 253) {
        error = "host must be a non-empty string of at most 253 characters";
        return std::nullopt;
    }
    Target t;
    t.service = "control";
    t.protocol = protocol->get<std::string>();
    t.host = ascii_lower(host->get<std::string>());
    auto port = read_port(item, t.protocol, error);
    if (!port) return std::nullopt;
    t.port = *port;
    auto path = read_path(item, t.protocol, error);
    if (!path) return std::nullopt;
    t.path = *path;
    auto download_url = read_download_url(item, error);
    if (!download_url) return std::nullopt;
    t.download_url = *download_url;
    try {
        Target canonical = parse_target_uri(target_uri(t));
        if (canonical.host != t.host || canonical.port != t.port || canonical.path != t.path) {
            error = "host is not a valid host name or IP address";
            return std::nullopt;
        }
    } catch (const InputError&) {
        error = "host is not a valid host name or IP address";
        return std::nullopt;
    }
    return t;
}

// Integer fields of the observation records and their ranges. nlohmann's
// get<int>() on a float is a plain static_cast, undefined when out of range,
// so a hostile reply must not get a float (or a huge integer) into them.
const std::map<std::string, std::pair<int64_t, uint64_t>>& integer_fields() {
    static const std::map<std::string, std::pair<int64_t, uint64_t>> fields = {
        {"port", {0, 65535}},
        {"ttl", {0, std::numeric_limits<uint32_t>::max()}},
        {"rcode", {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}},
        {"ip_ttl", {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}},
        {"ip_id", {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}},
        {"status", {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}},
        {"dns_id", {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}},
        {"dns_rcode", {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}},
        {"body_length", {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}},
    };
    return fields;
}

// Checks every number below `j`: integer fields in range, floats finite.
bool numbers_safe(const json& j, std::string& problem) {
    if (j.is_object()) {
        for (const auto& [key, value] : j.items()) {
            if (value.is_null()) continue;
            auto field = integer_fields().find(key);
            if (field != integer_fields().end() && value.is_number() &&
                !integer_within(value, field->second.first, field->second.second)) {
                problem = "'" + key + "' is not an integer in range";
                return false;
            }
            if (!numbers_safe(value, problem)) return false;
        }
        return true;
    }
    if (j.is_array()) {
        for (const auto& value : j)
            if (!numbers_safe(value, problem)) return false;
        return true;
    }
    if (j.is_number_float() && !std::isfinite(j.get<double>())) {
        problem = "a number is not finite";
        return false;
    }
    return true;
}

bool target_matches(const json& echoed, const Target& asked) {
    if (!echoed.is_object()) return false;
    auto host = echoed.find("host");
    auto port = echoed.find("port");
    auto protocol = echoed.find("protocol");
    if (host == echoed.end() || !host->is_string() || !ascii_iequals(host->get<std::string>(), asked.host))
        return false;
    if (protocol == echoed.end() || !protocol->is_string() || protocol->get<std::string>() != asked.protocol)
        return false;
    if (port == echoed.end() || !integer_within(*port, 0, 65535) || port->get<uint16_t>() != asked.port) return false;
    auto download_url = echoed.find("download_url");
    if (download_url != echoed.end() && !download_url->is_null() &&
        (!download_url->is_string() || download_url->get<std::string>() != wire_download_url(asked)))
        return false;
    return true;
}

// Reads one result entry; returns a problem description, or "" when valid.
std::string read_result(const json& item, const Target& asked, ControlResult& out) {
    if (!item.is_object()) return "a result is not an object";
    auto target = item.find("target");
    if (target == item.end() || !target_matches(*target, asked)) return "a result's target does not match the request";
    auto failure = item.find("failure");
    if (failure != item.end() && !failure->is_null()) {
        if (!failure->is_string()) return "a result's failure is not a string";
        auto text = failure->get<std::string>();
        if (text.empty() || text.size() > kMaxFailureLength || !printable_ascii(text, true))
            return "a result's failure is not a short printable string";
        out.failure = text;
    }
    auto observations = item.find("observations");
    if (observations == item.end() || !observations->is_object()) return "a result has no observations object";
    std::string problem;
    if (!numbers_safe(*observations, problem)) return problem;
    try {
        out.observations = observations->get<Observations>();
    } catch (const json::exception&) {
        return "a result's observations have the wrong shape";
    }
    out.observations.packets.clear();  // the control protocol carries no packets
    out.requested = true;
    return "";
}

}  // namespace

bool json_depth_within(std::string_view text, int max_depth) {
    DepthLimit sax(max_depth);
    return json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json, true);
}

json target_wire_json(const Target& t) {
    json j = {{"host", t.host}, {"port", t.port}, {"protocol", t.protocol}};
    if (t.protocol == "http" || t.protocol == "https") j["path"] = t.path.empty() ? "/" : t.path;
    if (auto download_url = wire_download_url(t); !download_url.empty()) j["download_url"] = download_url;
    return j;
}

std::optional<std::string> download_url_host(const std::string& url) {
    auto t = parse_download_url(url);
    if (!t) return std::nullopt;
    return t->host;
}

std::string measure_request_body(const std::vector<Target>& targets) {
    json list = json::array();
    for (const auto& t : targets) list.push_back(target_wire_json(t));
    return dump(json{{"targets", list}});
}

RequestParse parse_measure_request(std::string_view body, size_t max_targets) {
    RequestParse r;
    auto fail = [&r](int status, std::string message) {
        r.status = status;
        r.error = std::move(message);
        r.targets.clear();
        return r;
    };
    auto doc = parse_bounded(body);
    if (!doc) return fail(400, "body is not JSON (or nests too deep)");
    if (!doc->is_object()) return fail(400, "body must be a JSON object");
    auto list = doc->find("targets");
    if (list == doc->end() || !list->is_array()) return fail(400, "'targets' must be an array");
    if (list->empty()) return fail(400, "'targets' is empty");
    if (list->size() > max_targets)
        return fail(413, "too many targets: " + std::to_string(list->size()) + " (limit " +
                             std::to_string(max_targets) + ")");
    for (size_t i = 0; i < list->size(); ++i) {
        std::string error;
        auto t = target_from_wire((*list)[i], error);
        if (!t) return fail(400, "targets[" + std::to_string(i) + "]: " + error);
        r.targets.push_back(std::move(*t));
    }
    return r;
}

std::string measure_reply_body(const std::vector<ServerResult>& results, const std::string& client_address) {
    json list = json::array();
    for (const auto& r : results) {
        json item = {{"target", target_wire_json(r.target)}, {"observations", control_observations_json(r.observations)}};
        if (r.failure) item["failure"] = *r.failure;
        list.push_back(std::move(item));
    }
    json reply = {{"results", list}};
    if (!client_address.empty()) reply["client_address"] = client_address;
    return dump(reply);
}

std::vector<ControlResult> failed_results(size_t n, const std::string& failure) {
    std::vector<ControlResult> out(n);
    for (auto& r : out) {
        r.requested = true;
        r.failure = failure;
    }
    return out;
}

std::vector<ControlResult> parse_measure_reply(std::string_view body, const std::vector<Target>& targets,
                                               std::string* client_address) {
    auto bad = [&](const std::string& problem) { return failed_results(targets.size(), kBadReplyPrefix + problem); };
    auto doc = parse_bounded(body);
    if (!doc) return bad("not JSON");
    if (!doc->is_object()) return bad("not a JSON object");
    auto list = doc->find("results");
    if (list == doc->end() || !list->is_array()) return bad("no 'results' array");
    if (list->size() != targets.size())
        return bad(std::to_string(list->size()) + " results for " + std::to_string(targets.size()) + " targets");
    std::vector<ControlResult> out(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
        auto problem = read_result((*list)[i], targets[i], out[i]);
        if (!problem.empty()) return bad("results[" + std::to_string(i) + "]: " + problem);
    }
    auto seen_as = doc->find("client_address");
    if (client_address && seen_as != doc->end() && seen_as->is_string() && is_ip_literal(seen_as->get<std::string>()))
        *client_address = seen_as->get<std::string>();
    return out;
}

}  // namespace meoktong::control
