// A Net decorator that tells one measurement's packet capture which flows are
// its own (the resolvers it asks, the addresses it connects to) before the
// traffic starts, then delegates the real work to another Net.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "probe/net/capture.hpp"
#include "probe/net/net.hpp"

namespace meoktong {

// "IP:PORT" or "[IPv6]:PORT" -> (IP, PORT): split_host_port with the port
// required; nullopt if malformed or without a port.
std::optional<std::pair<std::string, uint16_t>> split_ip_port(const std::string& address);

class CapturingNet : public Net {
public:
    CapturingNet(Net& inner, CaptureMeasurement& capture) : inner_(inner), capture_(capture) {}

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

private:
    Net& inner_;
    CaptureMeasurement& capture_;
};

}  // namespace meoktong
