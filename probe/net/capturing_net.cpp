// CapturingNet (capturing_net.hpp): registers each DNS, TCP and HTTP flow with
// the measurement's capture, then lets the wrapped Net do the I/O.
#include "probe/net/capturing_net.hpp"

#include <sys/socket.h>
#include <netinet/in.h>

#include "meoktong/parse.hpp"
#include "probe/net/dns.hpp"

namespace meoktong {

namespace {

// The local port of a connected socket, 0 if unknown (fakes have no socket).
uint16_t local_port_of(int fd) {
    if (fd < 0) return 0;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    return 0;
}

}  // namespace

std::optional<std::pair<std::string, uint16_t>> split_ip_port(const std::string& address) {
    auto host_port = split_host_port(address);
    if (!host_port || !host_port->port) return std::nullopt;
    return std::make_pair(std::move(host_port->host), *host_port->port);
}

std::vector<DnsObservation> CapturingNet::dns_lookup(const std::string& host, const std::vector<ResolverSpec>& resolvers,
                                                     int timeout_ms, int late_window_ms, SteadyTime start) {
    for (const auto& r : resolvers) {
        std::string address = r.label == "system" ? dns::system_resolver_address() : r.address;
        if (auto ip_port = split_ip_port(address)) capture_.watch_dns(ip_port->first, ip_port->second, -1, host);
    }
    return inner_.dns_lookup(host, resolvers, timeout_ms, late_window_ms, start);
}

TcpResult CapturingNet::tcp_connect(const std::string& ip, uint16_t port, int timeout_ms, SteadyTime start) {
    capture_.watch_tcp(ip, port);
    TcpResult result = inner_.tcp_connect(ip, port, timeout_ms, start);
    if (result.connection) {
        if (uint16_t local = local_port_of(result.connection->fd)) capture_.watch_tcp(ip, port, local);
    }
    return result;
}

TlsObservation CapturingNet::tls_handshake(Connection& conn, const TlsRequest& request, SteadyTime start) {
    return inner_.tls_handshake(conn, request, start);
}

// curl opens its own connection: watched from the first SYN-ACK, then narrowed
// to curl's local port once it is known.
HttpObservation CapturingNet::http_get(const HttpRequest& request, SteadyTime start) {
    if (request.ip.empty() || !capture_.watch_tcp(request.ip, request.port)) return inner_.http_get(request, start);
    HttpRequest watched = request;
    watched.on_connected = [&, previous = request.on_connected](uint16_t local_port) {
        capture_.watch_tcp(request.ip, request.port, local_port);
        if (previous) previous(local_port);
    };
    return inner_.http_get(watched, start);
}

// DNS over HTTPS: the resolver's address is libcurl's to find, so the capture
// does not watch it (its packets are TLS, nothing to read in them).
PostReply CapturingNet::https_post(const PostRequest& request, SteadyTime start) {
    return inner_.https_post(request, start);
}

// The stream is the connection tcp_connect already watched (for a TLS
// exchange too); UDP exchanges are not captured (the capture watches DNS and
// TCP flows only).
AppReply CapturingNet::stream_exchange(Connection& conn, const AppExchange& exchange, SteadyTime start) {
    return inner_.stream_exchange(conn, exchange, start);
}

AppReply CapturingNet::datagram_exchange(const std::string& ip, uint16_t port, const AppExchange& exchange,
                                         SteadyTime start) {
    return inner_.datagram_exchange(ip, port, exchange, start);
}

TlsExchangeResult CapturingNet::tls_exchange(Connection& conn, const TlsRequest& request, const AppExchange& exchange,
                                             SteadyTime start) {
    return inner_.tls_exchange(conn, request, exchange, start);
}

}  // namespace meoktong
