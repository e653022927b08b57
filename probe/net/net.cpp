// SystemNet: the real network behind the seam of net.hpp, forwarding to the
// DNS, TCP, TLS, HTTP and app-exchange modules.
#include "probe/net/net.hpp"

#include <csignal>
#include <mutex>

#include "probe/net/app_io.hpp"
#include "probe/net/dns.hpp"
#include "probe/net/http.hpp"
#include "probe/net/tcp.hpp"
#include "probe/net/tls.hpp"

namespace meoktong {
namespace {

// A peer that resets while OpenSSL writes would raise SIGPIPE and kill the
// whole run; a write error is a measurement result, so the signal is ignored.
void ignore_sigpipe() {
    static std::once_flag once;
    std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

}  // namespace

SystemNet::SystemNet() { ignore_sigpipe(); }

double ms_since(SteadyTime start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::vector<DnsObservation> SystemNet::dns_lookup(const std::string& host, const std::vector<ResolverSpec>& resolvers,
                                                  int timeout_ms, int late_window_ms, SteadyTime start) {
    return dns::lookup(host, resolvers, timeout_ms, late_window_ms, start);
}

TcpResult SystemNet::tcp_connect(const std::string& ip, uint16_t port, int timeout_ms, SteadyTime start) {
    return tcp::connect(ip, port, timeout_ms, start);
}

TlsObservation SystemNet::tls_handshake(Connection& conn, const TlsRequest& request, SteadyTime start) {
    return tls::handshake(conn, request, start);
}

HttpObservation SystemNet::http_get(const HttpRequest& request, SteadyTime start) {
    return http::get(request, start);
}

PostReply SystemNet::https_post(const PostRequest& request, SteadyTime start) { return http::post(request, start); }

AppReply SystemNet::stream_exchange(Connection& conn, const AppExchange& exchange, SteadyTime start) {
    return app_io::stream_exchange(conn, exchange, start);
}

AppReply SystemNet::datagram_exchange(const std::string& ip, uint16_t port, const AppExchange& exchange,
                                      SteadyTime start) {
    return app_io::datagram_exchange(ip, port, exchange, start);
}

TlsExchangeResult SystemNet::tls_exchange(Connection& conn, const TlsRequest& request, const AppExchange& exchange,
                                          SteadyTime start) {
    return tls::handshake_and_exchange(conn, request, exchange, start);
}

}  // namespace meoktong
