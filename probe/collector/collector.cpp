// The collector's server: its routes on the shared guarded server
// (probe/server/), auth, rate limits and the answer to each upload (see
// collector.hpp). HTTP parsing is httplib's; the report body is read by
// store::read_report, stored by the Store.
#include "probe/collector/collector.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "meoktong/record.hpp"
#include "meoktong/target.hpp"
#include "probe/collector/live_view.hpp"
#include "probe/collector/tokens.hpp"
#include "probe/server/guarded_server.hpp"
#include "probe/server/rate_limiter.hpp"
#include "probe/store/group_commit.hpp"
#include "probe/store/report.hpp"

namespace meoktong::collector {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kReportsPath = "/v1/reports";
constexpr const char* kHealthPath = "/v1/health";
constexpr size_t kMaxKeyLength = 255;

// What the log line of the request being served on this thread says.
struct RequestLog {
    std::optional<Clock::time_point> start;  // unset when httplib answered before routing (e.g. 413)
    std::string probe = "-";
    size_t records = 0;
};
thread_local RequestLog t_request;

void log_line(const std::string& text) {
    std::string line = "collector: " + text + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
}

// The request path is the client's: one short printable word in the log.
std::string printable_for_log(const std::string& s) {
    if (s.empty()) return "-";
    std::string out = s.substr(0, 100);
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    return out;
}

// One line per request. Deliberately without req.remote_addr (collector.hpp).
void log_request(const httplib::Request& req, const httplib::Response& res) {
    std::string ms = "-";
    if (t_request.start)
        ms = std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *t_request.start).count());
    log_line(printable_for_log(req.method) + " " + printable_for_log(req.path) + " " + std::to_string(res.status) +
             " probe=" + t_request.probe + " records=" + std::to_string(t_request.records) + " ms=" + ms);
    t_request = {};
}

void reply(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

}  // namespace

bool is_valid_idempotency_key(std::string_view key) {
    if (key.empty() || key.size() > kMaxKeyLength) return false;
    for (char c : key)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) return false;
    return true;
}

struct Collector::Impl {
    CollectorSettings settings;
    store::Store& store;
    store::GroupCommit commits{store};  // concurrent uploads are stored in one transaction
    std::shared_ptr<const ProbeTokens> tokens;
    std::mutex tokens_mutex;
    server::RateLimiter probe_limits, unauthenticated_limit;
    std::unique_ptr<server::GuardedHttpServer> guarded;

    Impl(CollectorSettings s, store::Store& st)
        : settings(std::move(s)),
          store(st),
          tokens(std::make_shared<const ProbeTokens>(ProbeTokens::read_file(settings.tokens_file))),
          probe_limits(settings.probe_rate_per_minute, settings.probe_rate_burst),
          unauthenticated_limit(settings.unauthenticated_rate_per_minute, settings.unauthenticated_rate_burst) {}

    std::shared_ptr<const ProbeTokens> current_tokens() {
        std::lock_guard lock(tokens_mutex);
        return tokens;
    }

    void configure(httplib::Server& http) {
        server::install_common_handlers(http, [] { t_request = {Clock::now(), "-", 0}; });
        http.Get(kHealthPath, [](const httplib::Request&, httplib::Response& res) {
            reply(res, 200, json{{"status", "ok"}, {"version", kSoftwareVersion}});
        });
        add_live_view_routes(http, store);
        http.Post(kReportsPath, [this](const httplib::Request& req, httplib::Response& res) { handle_report(req, res); });
        if (settings.log_requests) http.set_logger(log_request);
    }

    void handle_report(const httplib::Request& req, httplib::Response& res) {
        auto now = Clock::now();
        auto label = current_tokens()->label_for(req.get_header_value("Authorization"));
        if (!label) {
            if (!unauthenticated_limit.allow("", now)) return server::reply_rate_limited(res);
            res.set_header("WWW-Authenticate", "Bearer realm=\"meoktong\"");
            return server::reply_error(res, 401, "missing, invalid or revoked bearer token");
        }
        t_request.probe = *label;
        if (!probe_limits.allow(*label, now)) return server::reply_rate_limited(res);
        std::string key = req.get_header_value("Idempotency-Key");
        if (!is_valid_idempotency_key(key))
            return server::reply_error(res, 400, "Idempotency-Key must be 1 to 255 printable characters without spaces");
        store::Report report;
        if (auto problem = store::read_report(req.body, report))
            return server::reply_error(res, problem->too_large ? 413 : 400, problem->describe());
        t_request.records = report.records.size();
        store::StoreOutcome outcome;
        try {
            outcome = commits.store_report(key, *label, report);
        } catch (const store::StoreError& e) {
            log_line(std::string("the store failed: ") + e.what());
            res.set_header("Retry-After", "60");
            return server::reply_error(res, 503, "the store failed; the report was not stored, send it again later");
        }
        if (outcome == store::StoreOutcome::already_stored)
            return reply(res, 200, json{{"status", "already stored"}});
        reply(res, 201, json{{"status", "stored"}, {"records", report.records.size()}});
    }
};

Collector::Collector(CollectorSettings settings, store::Store& store)
    : impl_(std::make_unique<Impl>(std::move(settings), store)) {}

Collector::~Collector() = default;

void Collector::reload_tokens() {
    auto fresh = std::make_shared<const ProbeTokens>(ProbeTokens::read_file(impl_->settings.tokens_file));
    std::lock_guard lock(impl_->tokens_mutex);
    impl_->tokens = std::move(fresh);
}

int Collector::bind() {
    const auto& s = impl_->settings;
    impl_->guarded = std::make_unique<server::GuardedHttpServer>(server::server_limits_of(impl_->settings), s.tls_cert, s.tls_key);
    impl_->configure(impl_->guarded->http());
    std::string error;
    int port = impl_->guarded->bind(s.listen_host, s.listen_port, error);
    if (port == 0) {
        std::string where = s.listen_host + (s.listen_port ? ":" + std::to_string(s.listen_port) : "");
        throw InputError("cannot listen on " + where + ": " + error);
    }
    return port;
}

bool Collector::serve() { return impl_->guarded && impl_->guarded->serve(); }

void Collector::stop() {
    if (impl_->guarded) impl_->guarded->stop();
}

}  // namespace meoktong::collector
