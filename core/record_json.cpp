// JSON mapping of record.hpp, keys as in SPEC §4. Pure; no I/O.
#include "meoktong/record_json.hpp"

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace meoktong {
namespace {

json opt_string(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
json opt_bool(const std::optional<bool>& b) { return b ? json(*b) : json(nullptr); }

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

// Each record type's keys are listed once, in a fields() overload; the JSON
// writer and the reader walk the same list, so a key cannot be written under
// one name and read under another.
template <typename Visited, typename Type>
concept Is = std::same_as<std::remove_const_t<Visited>, Type>;

struct FieldWriter {
    json& out;
    void operator()(const char* key, VerdictStatus status) const { out[key] = verdict_status_name(status); }
    void operator()(const char* key, const std::optional<std::string>& value) const { out[key] = opt_string(value); }
    void operator()(const char* key, const std::optional<bool>& value) const { out[key] = opt_bool(value); }
    template <typename T>
    void operator()(const char* key, const T& value) const { out[key] = value; }
};

struct FieldReader {
    const json& in;
    void operator()(const char* key, VerdictStatus& status) const {
        auto it = in.find(key);
        if (it == in.end() || it->is_null()) return;
        auto parsed = parse_verdict_status(it->get<std::string>());
        if (!parsed) throw json::other_error::create(501, std::string("'") + key + "' is not a verdict status", &*it);
        status = *parsed;
    }
    void operator()(const char* key, std::optional<std::string>& value) const { value = read_opt_string(in, key); }
    void operator()(const char* key, std::optional<bool>& value) const {
        auto it = in.find(key);
        value = it == in.end() || it->is_null() ? std::nullopt : std::optional<bool>(it->get<bool>());
    }
    template <typename T>
    void operator()(const char* key, T& value) const { read(in, key, value); }
};

// The Timing keys of every observation that is an operation.
void timing_fields(auto& v, auto&& field) {
    field("t0_ms", v.t0_ms);
    field("t_ms", v.t_ms);
}
void fields(Is<DnsAnswer> auto& v, auto&& field) {
    field("type", v.type);
    field("value", v.value);
    field("ttl", v.ttl);
}
void fields(Is<DnsResponse> auto& v, auto&& field) {
    field("t_ms", v.t_ms);
    field("rcode", v.rcode);
    field("ip_ttl", v.ip_ttl);
    field("answers", v.answers);
}
void fields(Is<DnsObservation> auto& v, auto&& field) {
    timing_fields(v, field);
    field("resolver", v.resolver);
    field("resolver_address", v.resolver_address);
    field("transport", v.transport);
    field("hostname", v.hostname);
    field("query_type", v.query_type);
    field("failure", v.failure);
    field("raw_error", v.raw_error);
    field("rcode", v.rcode);
    field("answers", v.answers);
    field("responses", v.responses);
}
void fields(Is<TcpObservation> auto& v, auto&& field) {
    timing_fields(v, field);
    field("ip", v.ip);
    field("port", v.port);
    field("failure", v.failure);
    field("raw_error", v.raw_error);
    field("attempt", v.attempt);
}
void fields(Is<CertificateInfo> auto& v, auto&& field) {
    field("subject", v.subject);
    field("issuer", v.issuer);
    field("not_before", v.not_before);
    field("not_after", v.not_after);
    field("dns_names", v.dns_names);
    field("sha256", v.sha256);
}
void fields(Is<TlsObservation> auto& v, auto&& field) {
    timing_fields(v, field);
    field("ip", v.ip);
    field("port", v.port);
    field("sni", v.sni);
    field("purpose", v.purpose);
    field("failure", v.failure);
    field("raw_error", v.raw_error);
    field("tls_version", v.tls_version);
    field("cipher", v.cipher);
    field("certificate_valid", v.certificate_valid);
    field("peer_certificates", v.peer_certificates);
}
// headers (pairs as two-element arrays), throughput_kbps, transfer_ms and stall_ms
// (only when measured) are written and read by HttpObservation's to_json/from_json.
void fields(Is<HttpObservation> auto& v, auto&& field) {
    timing_fields(v, field);
    field("url", v.url);
    field("ip", v.ip);
    field("port", v.port);
    field("failure", v.failure);
    field("raw_error", v.raw_error);
    field("status", v.status);
    field("body_length", v.body_length);
    field("body_truncated", v.body_truncated);
    field("body_sha256", v.body_sha256);
    field("title", v.title);
    field("body_excerpt", v.body_excerpt);
}
void fields(Is<AppObservation> auto& v, auto&& field) {
    timing_fields(v, field);
    field("protocol", v.protocol);
    field("transport", v.transport);
    field("address", v.address);
    field("failure", v.failure);
    field("raw_error", v.raw_error);
    field("genuine", v.genuine);
}
void fields(Is<Observations> auto& v, auto&& field) {
    field("dns", v.dns);
    field("tcp", v.tcp);
    field("tls", v.tls);
    field("http", v.http);
    field("app", v.app);
    field("packets", v.packets);
}
void fields(Is<RunContext> auto& v, auto&& field) {
    field("canaries_total", v.canaries_total);
    field("canaries_ok", v.canaries_ok);
    field("capture_enabled", v.capture_enabled);
    field("routable", v.routable);
    field("list_rows_skipped", v.list_rows_skipped);
    field("canary_download_kbps", v.canary_download_kbps);
    field("targets_reached", v.targets_reached);
}
void fields(Is<Verdict> auto& v, auto&& field) {
    field("status", v.status);
    field("method", v.method);
    field("confidence", v.confidence);
    field("evidence", v.evidence);
}
void fields(Is<EarlierTry> auto& v, auto&& field) {
    field("started_at", v.started_at);
    field("runtime_ms", v.runtime_ms);
    field("verdict", v.verdict);
}
void fields(Is<Vantage> auto& v, auto&& field) {
    field("label", v.label);
    field("cc", v.cc);
    field("asn", v.asn);
}
// "software" is an object of its own, written and read by Record's functions.
void fields(Is<Record> auto& v, auto&& field) {
    field("schema", v.schema);
    field("id", v.id);
    field("run_id", v.run_id);
    field("vantage", v.vantage);
    field("started_at", v.started_at);
    field("runtime_ms", v.runtime_ms);
    field("target", v.target);
    field("observations", v.observations);
    field("control", v.control);
    field("context", v.context);
    field("verdict", v.verdict);
    field("tries", v.tries);
    field("earlier_tries", v.earlier_tries);
}

template <typename T>
json write_fields(const T& value) {
    json j = json::object();
    fields(value, FieldWriter{j});
    return j;
}
template <typename T>
void read_fields(const json& j, T& value) {
    fields(value, FieldReader{j});
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
    if (!v.discovered_from.empty()) j["discovered_from"] = v.discovered_from;
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
    read(j, "discovered_from", v.discovered_from);
}

void to_json(json& j, const DnsAnswer& v) { j = write_fields(v); }
void from_json(const json& j, DnsAnswer& v) { read_fields(j, v); }
void to_json(json& j, const DnsResponse& v) { j = write_fields(v); }
void from_json(const json& j, DnsResponse& v) { read_fields(j, v); }
void to_json(json& j, const DnsObservation& v) { j = write_fields(v); }
void from_json(const json& j, DnsObservation& v) { read_fields(j, v); }
void to_json(json& j, const TcpObservation& v) { j = write_fields(v); }
void from_json(const json& j, TcpObservation& v) { read_fields(j, v); }
void to_json(json& j, const CertificateInfo& v) { j = write_fields(v); }
void from_json(const json& j, CertificateInfo& v) { read_fields(j, v); }
void to_json(json& j, const TlsObservation& v) { j = write_fields(v); }
void from_json(const json& j, TlsObservation& v) { read_fields(j, v); }

// discovered (the endpoints a genuine answer named) only when there are some.
void to_json(json& j, const AppObservation& v) {
    j = write_fields(v);
    if (!v.discovered.empty()) j["discovered"] = v.discovered;
}
void from_json(const json& j, AppObservation& v) {
    read_fields(j, v);
    read(j, "discovered", v.discovered);
}

void to_json(json& j, const HttpObservation& v) {
    j = write_fields(v);
    json headers = json::array();
    for (const auto& [name, value] : v.headers) headers.push_back(json::array({name, value}));
    j["headers"] = headers;
    if (v.throughput_kbps >= 0) j["throughput_kbps"] = v.throughput_kbps;
    if (v.transfer_ms >= 0) j["transfer_ms"] = v.transfer_ms;
    if (v.stall_ms >= 0) j["stall_ms"] = v.stall_ms;
}
void from_json(const json& j, HttpObservation& v) {
    read_fields(j, v);
    if (auto it = j.find("headers"); it != j.end() && it->is_array()) {
        for (const auto& h : *it) {
            if (h.is_array() && h.size() == 2) v.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
        }
    }
    read(j, "throughput_kbps", v.throughput_kbps);
    read(j, "transfer_ms", v.transfer_ms);
    read(j, "stall_ms", v.stall_ms);
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
    json j = write_fields(o);
    j.erase("packets");
    return j;
}

void to_json(json& j, const Observations& v) { j = write_fields(v); }
void from_json(const json& j, Observations& v) { read_fields(j, v); }

void to_json(json& j, const ControlResult& v) {
    j = json{{"requested", v.requested}, {"failure", opt_string(v.failure)},
             {"observations", control_observations_json(v.observations)}};
}
void from_json(const json& j, ControlResult& v) {
    read(j, "requested", v.requested);
    v.failure = read_opt_string(j, "failure");
    read(j, "observations", v.observations);
}

void to_json(json& j, const RunContext& v) { j = write_fields(v); }
void from_json(const json& j, RunContext& v) { read_fields(j, v); }
void to_json(json& j, const Verdict& v) { j = write_fields(v); }
void from_json(const json& j, Verdict& v) { read_fields(j, v); }
void to_json(json& j, const EarlierTry& v) { j = write_fields(v); }
void from_json(const json& j, EarlierTry& v) { read_fields(j, v); }
void to_json(json& j, const Vantage& v) { j = write_fields(v); }
void from_json(const json& j, Vantage& v) { read_fields(j, v); }

// "source" and "ooni" appear only on records meoktong did not measure.
void to_json(json& j, const Record& v) {
    j = write_fields(v);
    j["software"] = {{"name", v.software_name},
                     {"version", v.software_version},
                     {"commit", v.software_commit},
                     {"build_date", v.software_build_date}};
    if (!v.source.empty()) j["source"] = v.source;
    if (v.ooni) {
        json blocking = json::parse(v.ooni->blocking_json, nullptr, false);
        j["ooni"] = {{"test_name", v.ooni->test_name},
                     {"test_version", v.ooni->test_version},
                     {"report_id", v.ooni->report_id},
                     {"measurement_uid", v.ooni->measurement_uid},
                     {"input", v.ooni->input},
                     {"blocking", blocking.is_object() ? blocking : json::object()}};
    }
}
void from_json(const json& j, Record& v) {
    read_fields(j, v);
    if (v.tries < 1 || v.earlier_tries.size() >= static_cast<size_t>(v.tries))
        throw json::out_of_range::create(406, "'tries' must be at least 1 and count every earlier try", &j);
    if (auto it = j.find("software"); it != j.end() && it->is_object()) {
        read(*it, "name", v.software_name);
        read(*it, "version", v.software_version);
        read(*it, "commit", v.software_commit);
        read(*it, "build_date", v.software_build_date);
    }
    read(j, "source", v.source);
    if (auto it = j.find("ooni"); it != j.end() && it->is_object()) {
        OoniOrigin o;
        read(*it, "test_name", o.test_name);
        read(*it, "test_version", o.test_version);
        read(*it, "report_id", o.report_id);
        read(*it, "measurement_uid", o.measurement_uid);
        read(*it, "input", o.input);
        if (auto b = it->find("blocking"); b != it->end() && b->is_object()) o.blocking_json = b->dump();
        v.ooni = std::move(o);
    }
}

}  // namespace meoktong
