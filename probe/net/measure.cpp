// Measuring one target (measure.hpp): which resolvers are asked (UDP and,
// at the same time, DNS over HTTPS), which
// addresses get TCP/TLS/HTTP or their app exchange (measure_app.hpp), when
// the neutral-SNI retry happens. All I/O goes
// through the Net seam (net.hpp), so this logic is unit-tested without network.
#include "probe/net/measure.hpp"

#include <algorithm>
#include <future>
#include <set>

#include "meoktong/failure.hpp"
#include "meoktong/parallel.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "probe/net/dns.hpp"
#include "probe/net/doh.hpp"
#include "probe/net/measure_app.hpp"
#include "probe/net/net.hpp"

namespace meoktong {
namespace {

struct AddressResult {
    std::vector<TcpObservation> tcp;
    std::vector<TlsObservation> tls;
    std::vector<HttpObservation> http;
    std::vector<AppObservation> app;
    bool reached = false;  // the target's protocol worked on this address (for the download)
};

bool is_ipv6(const std::string& ip) { return ip.find(':') != std::string::npos; }

std::vector<ResolverSpec> resolvers_for(const MeasureSettings& settings) {
    std::vector<ResolverSpec> out;
    if (settings.query_system_resolver) out.push_back({"system", ""});
    for (const auto& r : settings.resolvers) out.push_back({r, dns::normalise_resolver(r).value_or(r)});
    return out;
}

// Unique addresses from every resolver's answers, first answers before late
// ones, at most max_per_family of each family.
std::vector<std::string> addresses_from(const std::vector<DnsObservation>& dns, size_t max_per_family) {
    std::vector<std::string> ordered;
    for (const auto& obs : dns)
        for (const auto& a : obs.answers) ordered.push_back(a.value);
    for (const auto& obs : dns)
        for (const auto& response : obs.responses)
            for (const auto& a : response.answers) ordered.push_back(a.value);
    std::vector<std::string> out;
    std::set<std::string> seen;
    size_t v4 = 0, v6 = 0;
    for (const auto& ip : ordered) {
        if (!is_ip_literal(ip) || !seen.insert(ip).second) continue;
        size_t& count = is_ipv6(ip) ? v6 : v4;
        if (count >= max_per_family) continue;
        ++count;
        out.push_back(ip);
    }
    return out;
}

bool warrants_neutral_sni_retry(const TlsObservation& tls) {
    if (!tls.failure) return false;
    const std::string& f = *tls.failure;
    return f == failure::kConnectionReset || f == failure::kTimeout || f == failure::kEof ||
           f == failure::kSslFailedHandshake;
}

std::string target_url(const Target& t) {
    bool default_port = (t.protocol == "https" && t.port == 443) || (t.protocol == "http" && t.port == 80);
    std::string url = t.protocol + "://" + uri_host(t.host);
    if (!default_port) url += ":" + std::to_string(t.port);
    return url + (t.path.empty() ? "/" : t.path);
}

HttpRequest http_request_for(const Target& t, const MeasureSettings& s, const std::string& ip) {
    HttpRequest req;
    req.url = target_url(t);
    req.host = t.host;
    req.ip = ip;
    req.port = t.port;
    req.ca_file = s.ca_file;
    req.timeout_ms = s.timeout_ms;
    req.max_body_bytes = s.max_body_bytes;
    req.excerpt_bytes = s.excerpt_bytes;
    return req;
}


// TCP then TLS on a fresh connection; nullopt TLS when the connect failed.
std::optional<TlsObservation> connect_and_handshake(Net& net, const std::string& ip, uint16_t port,
                                                    const TlsRequest& req, int timeout_ms, SteadyTime start,
                                                    AddressResult& out) {
    TcpResult tcp = net.tcp_connect(ip, port, timeout_ms, start);
    out.tcp.push_back(tcp.observation);
    if (!tcp.connection) return std::nullopt;
    return net.tls_handshake(*tcp.connection, req, start);
}

// The neutral-SNI handshake starts when the target-SNI handshake fails, or
// already while it is still pending after a quarter of the step timeout
// (a hedge: a blackholed handshake then costs 1.25 timeouts, not 2, and the
// neutral attempt is not made in the wake of a filtered one). A hedged
// neutral attempt is recorded whatever the target's outcome.
std::optional<TlsObservation> neutral_sni_attempt(Net& net, const Target& t, const MeasureSettings& s,
                                                  const std::string& ip, SteadyTime start, AddressResult& out) {
    return connect_and_handshake(net, ip, t.port, tls_request_for(t, s, s.neutral_sni, "neutral_sni"), s.timeout_ms,
                                 start, out);
}

void measure_tls_address(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip, SteadyTime start,
                         AddressResult& out) {
    TcpResult tcp = connect_retrying(net, ip, t.port, s, start, out.tcp);
    if (!tcp.connection) return;
    std::string sni = is_ip_literal(t.host) ? "" : t.host;
    TlsRequest request = tls_request_for(t, s, sni, "target");
    auto target = std::async(std::launch::async, [&] { return net.tls_handshake(*tcp.connection, request, start); });
    bool differential = !s.neutral_sni.empty();
    AddressResult neutral_part;
    std::future<std::optional<TlsObservation>> hedge;
    if (differential && target.wait_for(std::chrono::milliseconds(s.timeout_ms / 4)) != std::future_status::ready)
        hedge = std::async(std::launch::async, [&] { return neutral_sni_attempt(net, t, s, ip, start, neutral_part); });
    TlsObservation tls = target.get();
    std::optional<TlsObservation> neutral;
    if (hedge.valid())
        neutral = hedge.get();
    else if (differential && warrants_neutral_sni_retry(tls))
        neutral = neutral_sni_attempt(net, t, s, ip, start, neutral_part);
    tcp.connection.reset();
    out.tls.push_back(tls);
    out.tcp.insert(out.tcp.end(), neutral_part.tcp.begin(), neutral_part.tcp.end());
    if (neutral) out.tls.push_back(*neutral);
    if (tls.failure) return;
    if (t.protocol != "https") {
        out.reached = true;
        return;
    }
    out.http.push_back(net.http_get(http_request_for(t, s, ip), start));
    out.reached = !out.http.back().failure.has_value();
}

AddressResult measure_address(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip,
                              SteadyTime start) {
    AddressResult out;
    if (!s.allow_private) {
        if (auto reason = special_purpose(ip, s.routable)) {
            TcpObservation refused;
            refused.ip = ip;
            refused.port = t.port;
            refused.t0_ms = refused.t_ms = ms_since(start);
            refused.failure = failure::kTargetNotAllowed;
            refused.raw_error = *reason + " address";
            out.tcp.push_back(refused);
            return out;
        }
    }
    if (is_app_protocol(t.protocol)) {
        AppAddressResult app = measure_app_address(net, t, s, ip, start);
        out.tcp = std::move(app.tcp);
        out.tls = std::move(app.tls);
        out.app = std::move(app.app);
        out.reached = app.reached;
        return out;
    }
    if (t.protocol == "tls" || t.protocol == "https") {
        measure_tls_address(net, t, s, ip, start, out);
        return out;
    }
    TcpResult tcp = connect_retrying(net, ip, t.port, s, start, out.tcp);
    if (!tcp.connection) return out;
    tcp.connection.reset();
    if (t.protocol == "http") {
        out.http.push_back(net.http_get(http_request_for(t, s, ip), start));
        out.reached = !out.http.back().failure.has_value();
    } else {
        out.reached = true;
    }
    return out;
}

// The addresses of one target are measured concurrently: two blackholed
// addresses cost one timeout, not two.
std::vector<AddressResult> measure_addresses(Net& net, const Target& t, const MeasureSettings& s,
                                             const std::vector<std::string>& ips, SteadyTime start) {
    std::vector<AddressResult> results(ips.size());
    parallel_for(ips.size(), ips.size(), [&](size_t i) { results[i] = measure_address(net, t, s, ips[i], start); });
    return results;
}

// One GET of the target's download_url, pinned to an address that worked when
// it is on the target's host, to measure throughput.
void measure_download(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip, SteadyTime start,
                      Observations& obs) {
    Target download;
    try {
        download = parse_target_uri(t.download_url);
    } catch (const InputError&) {
        return;  // list validation reports malformed URLs; nothing to measure here
    }
    if (download.protocol != "https" && download.protocol != "http") return;
    HttpRequest req = http_request_for(download, s, download.host == t.host ? ip : "");
    req.url = t.download_url;
    req.measure_throughput = true;
    obs.http.push_back(net.http_get(req, start));
}

}  // namespace

TlsRequest tls_request_for(const Target& t, const MeasureSettings& s, const std::string& sni, const char* purpose) {
    TlsRequest req;
    req.sni = sni;
    req.verify_names = t.cert_names.empty() ? std::vector<std::string>{t.host} : t.cert_names;
    req.purpose = purpose;
    req.ca_file = s.ca_file;
    req.timeout_ms = s.timeout_ms;
    return req;
}

TcpResult connect_retrying(Net& net, const std::string& ip, uint16_t port, const MeasureSettings& s, SteadyTime start,
                           std::vector<TcpObservation>& out) {
    TcpResult tcp = net.tcp_connect(ip, port, s.timeout_ms, start);
    out.push_back(tcp.observation);
    if (tcp.connection || tcp.observation.failure != failure::kTimeout || !s.retry_timed_out_connect) return tcp;
    TcpResult again = net.tcp_connect(ip, port, s.timeout_ms, start);
    again.observation.attempt = 2;
    out.push_back(again.observation);
    return again;
}

Observations measure_target_with(Net& net, const Target& target, const MeasureSettings& settings, SteadyTime start) {
    Observations obs;
    std::vector<std::string> ips;
    if (is_ip_literal(target.host)) {
        ips.push_back(target.host);
    } else {
        std::future<std::vector<DnsObservation>> over_https;
        if (!settings.doh.empty())
            over_https = std::async(std::launch::async, [&] {
                return doh::lookup(net, target.host, settings.doh, settings.ca_file, settings.timeout_ms, start);
            });
        obs.dns = net.dns_lookup(target.host, resolvers_for(settings), settings.timeout_ms,
                                 settings.dns_late_window_ms, start);
        if (over_https.valid()) {
            auto answers = over_https.get();
            obs.dns.insert(obs.dns.end(), answers.begin(), answers.end());
        }
        ips = addresses_from(obs.dns, settings.max_addresses);
    }
    if (target.protocol == "dns") return obs;
    auto results = measure_addresses(net, target, settings, ips, start);
    const std::string* reached_ip = nullptr;
    for (size_t i = 0; i < results.size(); ++i) {
        auto& r = results[i];
        obs.tcp.insert(obs.tcp.end(), r.tcp.begin(), r.tcp.end());
        obs.tls.insert(obs.tls.end(), r.tls.begin(), r.tls.end());
        obs.http.insert(obs.http.end(), r.http.begin(), r.http.end());
        obs.app.insert(obs.app.end(), r.app.begin(), r.app.end());
        if (r.reached && reached_ip == nullptr) reached_ip = &ips[i];
    }
    if (!target.download_url.empty() && reached_ip != nullptr)
        measure_download(net, target, settings, *reached_ip, start, obs);
    return obs;
}

Observations measure_target(const Target& target, const MeasureSettings& settings, SteadyTime start) {
    SystemNet net;
    return measure_target_with(net, target, settings, start);
}

}  // namespace meoktong
