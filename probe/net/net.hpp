// The net library (probe/net/): the only library that touches the network
// to measure. DNS (c-ares), TCP, TLS (OpenSSL), HTTP (libcurl), packet capture
// (libpcap) and parsing, the app protocols' first exchanges (docs/protocols.md),
// the mapping of library errors onto failure names, and measuring one target,
// all behind the Net seam declared here.
//
// The network seam of the probe: the primitives a measurement uses (DNS
// lookup, TCP connect, TLS handshake, HTTP GET, an HTTPS POST of bytes (DNS
// over HTTPS), and an app protocol's first
// exchange over a stream, in datagrams or inside a TLS session) behind one
// narrow interface.
// SystemNet does real I/O (probe/dns, tcp, tls, http, app_io); unit tests put a fake
// behind it so the measurement logic of measure.cpp runs with no network.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "probe/net/measure.hpp"
#include "meoktong/record.hpp"

namespace meoktong {

using SteadyTime = std::chrono::steady_clock::time_point;

// Milliseconds from `start` to now (the t0_ms/t_ms of observations).
double ms_since(SteadyTime start);

// A resolver to ask: label "system" (the address is taken from the system's
// resolv.conf by the implementation) or the "IP:PORT" given with --resolver.
struct ResolverSpec {
    std::string label;
    std::string address;  // "IP:PORT" / "[IPv6]:PORT"; empty for "system"
};

// A connected TCP socket (fd < 0 for fakes); closed on destruction.
struct Connection {
    std::string ip;
    uint16_t port = 0;
    int fd = -1;
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();
};

struct TcpResult {
    TcpObservation observation;
    std::unique_ptr<Connection> connection;  // null when the connect failed
};

struct TlsRequest {
    std::string sni;                       // "" = no SNI (IP-literal hosts)
    std::vector<std::string> verify_names;  // host names or one IP literal the certificate must match
    std::string purpose = "target";
    std::string ca_file;                    // "" = system store
    int timeout_ms = 5000;
};

// The TLS request of a target's handshake with `sni`: the certificate must
// carry the target's cert_names (default: its host), against settings' trust store.
TlsRequest tls_request_for(const Target& t, const MeasureSettings& s, const std::string& sni, const char* purpose);

struct HttpRequest {
    std::string url;        // full URL with the target host name
    std::string host;       // host name in the URL
    std::string ip;         // address the request is pinned to
    uint16_t port = 0;
    std::string ca_file;
    int timeout_ms = 5000;
    size_t max_body_bytes = 1 << 20;
    size_t excerpt_bytes = 2048;
    bool measure_throughput = false;
    // Optional: told the connection's local port once it is established, before
    // the request is sent (packet capture narrows its watch to that flow).
    std::function<void(uint16_t local_port)> on_connected;
};

// An app protocol's first exchange (SPEC §7) as bytes: the protocol modules
// (mtproto.hpp, stun.hpp) build the request and say when the reply is in.
struct AppExchange {
    std::vector<uint8_t> request;
    // Stream: true once the bytes so far are a whole reply. Datagram: true for
    // a datagram that answers the request (others are ignored).
    std::function<bool(std::span<const uint8_t>)> reply_complete;
    int timeout_ms = 5000;
    std::vector<int> resend_after_ms;  // datagrams: resend at these offsets from the first send
    size_t max_reply_bytes = 64 * 1024;
};

// An HTTPS POST of bytes (a DNS-over-HTTPS query, RFC 8484; doh.hpp builds
// it): the host name in the URL is resolved by the system (or is an IP
// literal), never by the measured resolvers.
struct PostRequest {
    std::string url;
    std::string content_type;   // of the body, also sent as Accept
    std::vector<uint8_t> body;
    std::string ca_file;        // "" = system store
    int timeout_ms = 5000;
    size_t max_reply_bytes = 64 * 1024;
};

struct PostReply {
    double t0_ms = 0, t_ms = 0;
    std::optional<std::string> failure;  // the transport's (libcurl's): timeout, connection_reset, ssl_* ...
    std::string raw_error;
    std::string server_address;          // "IP:PORT" connected to ("" when no connection was made)
    int status = 0;                      // HTTP status (0 = none)
    std::string content_type;            // of the reply
    std::vector<uint8_t> body;           // at most max_reply_bytes (more is failure http_body_too_large)
};

struct AppReply {
    double t0_ms = 0, t_ms = 0;
    std::optional<std::string> failure;  // the transport's: timeout, connection_reset, eof ...
    std::string raw_error;
    std::vector<uint8_t> bytes;          // what arrived (a datagram exchange: the answering datagram)
};

// A TLS handshake and, when its certificate verified, the app exchange
// inside the session (loco://, signal://).
struct TlsExchangeResult {
    TlsObservation tls;
    std::optional<AppReply> reply;  // null when the handshake failed or the certificate did not verify
};

class Net {
public:
    virtual ~Net() = default;
    // A and AAAA for `host` at every resolver, all in parallel; returns, per
    // resolver in order, the A observation then the AAAA observation.
    virtual std::vector<DnsObservation> dns_lookup(const std::string& host, const std::vector<ResolverSpec>& resolvers,
                                                   int timeout_ms, int late_window_ms, SteadyTime start) = 0;
    virtual TcpResult tcp_connect(const std::string& ip, uint16_t port, int timeout_ms, SteadyTime start) = 0;
    virtual TlsObservation tls_handshake(Connection& conn, const TlsRequest& request, SteadyTime start) = 0;
    virtual HttpObservation http_get(const HttpRequest& request, SteadyTime start) = 0;
    virtual PostReply https_post(const PostRequest& request, SteadyTime start) = 0;
    // Sends the request on a connected stream, reads until the reply is whole,
    // the peer closes or the deadline passes.
    virtual AppReply stream_exchange(Connection& conn, const AppExchange& exchange, SteadyTime start) = 0;
    // Sends the request in a UDP datagram to ip:port (resent on schedule) until
    // an answering datagram arrives or the deadline passes.
    virtual AppReply datagram_exchange(const std::string& ip, uint16_t port, const AppExchange& exchange,
                                       SteadyTime start) = 0;
    // A TLS handshake on a connected stream, then the exchange inside the
    // session when the certificate verified against request.ca_file.
    virtual TlsExchangeResult tls_exchange(Connection& conn, const TlsRequest& request, const AppExchange& exchange,
                                           SteadyTime start) = 0;
};

// The real network.
class SystemNet : public Net {
public:
    SystemNet();  // ignores SIGPIPE process-wide: a reset peer is data, not a crash
    std::vector<DnsObservation> dns_lookup(const std::string& host, const std::vector<ResolverSpec>& resolvers,
                                           int timeout_ms, int late_window_ms, SteadyTime start) override;
    TcpResult tcp_connect(const std::string& ip, uint16_t port, int timeout_ms, SteadyTime start) override;
    TlsObservation tls_handshake(Connection& conn, const TlsRequest& request, SteadyTime start) override;
    HttpObservation http_get(const HttpRequest& request, SteadyTime start) override;
    PostReply https_post(const PostRequest& request, SteadyTime start) override;
    AppReply stream_exchange(Connection& conn, const AppExchange& exchange, SteadyTime start) override;
    AppReply datagram_exchange(const std::string& ip, uint16_t port, const AppExchange& exchange,
                               SteadyTime start) override;
    TlsExchangeResult tls_exchange(Connection& conn, const TlsRequest& request, const AppExchange& exchange,
                                   SteadyTime start) override;
};

// measure_target (measure.hpp) over any Net: the measurement logic itself.
Observations measure_target_with(Net& net, const Target& target, const MeasureSettings& settings, SteadyTime start);

}  // namespace meoktong
