// OONI measurements as meoktong records (ooni.hpp, docs/ooni.md): the
// measurement's observations are read from simdjson's DOM into our record
// types, grouped by the endpoint they belong to, and judged by the verdict
// engine; OONI's own blocking keys are kept beside our verdict.
#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include <openssl/evp.h>

#include "analysis/analyze/json_dom.hpp"
#include "analysis/analyze/ooni.hpp"
#include "analysis/verdict/verdict.hpp"
#include "meoktong/failure.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/record_json.hpp"
#include "meoktong/target.hpp"
#include "meoktong/text.hpp"

namespace meoktong::analyze {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr size_t kMaxText = 300;        // names, URLs, header values
constexpr size_t kExcerptBytes = 2048;  // body excerpt kept for blockpage fingerprints, as the probe keeps
constexpr size_t kMaxEndpoints = 256;   // one measurement never makes more records than this

const char* const kMessengerTests[] = {"whatsapp", "telegram", "signal", "facebook_messenger"};

// OONI's blocking keys of each test (ts-017..020, ts-029), kept in Record::ooni.
bool is_blocking_key(std::string_view test, std::string_view key) {
    static const std::map<std::string_view, std::vector<std::string_view>> keys = {
        {"whatsapp",
         {"registration_server_status", "registration_server_failure", "whatsapp_endpoints_status",
          "whatsapp_endpoints_blocked", "whatsapp_web_status", "whatsapp_web_failure"}},
        {"telegram", {"telegram_tcp_blocking", "telegram_http_blocking", "telegram_web_status", "telegram_web_failure"}},
        {"signal", {"signal_backend_status", "signal_backend_failure"}},
        {"web_connectivity",
         {"blocking", "accessible", "dns_consistency", "dns_experiment_failure", "http_experiment_failure",
          "control_failure", "body_length_match", "status_code_match", "headers_match", "title_match"}},
        {"meoktong", {"meoktong"}},
    };
    if (test == "facebook_messenger") return key.substr(0, 9) == "facebook_" || key.substr(0, 9) == "facebook-";
    auto it = keys.find(test);
    return it != keys.end() && std::find(it->second.begin(), it->second.end(), key) != it->second.end();
}

std::string_view string_of(const object& o, const char* key) {
    std::string_view v;
    return o[key].get(v) == simdjson::SUCCESS ? v : std::string_view();
}

double number_of(const object& o, const char* key, double fallback = 0) {
    element e;
    if (o[key].get(e) != simdjson::SUCCESS) return fallback;
    double d;
    if (e.get(d) == simdjson::SUCCESS) return d;  // simdjson converts int64/uint64 too
    return fallback;
}

// Calls f with each element of the array at o[key] (none when it is not one).
template <typename F>
void for_each_in(const object& o, const char* key, F&& f) {
    array a;
    if (o[key].get(a) != simdjson::SUCCESS) return;
    for (element e : a) f(e);
}

// A bounded copy that never splits a UTF-8 sequence.
std::string text(std::string_view v, size_t max = kMaxText) {
    std::string s(v.substr(0, std::min(v.size(), max + 4)));
    cut_utf8(s, max);
    return s;
}

// Seconds since the measurement start, as our milliseconds.
double ms_of(double seconds) { return std::isfinite(seconds) ? std::round(seconds * 1e6) / 1e3 : 0; }

// OONI's failure strings (df-007) in our vocabulary: OONI's names are ours
// where they exist; the few aliases below map older or platform names.
std::string failure_name(std::string_view ooni) {
    static const char* const ours[] = {
        failure::kConnectionRefused, failure::kConnectionReset,      failure::kTimeout,
        failure::kDnsNxdomain,       failure::kDnsServfail,          failure::kDnsRefused,
        failure::kDnsNoAnswer,       failure::kDnsBogusReply,        failure::kEof,
        failure::kSslInvalidHostname, failure::kSslUnknownAuthority, failure::kSslInvalidCertificate,
        failure::kSslFailedHandshake, failure::kHostUnreachable,     failure::kNetworkUnreachable};
    for (const char* name : ours)
        if (ooni == name) return name;
    static const std::pair<std::string_view, const char*> aliases[] = {
        {"dns_name_error", failure::kDnsNxdomain},          {"dns_server_failure", failure::kDnsServfail},
        {"android_dns_cache_no_data", failure::kDnsNoAnswer}, {"connection_refused_error", failure::kConnectionRefused},
        {"connection_reset_error", failure::kConnectionReset}, {"connection_already_closed", failure::kEof},
        {"eof", failure::kEof},                               {"response_never_received", failure::kTimeout}};
    for (const auto& alias : aliases)
        if (ooni == alias.first) return alias.second;
    if (ooni.substr(0, 9) == "ssl_error")
        return ooni.find("certificate verify failed") != std::string_view::npos ? failure::kSslInvalidCertificate
                                                                               : failure::kSslFailedHandshake;
    return failure::kUnknownPrefix + text(ooni, 200);
}

// A failure field: null, false or absent is success; a string is a failure.
std::optional<std::string> failure_at(const object& o, const char* key, std::string& raw) {
    std::string_view s;
    if (o[key].get(s) != simdjson::SUCCESS) return std::nullopt;
    raw = text(s, 200);
    return failure_name(s);
}

// What one measurement says, read once; every record of it is built from this.
struct Measurement {
    std::string test_name, probe_ip;
    std::vector<DnsObservation> dns;
    std::vector<TcpObservation> tcp;
    std::vector<TlsObservation> tls;
    std::vector<HttpObservation> http;
    std::vector<std::string> http_hosts;  // the host of each http[i]'s URL
    std::vector<uint16_t> http_ports;
    std::unordered_map<std::string, std::vector<std::string>> names_of_ip;  // each answered address: the names it answered

    bool answers_name(const std::string& host, const std::string& ip) const {
        auto it = names_of_ip.find(ip);
        return it != names_of_ip.end() && std::find(it->second.begin(), it->second.end(), host) != it->second.end();
    }

    // The probe's IP in any copied text becomes "[scrubbed]" (127.0.0.1 is
    // OONI's placeholder for "not shared"). Over-scrubbing is harmless.
    void scrub(std::string& s) const {
        if (probe_ip.empty() || probe_ip == "127.0.0.1") return;
        for (size_t at = s.find(probe_ip); at != std::string::npos; at = s.find(probe_ip, at + 10))
            s.replace(at, probe_ip.size(), "[scrubbed]");
    }
};

void read_queries(const object& keys, Measurement& m) {
    for_each_in(keys, "queries", [&](element e) {
        object q;
        if (e.get(q) != simdjson::SUCCESS) return;
        DnsObservation d;
        d.hostname = text(string_of(q, "hostname"));
        d.query_type = text(string_of(q, "query_type"), 16);
        std::string_view engine = string_of(q, "engine"), address = string_of(q, "resolver_address");
        bool system = address.empty() || engine == "system" || engine == "getaddrinfo";
        d.resolver = system ? "system" : text(address);
        if (!system) d.resolver_address = d.resolver;
        d.failure = failure_at(q, "failure", d.raw_error);
        d.t_ms = ms_of(number_of(q, "t"));
        d.t0_ms = ms_of(number_of(q, "t0", d.t_ms / 1e3));
        for_each_in(q, "answers", [&](element ae) {
            object a;
            if (ae.get(a) != simdjson::SUCCESS) return;
            DnsAnswer answer;
            answer.type = text(string_of(a, "answer_type"), 16);
            answer.value = text(answer.type == "A" ? string_of(a, "ipv4")
                                : answer.type == "AAAA" ? string_of(a, "ipv6")
                                                        : string_of(a, "hostname"));
            double ttl = number_of(a, "ttl", 0);
            answer.ttl = ttl > 0 && ttl < 4294967296.0 ? uint32_t(ttl) : 0;
            m.scrub(answer.value);
            if (answer.value.empty()) return;
            auto& names = m.names_of_ip[answer.value];
            if (std::find(names.begin(), names.end(), d.hostname) == names.end()) names.push_back(d.hostname);
            d.answers.push_back(std::move(answer));
        });
        m.dns.push_back(std::move(d));
    });
}

void read_tcp(const object& keys, Measurement& m) {
    for_each_in(keys, "tcp_connect", [&](element e) {
        object c;
        if (e.get(c) != simdjson::SUCCESS) return;
        TcpObservation t;
        t.ip = text(string_of(c, "ip"), 64);
        double port = number_of(c, "port", 0);
        t.port = port > 0 && port < 65536 ? uint16_t(port) : 0;
        object status;
        if (c["status"].get(status) == simdjson::SUCCESS) {
            t.failure = failure_at(status, "failure", t.raw_error);
            bool success = false;
            if (!t.failure && status["success"].get(success) == simdjson::SUCCESS && !success)
                t.failure = failure::kUnknownPrefix + std::string("connect did not succeed");
        }
        t.t_ms = ms_of(number_of(c, "t"));
        t.t0_ms = ms_of(number_of(c, "t0", t.t_ms / 1e3));
        m.scrub(t.ip);
        if (!t.ip.empty()) m.tcp.push_back(std::move(t));
    });
}

void read_tls(const object& keys, Measurement& m) {
    for_each_in(keys, "tls_handshakes", [&](element e) {
        object h;
        if (e.get(h) != simdjson::SUCCESS) return;
        TlsObservation t;
        if (auto hp = split_host_port(string_of(h, "address"))) {
            t.ip = text(hp->host, 64);
            t.port = hp->port.value_or(443);
        } else {
            t.port = 443;  // OONI's older handshakes name no address; the ip is inferred from tcp_connect
        }
        t.sni = text(string_of(h, "server_name"));
        t.failure = failure_at(h, "failure", t.raw_error);
        t.tls_version = text(string_of(h, "tls_version"), 32);
        t.cipher = text(string_of(h, "cipher_suite"), 64);
        bool no_verify = false;
        if (h["no_tls_verify"].get(no_verify) != simdjson::SUCCESS) no_verify = false;
        t.certificate_valid = !t.failure && !no_verify;  // OONI verifies chain and name unless told not to
        t.t_ms = ms_of(number_of(h, "t"));
        t.t0_ms = ms_of(number_of(h, "t0", t.t_ms / 1e3));
        m.scrub(t.ip);
        m.tls.push_back(std::move(t));
    });
}

// The '=' padding at the end of base64 text (0, 1 or 2).
size_t base64_padding(std::string_view data) {
    return data.size() >= 2 ? size_t(data[data.size() - 1] == '=') + size_t(data[data.size() - 2] == '=') : 0;
}

// The first bytes (about `max`) of a base64 body or header value, OONI's
// {"format": "base64", "data": ...} for what is not UTF-8 (df-001), decoded
// by OpenSSL, then as UTF-8 text: each invalid byte becomes U+FFFD (nlohmann's
// replacing serializer), cut to `max` bytes. Only the prefix kept is decoded;
// empty when `data` is not base64.
std::string base64_text(std::string_view data, size_t max) {
    size_t chars = std::min(data.size(), (max + 2) / 3 * 4) / 4 * 4;
    std::string bytes(chars / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                            reinterpret_cast<const unsigned char*>(data.data()), int(chars));
    if (n < 0) return "";
    size_t padding = chars == data.size() ? base64_padding(data) : 0;  // EVP_DecodeBlock counts it as bytes
    bytes.resize(size_t(n) - std::min(size_t(n), padding));
    std::string out = json::parse(json(bytes).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
    cut_utf8(out, max);
    return out;
}

// A header value: a string, or OONI's {"format": "base64", "data": ...} for
// one that is not UTF-8; false when it is neither.
bool header_value(element e, std::string& out) {
    std::string_view value;
    object wrapped;
    if (e.get(value) == simdjson::SUCCESS) {
        out = text(value);
    } else if (e.get(wrapped) == simdjson::SUCCESS) {
        out = base64_text(string_of(wrapped, "data"), kMaxText);
    } else {
        return false;
    }
    return true;
}

// The headers with scrubbed values: `headers_list` ([[name, value], ...]),
// else the `headers` object older probes wrote ({name: value}).
std::vector<std::pair<std::string, std::string>> headers_of(const object& part, const Measurement& m) {
    std::vector<std::pair<std::string, std::string>> out;
    auto add = [&](std::string_view name, element value) {
        std::string v;
        if (out.size() == 64 || !header_value(value, v)) return;
        m.scrub(v);
        out.emplace_back(text(name, 100), std::move(v));
    };
    array list;
    object headers;
    if (part["headers_list"].get(list) == simdjson::SUCCESS) {
        for (element e : list) {
            array pair;
            std::string_view name;
            if (e.get(pair) == simdjson::SUCCESS && pair.size() == 2 && pair.at(0).get(name) == simdjson::SUCCESS)
                add(name, pair.at(1));
        }
    } else if (part["headers"].get(headers) == simdjson::SUCCESS) {
        for (auto field : headers) add(field.key, field.value);
    }
    return out;
}

void read_requests(const object& keys, Measurement& m) {
    for_each_in(keys, "requests", [&](element e) {
        object r;
        if (e.get(r) != simdjson::SUCCESS) return;
        object request, response;
        if (r["request"].get(request) != simdjson::SUCCESS) return;
        HttpObservation h;
        std::string url = text(string_of(request, "url"), 2000);
        if (url.empty()) {  // telegram's POSTs to data-centre addresses name only a Host header
            for (const auto& header : headers_of(request, m))
                if (ascii_iequals(header.first, "host")) url = "http://" + header.second + "/";
        }
        Target parsed;
        try {
            parsed = parse_target_uri(url);
        } catch (const InputError&) {
            return;  // not an http(s) URL meoktong can name an endpoint by
        }
        if (parsed.protocol != "http" && parsed.protocol != "https") return;
        h.url = url;
        m.scrub(h.url);
        h.port = parsed.port;
        h.failure = failure_at(r, "failure", h.raw_error);
        if (r["response"].get(response) == simdjson::SUCCESS) {
            double code = number_of(response, "code", 0);
            h.status = code > 0 && code < 1000 ? int(code) : 0;
            h.headers = headers_of(response, m);
            if (response["body_is_truncated"].get(h.body_truncated) != simdjson::SUCCESS) h.body_truncated = false;
            std::string_view body;
            object wrapped;
            if (response["body"].get(body) == simdjson::SUCCESS) {
                h.body_length = int64_t(body.size());
                h.body_excerpt = text(body, kExcerptBytes);
                m.scrub(h.body_excerpt);
            } else if (response["body"].get(wrapped) == simdjson::SUCCESS) {
                std::string_view data = string_of(wrapped, "data");
                h.body_length = int64_t(data.size() / 4 * 3) - int64_t(base64_padding(data));
                h.body_excerpt = base64_text(data, kExcerptBytes);
                m.scrub(h.body_excerpt);
            }
        }
        h.t_ms = ms_of(number_of(r, "t"));
        h.t0_ms = ms_of(number_of(r, "t0", h.t_ms / 1e3));
        m.http.push_back(std::move(h));
        m.http_hosts.push_back(parsed.host);
        m.http_ports.push_back(parsed.port);
    });
}

// ---- endpoints --------------------------------------------------------------

// The observations of one endpoint (host, port): DNS of the host, TCP to its
// addresses at the port, TLS with its SNI at the port, HTTP to its URLs at
// the port (at any port with `any_http_port`: web_connectivity follows the
// host's redirects, http to https). TLS handshakes and HTTP requests without
// an address get the address the same host's connections used (OONI did not
// record it).
Observations observations_for(const Measurement& m, const std::string& host, uint16_t port, bool any_http_port) {
    Observations o;
    bool literal = is_ip_literal(host);
    for (const auto& d : m.dns)
        if (d.hostname == host) o.dns.push_back(d);
    for (const auto& t : m.tcp)
        if (t.port == port && (literal ? t.ip == host : m.answers_name(host, t.ip))) o.tcp.push_back(t);
    std::string connected;
    for (const auto& t : o.tcp)
        if (!t.failure) {
            connected = t.ip;
            break;
        }
    if (connected.empty() && !o.tcp.empty()) connected = o.tcp.front().ip;
    if (connected.empty() && literal) connected = host;
    for (const auto& t : m.tls)
        if (t.port == port && (t.sni == host || (t.sni.empty() && t.ip == host))) {
            o.tls.push_back(t);
            if (o.tls.back().ip.empty()) o.tls.back().ip = connected;
        }
    for (size_t i = 0; i < m.http.size(); ++i)
        if (m.http_hosts[i] == host && (any_http_port || m.http_ports[i] == port)) {
            o.http.push_back(m.http[i]);
            HttpObservation& h = o.http.back();
            h.ip = !o.tls.empty() && h.url.rfind("https:", 0) == 0 ? o.tls.front().ip : connected;
        }
    return o;
}

struct EndpointKey {
    std::string host;
    uint16_t port = 0;
    std::string protocol;
    bool operator==(const EndpointKey&) const = default;
};

void add_endpoint(std::vector<EndpointKey>& list, EndpointKey key) {
    if (key.host.empty() || list.size() >= kMaxEndpoints) return;
    for (const auto& k : list)
        if (k.host == key.host && k.port == key.port) return;
    list.push_back(std::move(key));
}

// A messenger test's endpoints are what its app connects to: TLS where OONI
// shook hands or fetched https (the page fetched is `/` of an API host, whose
// status, like OONI, we do not judge), TCP elsewhere. Names OONI only
// resolved are not endpoints (nothing connects to them: Signal's
// uptime.signal.org answers 127.0.0.1 by design, Facebook's STUN name is UDP).
std::vector<EndpointKey> messenger_endpoints(const Measurement& m) {
    std::vector<EndpointKey> list;
    for (const auto& t : m.tls) add_endpoint(list, {t.sni.empty() ? t.ip : t.sni, t.port, "tls"});
    for (size_t i = 0; i < m.http.size(); ++i)
        add_endpoint(list, {m.http_hosts[i], m.http_ports[i], m.http[i].url.rfind("https:", 0) == 0 ? "tls" : "tcp"});
    for (const auto& t : m.tcp) {
        auto names = m.names_of_ip.find(t.ip);
        if (names == m.names_of_ip.end()) {
            add_endpoint(list, {t.ip, t.port, "tcp"});
            continue;
        }
        for (const std::string& name : names->second) {
            bool elsewhere = std::any_of(list.begin(), list.end(), [&](const EndpointKey& k) {
                return k.host == name && k.protocol == "tls";
            });
            if (!elsewhere) add_endpoint(list, {name, t.port, "tcp"});
        }
    }
    return list;
}

// web_connectivity's control (the test helper's view, ts-017) in our control
// shape: its DNS answers, its TCP connects, and its HTTP fetch. The helper
// fetched https URLs with a verified certificate, so an https fetch that
// succeeded is also a TLS handshake that did.
ControlResult web_control(const object& keys, const Measurement& m, const Target& target) {
    ControlResult c;
    c.requested = true;
    std::string raw;
    c.failure = failure_at(keys, "control_failure", raw);
    object control;
    if (c.failure || keys["control"].get(control) != simdjson::SUCCESS) {
        if (!c.failure) c.failure = "no control in the measurement";
        return c;
    }
    object part;
    if (control["dns"].get(part) == simdjson::SUCCESS) {
        DnsObservation d;
        d.resolver = "control";
        d.hostname = target.host;
        d.query_type = "A";
        d.failure = failure_at(part, "failure", d.raw_error);
        for_each_in(part, "addrs", [&](element e) {
            std::string_view addr;
            if (e.get(addr) != simdjson::SUCCESS) return;
            std::string value = text(addr, 64);
            m.scrub(value);
            d.answers.push_back({is_ip_literal(value) ? (value.find(':') != std::string::npos ? "AAAA" : "A") : "CNAME", value, 0});
        });
        c.observations.dns.push_back(std::move(d));
    }
    std::string connected;
    if (control["tcp_connect"].get(part) == simdjson::SUCCESS) {
        for (auto field : part) {
            object entry;
            auto hp = split_host_port(field.key);
            if (!hp || !hp->port || field.value.get(entry) != simdjson::SUCCESS) continue;
            TcpObservation t;
            t.ip = text(hp->host, 64);
            t.port = *hp->port;
            m.scrub(t.ip);
            t.failure = failure_at(entry, "failure", t.raw_error);
            bool ok = false;
            if (!t.failure && entry["status"].get(ok) == simdjson::SUCCESS && !ok)
                t.failure = failure::kUnknownPrefix + std::string("connect did not succeed");
            if (!t.failure && t.port == target.port && connected.empty()) connected = t.ip;
            c.observations.tcp.push_back(std::move(t));
        }
    }
    if (control["http_request"].get(part) == simdjson::SUCCESS) {
        HttpObservation h;
        h.url = text(m.http.empty() ? std::string_view(target_uri(target)) : std::string_view(m.http.front().url), 2000);
        h.ip = connected;
        h.port = target.port;
        h.failure = failure_at(part, "failure", h.raw_error);
        double code = number_of(part, "status_code", 0);
        h.status = code > 0 && code < 1000 ? int(code) : 0;
        double length = number_of(part, "body_length", 0);
        h.body_length = length > 0 && length < 1e15 ? int64_t(length) : 0;
        h.title = text(string_of(part, "title"));
        m.scrub(h.title);
        if (!h.failure && h.status > 0 && target.protocol == "https" && !connected.empty()) {
            TlsObservation t;
            t.ip = connected;
            t.port = target.port;
            t.sni = target.host;
            t.certificate_valid = true;
            c.observations.tls.push_back(std::move(t));
        }
        if (h.failure || h.status > 0) c.observations.http.push_back(std::move(h));
    }
    return c;
}

// OONI's blocking keys of the test, as one JSON object.
std::string blocking_json(const object& keys, std::string_view test) {
    json out = json::object();
    for (auto field : keys)
        if (is_blocking_key(test, field.key)) out[std::string(field.key)] = json::parse(simdjson::minify(field.value));
    return out.dump();
}

}  // namespace

bool ooni_records(const object& root, std::vector<Record>& out, std::string& why) {
    out.clear();
    Measurement m;
    m.test_name = text(string_of(root, "test_name"), 64);
    bool messenger = std::find(std::begin(kMessengerTests), std::end(kMessengerTests), m.test_name) != std::end(kMessengerTests);
    bool web = m.test_name == "web_connectivity";
    bool ours = m.test_name == "meoktong";
    if (!messenger && !web && !ours) {
        why = "OONI test '" + m.test_name + "' is not read (only whatsapp, telegram, signal, facebook_messenger, web_connectivity)";
        return false;
    }
    object keys;
    if (root["test_keys"].get(keys) != simdjson::SUCCESS) {
        why = "OONI measurement without test_keys";
        return false;
    }
    std::string started = text(string_of(root, "measurement_start_time"), 64);
    if (started.size() >= 19 && started[10] == ' ') started[10] = 'T';
    if (started.size() == 19) started += ".000Z";
    if (!parse_utc_time(started)) {
        why = "OONI measurement without a valid measurement_start_time";
        return false;
    }
    m.probe_ip = text(string_of(root, "probe_ip"), 64);
    read_queries(keys, m);
    read_tcp(keys, m);
    read_tls(keys, m);
    read_requests(keys, m);

    OoniOrigin origin;
    origin.test_name = m.test_name;
    origin.test_version = text(string_of(root, "test_version"), 32);
    origin.report_id = text(string_of(root, "report_id"));
    origin.measurement_uid = text(!string_of(root, "measurement_uid").empty() ? string_of(root, "measurement_uid")
                                                                              : string_of(root, "id"));
    origin.input = text(string_of(root, "input"), 2000);
    m.scrub(origin.input);
    origin.blocking_json = blocking_json(keys, m.test_name);
    std::string measurement_id = !origin.measurement_uid.empty() ? origin.measurement_uid
                                 : origin.input.empty()           ? origin.report_id
                                                                  : origin.report_id + " " + origin.input;

    Record base;
    base.run_id = measurement_id;
    base.software_name = text(string_of(root, "software_name"), 64);
    base.software_version = text(string_of(root, "software_version"), 64);
    base.software_commit.clear();
    base.software_build_date.clear();
    base.vantage.cc = text(string_of(root, "probe_cc"), 8);
    base.vantage.asn = text(string_of(root, "probe_asn"), 16);
    if (base.vantage.cc.empty()) base.vantage.cc = "ZZ";
    if (base.vantage.asn.empty()) base.vantage.asn = "AS0";
    base.vantage.label = "ooni-" + base.vantage.cc + "-" + base.vantage.asn;
    base.started_at = started;
    base.runtime_ms = int64_t(ms_of(number_of(root, "test_runtime")));
    base.source = "ooni";
    base.ooni = origin;

    std::vector<EndpointKey> endpoints;
    std::optional<Record> embedded;  // a measurement meoktong exported: its target and verdict
    if (messenger) {
        endpoints = messenger_endpoints(m);
    } else if (web || ours) {
        Target t;
        try {
            if (ours) {
                element e;
                if (keys["meoktong"].get(e) != simdjson::SUCCESS) throw InputError("no meoktong test keys");
                embedded = json::parse(simdjson::minify(e)).get<Record>();
                t = embedded->target;
            } else {
                t = parse_target_uri(origin.input);
            }
        } catch (const std::exception&) {
            why = ours ? "meoktong test keys are not a record" : "web_connectivity input is not an http(s) URL";
            return false;
        }
        endpoints.push_back({t.host, t.port, t.protocol});
        base.target = t;
    }
    if (endpoints.empty()) {
        why = "OONI " + m.test_name + " measurement names no endpoint";
        return false;
    }
    if (embedded) {  // our own record coming back: as it was, with the observations read above
        Record& r = out.emplace_back(std::move(*embedded));
        r.observations.dns = std::move(m.dns);
        r.observations.tcp = std::move(m.tcp);
        r.observations.tls = std::move(m.tls);
        r.observations.http = std::move(m.http);
        return true;
    }
    for (size_t i = 0; i < endpoints.size(); ++i) {
        Record r = base;
        r.id = measurement_id + "#" + std::to_string(i + 1);
        if (messenger) {
            r.target = Target{};
            r.target.service = m.test_name;
            r.target.host = endpoints[i].host;
            r.target.port = endpoints[i].port;
            r.target.protocol = endpoints[i].protocol;
        } else if (web) {
            r.target.service = r.target.host;
        }
        r.observations = observations_for(m, endpoints[i].host, endpoints[i].port, web);
        if (web) r.control = web_control(keys, m, r.target);
        r.verdict = decide_verdict(r);
        if (messenger)
            r.verdict.evidence.push_back("OONI's " + m.test_name +
                                         " test measures without a control vantage: this verdict rests on this vantage's observations alone");
        out.push_back(std::move(r));
    }
    return true;
}

bool read_ooni_measurement(std::string_view json_text, std::vector<Record>& out, std::string& why) {
    out.clear();
    object root;
    if (!parse_json_object(json_text, root, why)) return false;
    if (!is_ooni_measurement(root)) {
        why = "not an OONI measurement (no test_name and test_keys)";
        return false;
    }
    return ooni_records(root, out, why);
}

}  // namespace meoktong::analyze
