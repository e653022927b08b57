// The renderers of `meoktong export` (export.hpp): CSV rows, and OONI
// measurements built from our record types with the test keys of OONI's
// data formats (df-002 queries, df-005 tcp_connect, df-006 tls_handshakes,
// df-001 requests) plus the record itself under test_keys.meoktong.
#include "analysis/analyze/export.hpp"

#include <cstdio>

#include "analysis/analyze/analyze.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/record_json.hpp"
#include "meoktong/target.hpp"

namespace meoktong::analyze {
namespace {

// RFC 4180: a field holding a comma, quote or line break is quoted, quotes doubled.
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

// "2026-11-22T03:00:00.123Z" -> "2026-11-22 03:00:00", OONI's time format.
std::string ooni_time(const std::string& iso) {
    auto ms = parse_utc_time(iso);
    if (!ms) return "1970-01-01 00:00:00";
    std::string t = iso_time(*ms);  // "2026-11-22T03:00:00Z"
    t[10] = ' ';
    t.pop_back();
    return t;
}

double seconds(double ms) { return ms / 1000.0; }

json failure_json(const std::optional<std::string>& f) { return f ? json(*f) : json(nullptr); }

json query_json(const DnsObservation& d) {
    json answers = json::array();
    for (const auto& a : d.answers) {
        json answer = {{"answer_type", a.type}, {"ttl", a.ttl}};
        answer[a.type == "A" ? "ipv4" : a.type == "AAAA" ? "ipv6" : "hostname"] = a.value;
        answers.push_back(answer);
    }
    bool system = d.resolver == "system";
    return {{"answers", answers},
            {"engine", system ? "system" : "udp"},
            {"failure", failure_json(d.failure)},
            {"hostname", d.hostname},
            {"query_type", d.query_type},
            {"resolver_address", system ? std::string() : d.resolver_address.empty() ? d.resolver : d.resolver_address},
            {"t0", seconds(d.t0_ms)},
            {"t", seconds(d.t_ms)}};
}

json tcp_json(const TcpObservation& t) {
    return {{"ip", t.ip},
            {"port", t.port},
            {"status", {{"success", !t.failure}, {"failure", failure_json(t.failure)}, {"blocked", false}}},
            {"t0", seconds(t.t0_ms)},
            {"t", seconds(t.t_ms)}};
}

json tls_json(const TlsObservation& t) {
    return {{"address", join_host_port(t.ip, t.port)},
            {"server_name", t.sni},
            {"failure", failure_json(t.failure)},
            {"tls_version", t.tls_version},
            {"cipher_suite", t.cipher},
            {"no_tls_verify", false},
            {"t0", seconds(t.t0_ms)},
            {"t", seconds(t.t_ms)}};
}

json request_json(const HttpObservation& h) {
    json headers = json::array();
    for (const auto& header : h.headers) headers.push_back(json::array({header.first, header.second}));
    return {{"failure", failure_json(h.failure)},
            {"request", {{"url", h.url}, {"method", "GET"}, {"headers_list", json::array()}}},
            {"response",
             {{"code", h.status}, {"headers_list", headers}, {"body", h.body_excerpt}, {"body_is_truncated", h.body_truncated}}},
            {"t0", seconds(h.t0_ms)},
            {"t", seconds(h.t_ms)}};
}

template <typename List, typename F>
json list_json(const List& items, F&& one) {
    json out = json::array();
    for (const auto& item : items) out.push_back(one(item));
    return out;
}

}  // namespace

std::string csv_header() {
    return "measured_at,cc,asn,service,host,port,protocol,status,method,confidence,evidence,source,id\n";
}

std::string csv_row(const Record& r) {
    char confidence[16];
    std::snprintf(confidence, sizeof confidence, "%.2f", r.verdict.confidence);
    const std::string fields[] = {r.started_at,
                                  r.vantage.cc,
                                  r.vantage.asn,
                                  r.target.service,
                                  r.target.host,
                                  std::to_string(r.target.port),
                                  r.target.protocol,
                                  verdict_status_name(r.verdict.status),
                                  r.verdict.method.value_or(""),
                                  confidence,
                                  r.verdict.evidence.empty() ? std::string() : r.verdict.evidence.front(),
                                  r.source.empty() ? std::string("meoktong") : r.source,
                                  r.id};
    std::string row;
    for (const std::string& f : fields) {
        if (!row.empty()) row += ',';
        row += csv_field(f);
    }
    return row + "\n";
}

std::string ooni_measurement(const Record& r) {
    json record = r;
    // DNS, TCP, TLS and HTTP are OONI's own test keys below; the app exchanges (SPEC §7)
    // and the packet facts have none, so they stay in the record under test_keys.meoktong.
    for (const char* kind : {"dns", "tcp", "tls", "http"}) record["observations"].erase(kind);
    json keys = {{"queries", list_json(r.observations.dns, query_json)},
                 {"tcp_connect", list_json(r.observations.tcp, tcp_json)},
                 {"tls_handshakes", list_json(r.observations.tls, tls_json)},
                 {"requests", list_json(r.observations.http, request_json)},
                 {"meoktong", record}};
    std::string when = ooni_time(r.started_at);
    json m = {{"annotations", {{"engine_name", kSoftwareName}}},
              {"data_format_version", "0.2.0"},
              {"id", r.id},
              {"input", target_uri(r.target)},
              {"measurement_start_time", when},
              {"test_start_time", when},
              {"probe_asn", r.vantage.asn},
              {"probe_cc", r.vantage.cc},
              {"probe_ip", "127.0.0.1"},
              {"report_id", r.run_id},
              {"software_name", r.software_name},
              {"software_version", r.software_version},
              {"test_name", "meoktong"},
              {"test_version", kSoftwareVersion},
              {"test_runtime", seconds(double(r.runtime_ms))},
              {"test_keys", keys}};
    return m.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace meoktong::analyze
