// JSON mapping of record.hpp, keys as in SPEC §4. Pure; no I/O.
#include "meoktong/record_json.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace meoktong {
namespace {

json opt_string(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

std::optional<std::string> read_opt_string(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    return it->get<std::string>();
}

// nlohmann's get<int>() on a float or an oversized integer is a plain
// static_cast, undefined behaviour when the value does not fit. Records come
// from anywhere (analyze reads other people's reports), so numbers are range
// checked here and an out-of-range value makes the record malformed.
template <typename T>
T checked_number(const json& v, const char* key) {
    if (!v.is_number()) return v.get<T>();  // throws type_error for non-numbers
    if constexpr (std::is_floating_point_v<T>) {
        return v.get<T>();
    } else {
        bool fits = false;
        if (v.is_number_unsigned())
            fits = v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
        else if (v.is_number_integer())
            fits = v.get<int64_t>() >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                   (v.get<int64_t>() < 0 || static_cast<uint64_t>(v.get<int64_t>()) <=
                                                static_cast<uint64_t>(std::numeric_limits<T>::max()));
        else {
            double d = v.get<double>();
            fits = std::isfinite(d) && d >= static_cast<double>(std::numeric_limits<T>::min()) &&
                   d < std::ldexp(1.0, std::numeric_limits<T>::digits);
        }
        if (!fits) throw json::out_of_range::create(406, std::string("'") + key + "' is out of range", &v);
        return v.is_number_float() ? static_cast<T>(v.get<double>()) : v.get<T>();
    }
}

template <typename T>
void read(const json& j, const char* key, T& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
        out = checked_number<T>(*it, key);
    else
        out = it->get<T>();
}

void timing_to(json& j, const Timing& t) {
    j["t0_ms"] = t.t0_ms;
    j["t_ms"] = t.t_ms;
}
void timing_from(const json& j, Timing& t) {
    read(j, "t0_ms", t.t0_ms);
    read(j, "t_ms", t.t_ms);
}

}  // namespace

const char* verdict_status_name(VerdictStatus status) {
    static const char* const names[kVerdictStatusCount] = {"accessible", "blocked", "provider_down", "local_failure",
                                                           "inconclusive"};
    return names[static_cast<int>(status)];
}

std::optional<VerdictStatus> parse_verdict_status(std::string_view name) {
    for (int i = 0; i < kVerdictStatusCount; ++i)
        if (name == verdict_status_name(VerdictStatus(i))) return VerdictStatus(i);
    return std::nullopt;
}

void to_json(json& j, const Target& v) {
    j = json{{"service", v.service}, {"host", v.host}, {"port", v.port}, {"protocol", v.protocol}};
    if (v.protocol == "https" || v.protocol == "http") j["path"] = v.path;
    if (!v.role.empty()) j["role"] = v.role;
    if (!v.cert_names.empty()) j["cert_names"] = v.cert_names;
    if (!v.download_url.empty()) j["download_url"] = v.download_url;
    if (v.canary) j["canary"] = true;
}
void from_json(const json& j, Target& v) {
    read(j, "service", v.service);
    read(j, "host", v.host);
    read(j, "port", v.port);
    read(j, "protocol", v.protocol);
    read(j, "path", v.path);
    read(j, "role", v.role);
    read(j, "cert_names", v.cert_names);
    read(j, "download_url", v.download_url);
    read(j, "canary", v.canary);
}

void to_json(json& j, const DnsAnswer& v) { j = json{{"type", v.type}, {"value", v.value}, {"ttl", v.ttl}}; }
void from_json(const json& j, DnsAnswer& v) {
    read(j, "type", v.type);
    read(j, "value", v.value);
    read(j, "ttl", v.ttl);
}

void to_json(json& j, const DnsResponse& v) {
    j = json{{"t_ms", v.t_ms}, {"rcode", v.rcode}, {"ip_ttl", v.ip_ttl}, {"answers", v.answers}};
}
void from_json(const json& j, DnsResponse& v) {
    read(j, "t_ms", v.t_ms);
    read(j, "rcode", v.rcode);
    read(j, "ip_ttl", v.ip_ttl);
    read(j, "answers", v.answers);
}

void to_json(json& j, const DnsObservation& v) {
    j = json{{"resolver", v.resolver}, {"resolver_address", v.resolver_address}, {"hostname", v.hostname},
             {"query_type", v.query_type}, {"failure", opt_string(v.failure)}, {"raw_error", v.raw_error},
             {"rcode", v.rcode}, {"answers", v.answers}, {"responses", v.responses}};
    timing_to(j, v);
}
void from_json(const json& j, DnsObservation& v) {
    timing_from(j, v);
    read(j, "resolver", v.resolver);
    read(j, "resolver_address", v.resolver_address);
    read(j, "hostname", v.hostname);
    read(j, "query_type", v.query_type);
    v.failure = read_opt_string(j, "failure");
    read(j, "raw_error", v.raw_error);
    read(j, "rcode", v.rcode);
    read(j, "answers", v.answers);
    read(j, "responses", v.responses);
}

void to_json(json& j, const TcpObservation& v) {
    j = json{{"ip", v.ip}, {"port", v.port}, {"failure", opt_string(v.failure)}, {"raw_error", v.raw_error}};
    timing_to(j, v);
}
void from_json(const json& j, TcpObservation& v) {
    timing_from(j, v);
    read(j, "ip", v.ip);
    read(j, "port", v.port);
    v.failure = read_opt_string(j, "failure");
    read(j, "raw_error", v.raw_error);
}

void to_json(json& j, const CertificateInfo& v) {
    j = json{{"subject", v.subject}, {"issuer", v.issuer}, {"not_before", v.not_before},
             {"not_after", v.not_after}, {"dns_names", v.dns_names}, {"sha256", v.sha256}};
}
void from_json(const json& j, CertificateInfo& v) {
    read(j, "subject", v.subject);
    read(j, "issuer", v.issuer);
    read(j, "not_before", v.not_before);
    read(j, "not_after", v.not_after);
    read(j, "dns_names", v.dns_names);
    read(j, "sha256", v.sha256);
}

void to_json(json& j, const TlsObservation& v) {
    j = json{{"ip", v.ip},
             {"port", v.port},
             {"sni", v.sni},
             {"purpose", v.purpose},
             {"failure", opt_string(v.failure)},
             {"raw_error", v.raw_error},
             {"tls_version", v.tls_version},
             {"cipher", v.cipher},
             {"certificate_valid", v.certificate_valid},
             {"peer_certificates", v.peer_certificates}};
    timing_to(j, v);
}
void from_json(const json& j, TlsObservation& v) {
    timing_from(j, v);
    read(j, "ip", v.ip);
    read(j, "port", v.port);
    read(j, "sni", v.sni);
    read(j, "purpose", v.purpose);
    v.failure = read_opt_string(j, "failure");
    read(j, "raw_error", v.raw_error);
    read(j, "tls_version", v.tls_version);
    read(j, "cipher", v.cipher);
    read(j, "certificate_valid", v.certificate_valid);
    read(j, "peer_certificates", v.peer_certificates);
}

void to_json(json& j, const HttpObservation& v) {
    json headers = json::array();
    for (const auto& [k, val] : v.headers) headers.push_back(json::array({k, val}));
    j = json{{"url", v.url},
             {"ip", v.ip},
             {"port", v.port},
             {"failure", opt_string(v.failure)},
             {"raw_error", v.raw_error},
             {"status", v.status},
             {"headers", headers},
             {"body_length", v.body_length},
             {"body_truncated", v.body_truncated},
             {"body_sha256", v.body_sha256},
             {"title", v.title},
             {"body_excerpt", v.body_excerpt}};
    if (v.throughput_kbps >= 0) j["throughput_kbps"] = v.throughput_kbps;
    timing_to(j, v);
}
void from_json(const json& j, HttpObservation& v) {
    timing_from(j, v);
    read(j, "url", v.url);
    read(j, "ip", v.ip);
    read(j, "port", v.port);
    v.failure = read_opt_string(j, "failure");
    read(j, "raw_error", v.raw_error);
    read(j, "status", v.status);
    if (auto it = j.find("headers"); it != j.end() && it->is_array()) {
        for (const auto& h : *it) {
            if (h.is_array() && h.size() == 2) v.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
        }
    }
    read(j, "body_length", v.body_length);
    read(j, "body_truncated", v.body_truncated);
    read(j, "body_sha256", v.body_sha256);
    read(j, "title", v.title);
    read(j, "body_excerpt", v.body_excerpt);
    read(j, "throughput_kbps", v.throughput_kbps);
}

// A packet is seen at one instant (t0_ms = t_ms) and is a fact, not an
// operation that can fail (failure is always null); SPEC §4 wants both keys.
void to_json(json& j, const PacketObservation& v) {
    j = json{{"t0_ms", v.t_ms}, {"t_ms", v.t_ms},     {"failure", nullptr}, {"kind", v.kind},
             {"src", v.src},    {"ip_ttl", v.ip_ttl}, {"ip_id", v.ip_id},   {"detail", v.detail}};
    if (!v.tcp_flags.empty()) j["tcp_flags"] = v.tcp_flags;
    if (v.dns_id >= 0) {
        j["dns_id"] = v.dns_id;
        j["dns_rcode"] = v.dns_rcode;
        j["answers"] = v.answers;
    }
}
void from_json(const json& j, PacketObservation& v) {
    read(j, "t_ms", v.t_ms);
    read(j, "kind", v.kind);
    read(j, "src", v.src);
    read(j, "ip_ttl", v.ip_ttl);
    read(j, "ip_id", v.ip_id);
    read(j, "detail", v.detail);
    read(j, "tcp_flags", v.tcp_flags);
    read(j, "dns_id", v.dns_id);
    read(j, "dns_rcode", v.dns_rcode);
    read(j, "answers", v.answers);
}

json control_observations_json(const Observations& o) {
    return json{{"dns", o.dns}, {"tcp", o.tcp}, {"tls", o.tls}, {"http", o.http}};
}

void to_json(json& j, const Observations& v) {
    j = control_observations_json(v);
    j["packets"] = v.packets;
}
void from_json(const json& j, Observations& v) {
    read(j, "dns", v.dns);
    read(j, "tcp", v.tcp);
    read(j, "tls", v.tls);
    read(j, "http", v.http);
    read(j, "packets", v.packets);
}

void to_json(json& j, const ControlResult& v) {
    j = json{{"requested", v.requested}, {"failure", opt_string(v.failure)},
             {"observations", control_observations_json(v.observations)}};
}
void from_json(const json& j, ControlResult& v) {
    read(j, "requested", v.requested);
    v.failure = read_opt_string(j, "failure");
    read(j, "observations", v.observations);
}

void to_json(json& j, const RunContext& v) {
    j = json{{"canaries_total", v.canaries_total}, {"canaries_ok", v.canaries_ok},
             {"capture_enabled", v.capture_enabled}, {"routable", v.routable}};
}
void from_json(const json& j, RunContext& v) {
    read(j, "canaries_total", v.canaries_total);
    read(j, "canaries_ok", v.canaries_ok);
    read(j, "capture_enabled", v.capture_enabled);
    read(j, "routable", v.routable);
}

void to_json(json& j, const Verdict& v) {
    j = json{{"status", verdict_status_name(v.status)}, {"method", opt_string(v.method)},
             {"confidence", v.confidence}, {"evidence", v.evidence}};
}
void from_json(const json& j, Verdict& v) {
    if (auto it = j.find("status"); it != j.end() && !it->is_null()) {
        auto status = parse_verdict_status(it->get<std::string>());
        if (!status) throw json::other_error::create(501, "'status' is not a verdict status", &*it);
        v.status = *status;
    }
    v.method = read_opt_string(j, "method");
    read(j, "confidence", v.confidence);
    read(j, "evidence", v.evidence);
}

void to_json(json& j, const Vantage& v) { j = json{{"label", v.label}, {"cc", v.cc}, {"asn", v.asn}}; }
void from_json(const json& j, Vantage& v) {
    read(j, "label", v.label);
    read(j, "cc", v.cc);
    read(j, "asn", v.asn);
}

void to_json(json& j, const Record& v) {
    j = json{{"schema", v.schema},
             {"id", v.id},
             {"run_id", v.run_id},
             {"software", {{"name", v.software_name}, {"version", v.software_version}}},
             {"vantage", v.vantage},
             {"started_at", v.started_at},
             {"runtime_ms", v.runtime_ms},
             {"target", v.target},
             {"observations", v.observations},
             {"control", v.control},
             {"context", v.context},
             {"verdict", v.verdict}};
}
void from_json(const json& j, Record& v) {
    read(j, "schema", v.schema);
    read(j, "id", v.id);
    read(j, "run_id", v.run_id);
    if (auto it = j.find("software"); it != j.end() && it->is_object()) {
        read(*it, "name", v.software_name);
        read(*it, "version", v.software_version);
    }
    read(j, "vantage", v.vantage);
    read(j, "started_at", v.started_at);
    read(j, "runtime_ms", v.runtime_ms);
    read(j, "target", v.target);
    read(j, "observations", v.observations);
    read(j, "control", v.control);
    read(j, "context", v.context);
    read(j, "verdict", v.verdict);
}

}  // namespace meoktong
