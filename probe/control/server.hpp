// The control vantage's HTTP(S) server (`meoktong control serve`, SPEC §3):
// POST /v1/measure measures a batch of targets with measure_target() and
// answers their observations; GET /v1/health. Built to face the internet:
// bearer token, TLS, body/batch limits, per-client rate limit, bounded thread
// pool, I/O timeouts, request deadline, and refusal of private targets.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meoktong/ipaddr.hpp"
#include "probe/net/measure.hpp"
#include "meoktong/record.hpp"

namespace meoktong {

struct ControlServerSettings {
    std::string listen_host = "127.0.0.1";
    int listen_port = 0;              // 0: any free port (see ControlServer::bind)
    std::string token;                // bearer token; never logged
    std::string tls_cert, tls_key;    // PEM files; both empty = plain HTTP
    MeasureSettings measure;          // measure.allow_private is --allow-private
    size_t max_targets = 100;         // per request (413 beyond)
    size_t max_body_bytes = 256 << 10;  // request body (413 beyond)
    double rate_per_minute = 60;      // requests per client address (429 beyond)
    double rate_burst = 10;           // bucket size
    int threads = 16;                 // connections served at once
    int target_concurrency = 8;       // targets of one request measured at once
    int deadline_ms = 20000;          // targets not started by then: control_deadline_exceeded
    int io_timeout_s = 5;             // any single wait for a client (first byte, a read, a write)
    int request_timeout_s = 10;       // accept -> TLS handshake -> request fully read (slowloris bound)
    bool log_requests = true;         // one line per request through process_logger(), never the client address
};

using MeasureFunction =
    std::function<Observations(const Target&, const MeasureSettings&, std::chrono::steady_clock::time_point)>;

// Why the host alone forbids measuring (an IP literal, in any form the
// resolver would accept, in a special-purpose range), or nullopt.
std::optional<std::string> refused_host(const std::string& host, const std::vector<Cidr>& routable);

// "Bearer TOKEN" header check, in constant time with respect to the token.
bool bearer_token_matches(std::string_view authorization_header, std::string_view token);

class ControlServer {
public:
    explicit ControlServer(ControlServerSettings settings, MeasureFunction measure = measure_target);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Loads TLS material and binds; returns the bound port. Throws InputError
    // for unusable settings (bad certificate/key, cannot bind).
    int bind();
    // Serves until stop(); returns false if the listening socket failed.
    bool serve();
    // Stops serve() (also when called just before serve() got going); thread-safe.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace meoktong
