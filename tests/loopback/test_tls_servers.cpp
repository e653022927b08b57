// TCP and TLS failure strings proven on real loopback sockets: refused,
// timeout, reset (on accept and after the ClientHello), EOF, alert, and the
// certificate failures (wrong name, expired, unknown authority).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "meoktong/failure.hpp"
#include "probe/net/tcp.hpp"
#include "probe/net/tls.hpp"
#include "test_servers.hpp"

using namespace meoktong;
using namespace meoktong::testing;

namespace {

constexpr int kTimeoutMs = 1500;

TlsObservation handshake_with(uint16_t port, const std::string& sni, const std::string& ca_file,
                              const std::string& ip = "127.0.0.1") {
    auto start = std::chrono::steady_clock::now();
    TcpResult tcp = tcp::connect(ip, port, kTimeoutMs, start);
    REQUIRE_MESSAGE(tcp.connection, "connect failed: " << tcp.observation.failure.value_or(""));
    TlsRequest req;
    req.sni = sni;
    req.verify_names = {sni.empty() ? ip : sni};
    req.ca_file = ca_file;
    req.timeout_ms = kTimeoutMs;
    return tls::handshake(*tcp.connection, req, start);
}

std::string failure_of(const TlsObservation& o) { return o.failure.value_or("none"); }

// An HTTP GET as an app exchange inside the session (tls::handshake_and_exchange).
TlsExchangeResult exchange_with(uint16_t port, const std::string& sni) {
    auto start = std::chrono::steady_clock::now();
    TcpResult tcp = tcp::connect("127.0.0.1", port, kTimeoutMs, start);
    REQUIRE(tcp.connection);
    TlsRequest req;
    req.sni = sni;
    req.verify_names = {sni};
    req.ca_file = TestPki::get().ca_file;
    req.timeout_ms = kTimeoutMs;
    AppExchange ex;
    std::string get = "GET / HTTP/1.1\r\nHost: good.test\r\n\r\n";
    ex.request.assign(get.begin(), get.end());
    ex.reply_complete = [](std::span<const uint8_t> reply) {
        return std::string(reply.begin(), reply.end()).find("</title>") != std::string::npos;
    };
    ex.timeout_ms = kTimeoutMs;
    return tls::handshake_and_exchange(*tcp.connection, req, ex, start);
}

}  // namespace

TEST_CASE("TCP: a closed port is connection_refused") {
    auto r = tcp::connect("127.0.0.1", closed_port(), kTimeoutMs, std::chrono::steady_clock::now());
    CHECK_FALSE(r.connection);
    CHECK(r.observation.failure == failure::kConnectionRefused);
    CHECK(r.observation.raw_error == "ECONNREFUSED");
    CHECK(r.observation.t_ms >= r.observation.t0_ms);
}

TEST_CASE("TCP: a listener whose accept queue is full drops the SYN: generic_timeout_error") {
    uint16_t port = 0;
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&a), len) == 0);
    REQUIRE(::listen(listener, 0) == 0);
    getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    auto start = std::chrono::steady_clock::now();
    std::vector<TcpResult> fillers;
    TcpResult last;
    for (int i = 0; i < 4; ++i) {  // fill the queue; the first connect that cannot complete times out
        last = tcp::connect("127.0.0.1", port, 300, start);
        if (!last.connection) break;
        fillers.push_back(std::move(last));
    }
    CHECK(last.observation.failure == failure::kTimeout);
    ::close(listener);
}

TEST_CASE("TLS: a good certificate from the test CA verifies, with chain details recorded") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good);
    auto o = handshake_with(server.port(), "good.test", TestPki::get().ca_file);
    CHECK_FALSE(o.failure.has_value());
    CHECK(o.certificate_valid);
    CHECK(o.tls_version.rfind("TLSv1.", 0) == 0);
    CHECK_FALSE(o.cipher.empty());
    CHECK(o.sni == "good.test");
    REQUIRE(o.peer_certificates.size() >= 1);
    const auto& leaf = o.peer_certificates[0];
    CHECK(leaf.subject == "CN=good.test");
    CHECK(leaf.issuer == "CN=meoktong test CA");
    CHECK(leaf.dns_names == std::vector<std::string>{"good.test"});
    CHECK(leaf.sha256.size() == 64);
    CHECK(leaf.not_after.size() == 20);
}

TEST_CASE("TLS exchange: the request goes inside a verified session and the reply is read until whole") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good);
    auto r = exchange_with(server.port(), "good.test");
    CHECK(r.tls.certificate_valid);
    REQUIRE(r.reply);
    CHECK_FALSE(r.reply->failure);
    std::string text(r.reply->bytes.begin(), r.reply->bytes.end());
    CHECK(text.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(r.reply->t_ms >= r.reply->t0_ms);
}

TEST_CASE("TLS exchange: nothing is sent to a server whose certificate does not verify") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().wrong_name);
    auto r = exchange_with(server.port(), "good.test");
    CHECK(failure_of(r.tls) == failure::kSslInvalidHostname);
    CHECK_FALSE(r.reply);
}

TEST_CASE("TLS: an IP-literal target verifies against the certificate's IP SAN") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good);
    auto o = handshake_with(server.port(), "", TestPki::get().ca_file);
    CHECK_FALSE(o.failure.has_value());
    CHECK(o.certificate_valid);
}

TEST_CASE("TLS: a certificate for another name is ssl_invalid_hostname, the handshake still recorded") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().wrong_name);
    auto o = handshake_with(server.port(), "good.test", TestPki::get().ca_file);
    CHECK(failure_of(o) == failure::kSslInvalidHostname);
    CHECK_FALSE(o.certificate_valid);
    CHECK_FALSE(o.tls_version.empty());
    REQUIRE_FALSE(o.peer_certificates.empty());
    CHECK(o.peer_certificates[0].subject == "CN=other.test");
}

TEST_CASE("TLS: an expired certificate is ssl_invalid_certificate") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().expired);
    auto o = handshake_with(server.port(), "good.test", TestPki::get().ca_file);
    CHECK(failure_of(o) == failure::kSslInvalidCertificate);
    CHECK(o.raw_error.find("expired") != std::string::npos);
}

TEST_CASE("TLS: a self-signed certificate (a MITM's) is ssl_unknown_authority, with its issuer recorded") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().self_signed);
    auto o = handshake_with(server.port(), "good.test", TestPki::get().ca_file);
    CHECK(failure_of(o) == failure::kSslUnknownAuthority);
    REQUIRE_FALSE(o.peer_certificates.empty());
    CHECK(o.peer_certificates[0].issuer == "CN=good.test");
}

TEST_CASE("TLS: the test CA is unknown to the system trust store") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good);
    auto o = handshake_with(server.port(), "good.test", "");
    CHECK(failure_of(o) == failure::kSslUnknownAuthority);
}

TEST_CASE("TLS: a reset right after accept is connection_reset") {
    TcpTestServer server(Behaviour::ResetOnAccept);
    // The kernel completes the handshake before the server accepts, so the
    // RST can reach the client while its connect is still being confirmed:
    // then the connect step carries the reset. Either step must name it.
    auto start = std::chrono::steady_clock::now();
    TcpResult tcp = tcp::connect("127.0.0.1", server.port(), kTimeoutMs, start);
    if (!tcp.connection) {
        CHECK(tcp.observation.failure == failure::kConnectionReset);
        CHECK(tcp.observation.raw_error == "ECONNRESET");
        return;
    }
    TlsRequest req;
    req.sni = "good.test";
    req.verify_names = {"good.test"};
    req.ca_file = TestPki::get().ca_file;
    req.timeout_ms = kTimeoutMs;
    auto o = tls::handshake(*tcp.connection, req, start);
    CHECK(failure_of(o) == failure::kConnectionReset);
    CHECK(o.raw_error == "ECONNRESET");
}

TEST_CASE("TLS: a reset after the ClientHello (SNI filtering) is connection_reset") {
    TcpTestServer server(Behaviour::ResetAfterHello);
    auto o = handshake_with(server.port(), "good.test", TestPki::get().ca_file);
    CHECK(failure_of(o) == failure::kConnectionReset);
}

TEST_CASE("TLS: a server that never answers is generic_timeout_error") {
    TcpTestServer server(Behaviour::Silent);
    auto o = handshake_with(server.port(), "good.test", TestPki::get().ca_file);
    CHECK(failure_of(o) == failure::kTimeout);
    CHECK(o.t_ms - o.t0_ms >= kTimeoutMs - 50);
}

TEST_CASE("TLS: a close after the ClientHello is eof_error") {
    TcpTestServer server(Behaviour::CloseAfterHello);
    auto o = handshake_with(server.port(), "good.test", TestPki::get().ca_file);
    CHECK(failure_of(o) == failure::kEof);
}

TEST_CASE("TLS: a fatal alert is ssl_failed_handshake") {
    TcpTestServer server(Behaviour::AlertAfterHello);
    auto o = handshake_with(server.port(), "good.test", TestPki::get().ca_file);
    CHECK(failure_of(o) == failure::kSslFailedHandshake);
    CHECK(o.raw_error.find("alert") != std::string::npos);
}

TEST_CASE("TLS over IPv6 loopback") {
    if (!ipv6_loopback_available()) {
        MESSAGE("::1 cannot be bound here: IPv6 case skipped");
        return;
    }
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good, "::1");
    auto o = handshake_with(server.port(), "good.test", TestPki::get().ca_file, "::1");
    CHECK_FALSE(o.failure.has_value());
    CHECK(o.ip == "::1");
}
