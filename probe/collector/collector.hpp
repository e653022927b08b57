// The collector library (probe/collector/): the server many probes upload
// their reports to (`meoktong collector serve`, SPEC §6).
//
// The collector (`meoktong collector serve`, SPEC §6): the HTTP(S) server many
// probes upload their reports to, with cpp-httplib, in front of a Store.
//   POST /v1/reports  Authorization: Bearer TOKEN, Idempotency-Key: KEY, the
//                     NDJSON body `run --upload` sends. Answers only after the
//                     store said the report is durable:
//                     201 stored · 200 already stored (same key or run_id) ·
//                     400 malformed, naming the first bad line, nothing stored ·
//                     401 no, bad or revoked token · 411 chunked body ·
//                     413 body over max_body_bytes or more than kMaxReportRecords ·
//                     429 rate-limited (per probe; and one shared limit for
//                     requests without a valid token) · 503 the store failed
//                     (the probe keeps the report pending and resends it).
//   GET /v1/health    200, no token.
// Privacy: the address a probe connects from is never logged, stored or
// passed to the store; log lines name the probe by its token's label.
#pragma once

#include <memory>
#include <string>
#include <string_view>


#include "probe/store/store.hpp"

namespace meoktong::collector {

// Settings of one collector; the CLI fills them from its options.
struct CollectorSettings {
    std::string listen_host = "127.0.0.1";
    int listen_port = 0;                 // 0: any free port (see Collector::bind)
    std::string tokens_file;             // "LABEL TOKEN" lines (tokens.hpp); required
    std::string tls_cert, tls_key;       // PEM files; both empty = plain HTTP (behind a TLS proxy, or loopback)
    size_t max_body_bytes = 32 << 20;    // one report's body (413 beyond); a run of ~1,000 targets is ~5 MB
    double probe_rate_per_minute = 60;   // uploads per probe label (429 beyond)
    double probe_rate_burst = 30;        // a probe back online drains its queue in a burst
    double unauthenticated_rate_per_minute = 60;  // requests without a valid token, all clients together
    double unauthenticated_rate_burst = 20;
    int threads = 8;                     // requests served at once (the store serialises writes anyway); 4x as many wait
    int io_timeout_s = 10;               // any single wait for a client
    int request_timeout_s = 60;          // accept -> TLS handshake -> whole body read (slowloris bound)
    bool log_requests = true;            // one line per request on stderr, without the client's address
};

class Collector {
public:
    // Reads the tokens file (throws InputError); the store must outlive the collector.
    Collector(CollectorSettings settings, store::Store& store);
    ~Collector();
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;

    // Loads TLS material and binds; returns the bound port. Throws InputError
    // for unusable settings (bad certificate or key, cannot bind).
    int bind();
    // Serves until stop(); returns false if the listening socket failed.
    bool serve();
    // Stops serve() (also when called just before serve() got going); thread-safe.
    void stop();
    // Rereads the tokens file (the CLI calls it on SIGHUP): probes whose lines
    // are gone are refused from the next request on. On a bad file throws
    // InputError and keeps the tokens it had. Thread-safe.
    void reload_tokens();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace meoktong::collector

namespace meoktong::collector {

// An Idempotency-Key the collector accepts: 1 to 255 printable ASCII
// characters without spaces (run --upload sends the report's file name).
bool is_valid_idempotency_key(std::string_view key);

}  // namespace meoktong::collector
