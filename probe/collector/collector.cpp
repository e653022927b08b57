// The collector's server: cpp-httplib routes, auth, rate limits and the
// answer to each upload (see collector.hpp). HTTP parsing is httplib's; the
// report body is read by store::read_report, stored by the Store.
#include "probe/collector/collector.hpp"

#include <httplib.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "meoktong/record.hpp"
#include "meoktong/target.hpp"
#include "probe/collector/live_view.hpp"
#include "probe/collector/rate_limit.hpp"
#include "probe/collector/tokens.hpp"
#include "probe/store/report.hpp"

namespace meoktong::collector {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kReportsPath = "/v1/reports";
constexpr const char* kHealthPath = "/v1/health";
constexpr int kListenBacklog = 1024;
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

void reply_error(httplib::Response& res, int status, const std::string& message) {
    reply(res, status, json{{"error", message}});
}

const char* default_error_message(int status) {
    switch (status) {
        case 400: return "malformed request";
        case 404: return "not found";
        case 405: return "method not allowed";
        case 413: return "request body too large";
        case 414: return "request URI too long";
        default: return "request failed";
    }
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
    std::shared_ptr<const ProbeTokens> tokens;
    std::mutex tokens_mutex;
    TokenBuckets probe_limits, unauthenticated_limit;
    std::unique_ptr<httplib::Server> http;
    std::atomic<bool> serving{false}, stopping{false};
    int listen_fd = -1;

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

    void create_server() {
        if (settings.tls_cert.empty() != settings.tls_key.empty())
            throw InputError("--tls-cert and --tls-key go together");
        if (settings.tls_cert.empty()) {
            http = std::make_unique<httplib::Server>();
            return;
        }
        for (const auto& path : {settings.tls_cert, settings.tls_key})
            if (!std::ifstream(path)) throw InputError("cannot read '" + path + "'");
        auto tls = std::make_unique<httplib::SSLServer>(settings.tls_cert.c_str(), settings.tls_key.c_str());
        if (!tls->is_valid())
            throw InputError("cannot use TLS certificate '" + settings.tls_cert + "' with key '" + settings.tls_key + "'");
        SSL_CTX_set_min_proto_version(tls->ssl_context(), TLS1_2_VERSION);
        http = std::move(tls);
    }

    void configure() {
        int threads = std::max(1, settings.threads);
        http->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
        http->set_payload_max_length(settings.max_body_bytes);
        http->set_read_timeout(settings.io_timeout_s, 0);
        http->set_write_timeout(settings.io_timeout_s, 0);
        http->set_keep_alive_max_count(1);
        http->set_socket_options([this](int fd) {  // the listening socket (httplib's default adds SO_REUSEPORT)
            int yes = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
            listen_fd = fd;
        });
        http->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
            t_request = {Clock::now(), "-", 0};
            // httplib 0.11 reads chunked bodies without a size limit: refuse them before any is read.
            if (req.has_header("Transfer-Encoding")) {
                res.set_header("Connection", "close");
                reply_error(res, 411, "send the body with Content-Length, not chunked");
                return httplib::Server::HandlerResponse::Handled;
            }
            return httplib::Server::HandlerResponse::Unhandled;
        });
        http->Get(kHealthPath, [](const httplib::Request&, httplib::Response& res) {
            reply(res, 200, json{{"status", "ok"}, {"version", kSoftwareVersion}});
        });
        add_live_view_routes(*http, store);
        http->Post(kReportsPath, [this](const httplib::Request& req, httplib::Response& res) { handle_report(req, res); });
        http->set_error_handler([](const httplib::Request&, httplib::Response& res) {
            if (res.body.empty()) reply_error(res, res.status, default_error_message(res.status));
        });
        http->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            reply_error(res, 500, "internal error");
        });
        if (settings.log_requests) http->set_logger(log_request);
    }

    void handle_report(const httplib::Request& req, httplib::Response& res) {
        auto now = Clock::now();
        auto label = current_tokens()->label_for(req.get_header_value("Authorization"));
        if (!label) {
            if (!unauthenticated_limit.allow("", now)) return rate_limited(res);
            res.set_header("WWW-Authenticate", "Bearer realm=\"meoktong\"");
            return reply_error(res, 401, "missing, invalid or revoked bearer token");
        }
        t_request.probe = *label;
        if (!probe_limits.allow(*label, now)) return rate_limited(res);
        std::string key = req.get_header_value("Idempotency-Key");
        if (!is_valid_idempotency_key(key))
            return reply_error(res, 400, "Idempotency-Key must be 1 to 255 printable characters without spaces");
        store::Report report;
        if (auto problem = store::read_report(req.body, report))
            return reply_error(res, problem->too_large ? 413 : 400, problem->describe());
        t_request.records = report.records.size();
        store::StoreOutcome outcome;
        try {
            outcome = store.store_report(key, *label, report);
        } catch (const store::StoreError& e) {
            log_line(std::string("the store failed: ") + e.what());
            res.set_header("Retry-After", "60");
            return reply_error(res, 503, "the store failed; the report was not stored, send it again later");
        }
        if (outcome == store::StoreOutcome::already_stored)
            return reply(res, 200, json{{"status", "already stored"}});
        reply(res, 201, json{{"status", "stored"}, {"records", report.records.size()}});
    }

    static void rate_limited(httplib::Response& res) {
        res.set_header("Retry-After", "60");
        reply_error(res, 429, "rate limited");
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
    std::signal(SIGPIPE, SIG_IGN);  // a peer closing mid-write must not kill the server
    impl_->create_server();
    impl_->configure();
    const auto& s = impl_->settings;
    int port = s.listen_port;
    if (port == 0) {
        port = impl_->http->bind_to_any_port(s.listen_host);
        if (port <= 0) throw InputError("cannot listen on " + s.listen_host + ": " + std::strerror(errno));
    } else if (!impl_->http->bind_to_port(s.listen_host, port)) {
        throw InputError("cannot listen on " + s.listen_host + ":" + std::to_string(port) + ": " + std::strerror(errno));
    }
    // httplib listens with a backlog of 5; listen() again on the bound socket only raises it.
    if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, kListenBacklog);
    return port;
}

bool Collector::serve() {
    if (!impl_->http) return false;
    impl_->serving = true;
    bool ok = impl_->stopping || impl_->http->listen_after_bind();
    impl_->serving = false;
    return ok;
}

void Collector::stop() {
    impl_->stopping = true;
    if (!impl_->http) return;
    // httplib's stop() is a no-op until the accept loop runs: wait for it if serve() is starting.
    while (impl_->serving && !impl_->http->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    impl_->http->stop();
}

}  // namespace meoktong::collector
