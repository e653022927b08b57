// The server library (probe/server/): what an internet-facing server of
// meoktong needs, shared by the control and the collector: the guarded
// cpp-httplib server declared here, with the error answers and handlers
// both servers install, and the rate limiter.
//
// The HTTP(S) server both internet-facing servers (the control vantage and the
// collector) run on: cpp-httplib with a bounded connection queue, per-wait I/O
// timeouts, a request deadline (accept -> TLS handshake -> request fully read,
// so slowloris cannot hold a thread), a read budget per connection, one request
// per connection and a listen backlog that absorbs bursts. Each server adds its
// own routes to http().
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace meoktong::server {

struct ServerLimits {
    int threads = 8;                 // connections served at once
    size_t max_queued = 32;          // accepted connections waiting for a thread; the accept loop waits beyond
    int io_timeout_ms = 5000;        // any single wait for the peer
    int request_ms = 10000;          // accept -> TLS handshake -> request fully read
    int response_ms = 120000;        // first byte of the response -> last byte
    size_t max_body_bytes = 1 << 20; // httplib's payload limit (413 beyond); headers get a budget on top
};

// The limits of a server whose settings name them in seconds, as both servers'
// settings structs do: `threads` serve, four times as many wait.
template <typename Settings>
ServerLimits server_limits_of(const Settings& s) {
    ServerLimits limits;
    limits.threads = s.threads < 1 ? 1 : s.threads;
    limits.max_queued = size_t(limits.threads) * 4;
    limits.io_timeout_ms = s.io_timeout_s * 1000;
    limits.request_ms = s.request_timeout_s * 1000;
    limits.max_body_bytes = s.max_body_bytes;
    return limits;
}

// The JSON error answer both servers give: {"error": MESSAGE}.
void reply_error(httplib::Response& res, int status, const std::string& message);
// 429 with Retry-After.
void reply_rate_limited(httplib::Response& res);

// The handlers every server installs on http() before its routes: a
// pre-routing hook that calls `on_request` (the server's per-request log
// state) and refuses chunked bodies with 411 before any is read (httplib 0.11
// reads them without a size limit); httplib's own refusals (400, 404, 405,
// 413, 414) answered with the JSON error body; an exception in a handler
// answered 500.
void install_common_handlers(httplib::Server& http, std::function<void()> on_request);

class GuardedHttpServer {
public:
    // Plain HTTP when both PEM paths are empty, else TLS (1.2 or newer).
    // Throws InputError when only one is given or they cannot be used.
    GuardedHttpServer(const ServerLimits& limits, const std::string& tls_cert, const std::string& tls_key);
    ~GuardedHttpServer();
    GuardedHttpServer(const GuardedHttpServer&) = delete;
    GuardedHttpServer& operator=(const GuardedHttpServer&) = delete;

    httplib::Server& http() { return *http_; }
    // Binds host:port (0: any free port); the bound port, or 0 with `error` set
    // (each server words and types its own refusal).
    int bind(const std::string& host, int port, std::string& error);
    // Serves until stop(); false if the listening socket failed.
    bool serve();
    // Stops serve() (also when called just before serve() got going); thread-safe.
    void stop();

private:
    std::unique_ptr<httplib::Server> http_;
    std::atomic<bool> serving_{false}, stopping_{false};
    int listen_fd_ = -1;
};

}  // namespace meoktong::server
