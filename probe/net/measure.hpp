// Measuring one target: DNS -> TCP -> TLS (+ neutral-SNI differential) -> HTTP,
// each step deadline-bounded, network failures recorded as data. Used by the
// probe's runner and by the control server alike.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "meoktong/ipaddr.hpp"
#include "meoktong/record.hpp"

namespace meoktong {

struct MeasureSettings {
    int timeout_ms = 5000;                 // per step (one DNS query, one connect, one handshake, one request)
    std::vector<std::string> resolvers;    // extra UDP resolvers, "IP" or "IP:PORT"; the system resolver is always used
    std::vector<std::string> doh;          // DNS-over-HTTPS resolvers, https:// URLs (RFC 8484, doh.hpp)
    bool query_system_resolver = true;     // false only in tests that must not leave loopback
    std::string ca_file;                   // trust store; empty = the system's
    // The directory of the app protocols' pinned roots (signal-roots.pem,
    // whatsapp-root-key.json); empty = the shipped ones (find_data_file).
    std::string app_roots_dir;
    std::string neutral_sni = "example.org";  // SNI for the differential retry
    int dns_late_window_ms = 300;          // keep listening after the first DNS answer for injected/late ones
    size_t max_body_bytes = 1 << 20;       // HTTP body bound
    size_t excerpt_bytes = 2048;           // HTTP body kept in the record (scrubbed)
    size_t max_addresses = 4;              // per family: how many resolved addresses get TCP/TLS
    bool allow_private = true;             // false on the control server: private etc. -> target_not_allowed
    std::vector<Cidr> routable;            // private ranges treated as public (labs)
    bool retry_timed_out_connect = true;   // a connect that timed out is tried once more (connect_retrying)
};

class Net;
struct TcpResult;

// A TCP connect to a target address, tried once more at once when it timed
// out and the settings allow: a lossy path now and then loses every SYN of
// one attempt, a blackhole drops the retry too. Both observations go to
// `out` (the retry with attempt 2); the result is the last attempt's.
TcpResult connect_retrying(Net& net, const std::string& ip, uint16_t port, const MeasureSettings& settings,
                           std::chrono::steady_clock::time_point start, std::vector<TcpObservation>& out);

// Measures `target`; all times are relative to `start`. Never throws for
// network failures: they are the observations' `failure` strings.
Observations measure_target(const Target& target, const MeasureSettings& settings,
                            std::chrono::steady_clock::time_point start);

}  // namespace meoktong
