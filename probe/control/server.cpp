// The control vantage server: the control protocol's routes on the shared
// guarded server (probe/server/), auth, limits, rate limiting, private-target
// refusal and one log line per request. HTTP parsing is httplib's; this file
// only decides what each request may do.
#include "probe/control/server.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

#include "meoktong/failure.hpp"
#include "meoktong/log.hpp"
#include "meoktong/parallel.hpp"
#include "meoktong/target.hpp"
#include "meoktong/text.hpp"
#include "probe/control/protocol.hpp"
#include "probe/server/guarded_server.hpp"
#include "probe/server/rate_limiter.hpp"

namespace meoktong {
namespace {

using Clock = std::chrono::steady_clock;

// What the log line of the request being served on this thread needs.
struct RequestLog {
    Clock::time_point start;
    bool started = false;
    size_t targets = 0;
};
thread_local RequestLog t_request;

// One line per request through the process logger: method, path (attacker-
// chosen, so cut short; the logger quotes anything unprintable), status,
// targets and duration. Never the client's address: operators in-country are
// at risk if these logs are seized.
void log_request(const httplib::Request& req, const httplib::Response& res) {
    std::string ms = "-";
    if (t_request.started)
        ms = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t_request.start).count());
    process_logger().info("control_request", {{"method", req.method.substr(0, 100)},
                                              {"path", req.path.substr(0, 100)},
                                              {"status", std::to_string(res.status)},
                                              {"targets", std::to_string(t_request.targets)},
                                              {"ms", ms}});
    t_request = {};
}

// Did measure_target refuse the target (every connection attempt, if any, refused)?
bool refused_by_measurement(const Observations& o) {
    auto refused = [](const auto& obs) { return obs.failure && *obs.failure == failure::kTargetNotAllowed; };
    bool any = std::any_of(o.dns.begin(), o.dns.end(), refused) || std::any_of(o.tcp.begin(), o.tcp.end(), refused) ||
               std::any_of(o.tls.begin(), o.tls.end(), refused) || std::any_of(o.http.begin(), o.http.end(), refused);
    return any && std::all_of(o.tcp.begin(), o.tcp.end(), refused);
}

// A download URL whose host is a special-purpose address (in any spelling).
bool download_refused(const Target& t, const std::vector<Cidr>& routable) {
    auto host = control::download_url_host(t.download_url);
    return !host || refused_host(*host, routable).has_value();
}

// measure_target fetches a download on the target's own host from an address
// it already checked, and an IP literal from that literal (checked by
// download_refused); any other host name libcurl would resolve unchecked, to
// anything, so such a download is not fetched.
bool download_pinned_or_literal(const Target& t) {
    auto host = control::download_url_host(t.download_url);
    return host && (*host == t.host || is_ip_literal(*host));
}

}  // namespace

std::optional<std::string> refused_host(const std::string& host, const std::vector<Cidr>& routable) {
    if (is_ip_literal(host)) return special_purpose(host, routable);
    in_addr legacy{};  // "127.1", "0x7f000001", "2130706433": getaddrinfo accepts these as IPv4
    if (inet_aton(host.c_str(), &legacy) == 1) {
        char text[INET_ADDRSTRLEN]{};
        inet_ntop(AF_INET, &legacy, text, sizeof text);
        return special_purpose(text, routable);
    }
    return std::nullopt;
}

bool bearer_token_matches(std::string_view header, std::string_view token) {
    constexpr std::string_view scheme = "bearer ";
    if (token.empty() || header.size() < scheme.size()) return false;
    if (!ascii_iequals(header.substr(0, scheme.size()), scheme)) return false;
    std::string_view given = header.substr(scheme.size());
    // Compare digests, so neither the content nor the length of the token leaks through timing.
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned int a_len = 0, b_len = 0;
    if (EVP_Digest(given.data(), given.size(), a, &a_len, EVP_sha256(), nullptr) != 1) return false;
    if (EVP_Digest(token.data(), token.size(), b, &b_len, EVP_sha256(), nullptr) != 1) return false;
    return a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0;
}

struct ControlServer::Impl {
    ControlServerSettings settings;
    MeasureFunction measure;
    server::RateLimiter limiter;
    std::unique_ptr<server::GuardedHttpServer> guarded;

    Impl(ControlServerSettings s, MeasureFunction m)
        : settings(std::move(s)), measure(std::move(m)), limiter(settings.rate_per_minute, settings.rate_burst) {}

    void configure(httplib::Server& http) {
        server::install_common_handlers(http, [] { t_request = {Clock::now(), true, 0}; });
        http.Get(control::kHealthPath, [](const httplib::Request&, httplib::Response& res) {
            res.set_content(json{{"status", "ok"}, {"version", kSoftwareVersion}}.dump(), "application/json");
        });
        http.Post(control::kMeasurePath,
                  [this](const httplib::Request& req, httplib::Response& res) { handle_measure(req, res); });
        if (settings.log_requests) http.set_logger(log_request);
    }

    void handle_measure(const httplib::Request& req, httplib::Response& res) {
        if (!limiter.allow(server::rate_limit_key(req.remote_addr), Clock::now())) return server::reply_rate_limited(res);
        if (!bearer_token_matches(req.get_header_value("Authorization"), settings.token)) {
            res.set_header("WWW-Authenticate", "Bearer realm=\"meoktong\"");
            return server::reply_error(res, 401, "missing or invalid bearer token");
        }
        auto parsed = control::parse_measure_request(req.body, settings.max_targets);
        if (!parsed.ok()) return server::reply_error(res, parsed.status, parsed.error);
        t_request.targets = parsed.targets.size();
        res.set_content(control::measure_reply_body(measure_all(parsed.targets), req.remote_addr), "application/json");
    }

    // Measures the batch with at most target_concurrency at once; targets not
    // started before the deadline are answered with control_deadline_exceeded.
    std::vector<control::ServerResult> measure_all(const std::vector<Target>& targets) {
        std::vector<control::ServerResult> results(targets.size());
        auto deadline = Clock::now() + std::chrono::milliseconds(settings.deadline_ms);
        parallel_for(targets.size(), static_cast<size_t>(std::max(1, settings.target_concurrency)), [&](size_t i) {
            if (Clock::now() >= deadline) {
                results[i].target = targets[i];
                results[i].failure = control::kDeadlineExceeded;
            } else {
                results[i] = measure_one(targets[i]);
            }
        });
        return results;
    }

    control::ServerResult measure_one(const Target& target) {
        control::ServerResult r;
        r.target = target;
        bool guard = !settings.measure.allow_private;
        if (guard && refused_host(target.host, settings.measure.routable)) {
            r.failure = failure::kTargetNotAllowed;
            return r;
        }
        Target measured = target;
        if (guard && !target.download_url.empty()) {
            if (download_refused(target, settings.measure.routable)) {
                r.failure = failure::kTargetNotAllowed;
                return r;
            }
            if (!download_pinned_or_literal(target)) measured.download_url.clear();
        }
        try {
            r.observations = measure(measured, settings.measure, Clock::now());
        } catch (...) {
            r.failure = std::string(failure::kUnknownPrefix) + "measurement error";
            return r;
        }
        if (guard && refused_by_measurement(r.observations)) r.failure = failure::kTargetNotAllowed;
        return r;
    }
};

ControlServer::ControlServer(ControlServerSettings settings, MeasureFunction measure)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(measure))) {}

ControlServer::~ControlServer() = default;

int ControlServer::bind() {
    const auto& s = impl_->settings;
    impl_->guarded = std::make_unique<server::GuardedHttpServer>(server::server_limits_of(impl_->settings), s.tls_cert, s.tls_key);
    impl_->configure(impl_->guarded->http());
    std::string error;
    int port = impl_->guarded->bind(s.listen_host, s.listen_port, error);
    if (port == 0) {
        std::string where = s.listen_host + (s.listen_port ? ":" + std::to_string(s.listen_port) : "");
        throw std::runtime_error("cannot listen on " + where + ": " + error);
    }
    return port;
}

bool ControlServer::serve() { return impl_->guarded && impl_->guarded->serve(); }

void ControlServer::stop() {
    if (impl_->guarded) impl_->guarded->stop();
}

}  // namespace meoktong
