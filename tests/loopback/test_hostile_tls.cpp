// Fault injection for the probe's TLS step (probe/net/tls.cpp): scripted servers
// on 127.0.0.1 send an enormous certificate chain (a real OpenSSL server with
// a thousand chain certificates), a Certificate message announced as 16 MB and
// streamed without end, an endless stream of handshake messages the client
// skips, and a ServerHello followed by one byte every 100 ms. Each handshake
// must return by its deadline with a failure string, without crashing.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <thread>

#include "meoktong/failure.hpp"
#include "probe/net/tcp.hpp"
#include "probe/net/tls.hpp"
#include "test_servers.hpp"

using namespace meoktong;
using namespace meoktong::testing;

namespace {

using Bytes = std::vector<unsigned char>;
// Serves one accepted connection; `stop` turns true when the test ends. True
// when the script ran to its end (rather than the probe hanging up first).
using Serve = std::function<bool(int fd, const std::atomic<bool>& stop)>;

// A TCP server on 127.0.0.1 that runs `serve` for each connection, one at a time.
class HostileTlsServer {
public:
    explicit HostileTlsServer(Serve serve) : serve_(std::move(serve)) {
        std::signal(SIGPIPE, SIG_IGN);  // the probe hangs up mid-write: normal here
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(listen_fd_, 4) != 0)
            throw std::runtime_error("hostile tls: listen");
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~HostileTlsServer() {
        stop_ = true;
        thread_.join();
        ::close(listen_fd_);
    }
    HostileTlsServer(const HostileTlsServer&) = delete;
    HostileTlsServer& operator=(const HostileTlsServer&) = delete;

    uint16_t port() const { return port_; }
    // True once a script ran out: the probe was still there when it ended.
    bool exhausted() const { return exhausted_; }

private:
    void loop() {
        while (!stop_) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (::poll(&p, 1, 5) <= 0) continue;
            int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            if (serve_(fd, stop_)) exhausted_ = true;
            ::close(fd);
        }
    }

    Serve serve_;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> exhausted_{false};
    std::thread thread_;
};

constexpr int kTimeoutMs = 1000;

TlsObservation handshake_with(const HostileTlsServer& server) {
    auto start = std::chrono::steady_clock::now();
    TcpResult tcp = tcp::connect("127.0.0.1", server.port(), kTimeoutMs, start);
    REQUIRE_MESSAGE(tcp.connection, "connect failed: " << tcp.observation.failure.value_or(""));
    TlsRequest req;
    req.sni = "good.test";
    req.verify_names = {"good.test"};
    req.ca_file = TestPki::get().ca_file;
    req.timeout_ms = kTimeoutMs;
    return tls::handshake(*tcp.connection, req, start);
}

std::string failure_of(const TlsObservation& o) { return o.failure.value_or("none"); }

bool read_exact(int fd, unsigned char* buf, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = ::recv(fd, buf + got, n - got, 0);
        if (r <= 0) return false;
        got += static_cast<size_t>(r);
    }
    return true;
}

// Reads the client's first TLS record (its ClientHello).
bool read_client_hello(int fd) {
    unsigned char header[5];
    if (!read_exact(fd, header, sizeof header)) return false;
    Bytes body(static_cast<size_t>(header[3] << 8 | header[4]));
    return read_exact(fd, body.data(), body.size());
}

bool send_all(int fd, const Bytes& bytes) {
    return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// One TLS 1.2 handshake record holding `body`.
Bytes handshake_record(const Bytes& body) {
    Bytes r(5 + body.size());
    r[0] = 0x16;
    r[1] = r[2] = 0x03;
    r[3] = static_cast<unsigned char>(body.size() >> 8);
    r[4] = static_cast<unsigned char>(body.size());
    std::copy(body.begin(), body.end(), r.begin() + 5);
    return r;
}

// A TLS 1.2 ServerHello choosing ECDHE-RSA-AES128-GCM-SHA256, with the
// renegotiation_info extension OpenSSL 3 clients insist on.
Bytes server_hello() {
    Bytes body{0x03, 0x03};
    body.insert(body.end(), 32, 0x42);                                  // server random
    body.insert(body.end(), {0x00, 0xC0, 0x2F, 0x00});                  // no session id, suite, no compression
    body.insert(body.end(), {0x00, 0x05, 0xFF, 0x01, 0x00, 0x01, 0x00});  // extensions: renegotiation_info
    Bytes message(4 + body.size());  // type, 24-bit length, body
    message[0] = 0x02;
    message[3] = static_cast<unsigned char>(body.size());
    std::copy(body.begin(), body.end(), message.begin() + 4);
    return handshake_record(message);
}

// Sends `record` again and again until the client hangs up, the test ends or
// `limit` records went out (true: the limit only bounds a broken probe's test run).
bool stream(int fd, const Bytes& record, const std::atomic<bool>& stop, int limit) {
    for (int i = 0; i < limit; ++i)
        if (stop || !send_all(fd, record)) return false;
    return true;
}

// A server context presenting the good.test certificate followed by `extra`
// copies of the test CA's certificate as its chain.
SSL_CTX* context_with_chain_of(int extra) {
    const auto& pki = TestPki::get();
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    REQUIRE(SSL_CTX_use_certificate_file(ctx, pki.good.cert.c_str(), SSL_FILETYPE_PEM) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey_file(ctx, pki.good.key.c_str(), SSL_FILETYPE_PEM) == 1);
    FILE* f = std::fopen(pki.ca_file.c_str(), "r");
    REQUIRE(f != nullptr);
    X509* ca = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    REQUIRE(ca != nullptr);
    for (int i = 0; i < extra; ++i) REQUIRE(SSL_CTX_add_extra_chain_cert(ctx, X509_dup(ca)) == 1);
    X509_free(ca);
    return ctx;
}

}  // namespace

TEST_CASE("hostile TLS: a real server with a thousand-certificate chain fails the handshake at the size limit") {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(context_with_chain_of(1000), SSL_CTX_free);
    HostileTlsServer server([&](int fd, const std::atomic<bool>&) {
        SSL* ssl = SSL_new(ctx.get());
        SSL_set_fd(ssl, fd);
        SSL_accept(ssl);  // fails once the probe gives up
        SSL_free(ssl);
        return false;
    });
    auto o = handshake_with(server);
    CHECK(failure_of(o) == failure::kSslFailedHandshake);
    CHECK(o.raw_error.find("excessive message size") != std::string::npos);
    CHECK_FALSE(o.certificate_valid);
}

TEST_CASE("hostile TLS: a Certificate message announced as 16 MB and streamed without end fails at once") {
    HostileTlsServer server([](int fd, const std::atomic<bool>& stop) {
        if (!read_client_hello(fd) || !send_all(fd, server_hello())) return false;
        Bytes first(16384, 0x30);
        first[0] = 0x0B;  // Certificate, length 0xFFFFFF
        first[1] = first[2] = first[3] = 0xFF;
        if (!send_all(fd, handshake_record(first))) return false;
        return stream(fd, handshake_record(Bytes(16384, 0x30)), stop, 200'000);
    });
    auto o = handshake_with(server);
    CHECK(failure_of(o) == failure::kSslFailedHandshake);
    CHECK(o.raw_error.find("excessive message size") != std::string::npos);
    CHECK(o.peer_certificates.empty());
}

TEST_CASE("hostile TLS: an endless stream of HelloRequests after the ServerHello ends at the deadline") {
    HostileTlsServer server([](int fd, const std::atomic<bool>& stop) {
        int big = 4 << 20;  // a deep send buffer keeps the probe's socket readable without pause
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        if (!read_client_hello(fd) || !send_all(fd, server_hello())) return false;
        Bytes megabyte;  // 64 records of 4096 empty HelloRequests each
        for (int i = 0; i < 64; ++i) {
            Bytes record = handshake_record(Bytes(16384, 0x00));
            megabyte.insert(megabyte.end(), record.begin(), record.end());
        }
        return stream(fd, megabyte, stop, 2'000);
    });
    auto o = handshake_with(server);
    CHECK(failure_of(o) == failure::kTimeout);
    CHECK(o.raw_error == "handshake timed out");
    CHECK_FALSE(server.exhausted());  // the deadline ended it, not the server running out
}

TEST_CASE("hostile TLS: a ServerHello then one byte every 100 ms ends at the deadline") {
    HostileTlsServer server([](int fd, const std::atomic<bool>& stop) {
        if (!read_client_hello(fd) || !send_all(fd, server_hello())) return false;
        Bytes trickle = handshake_record(Bytes(16384, 0x30));
        trickle[5] = 0x0B;  // a Certificate message, never finished
        for (size_t i = 0; i < 100; ++i) {  // 10 s; then the server hangs up
            if (stop || !send_all(fd, Bytes{trickle[i]})) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return true;
    });
    auto o = handshake_with(server);
    CHECK(failure_of(o) == failure::kTimeout);
    CHECK(o.raw_error == "handshake timed out");
    CHECK_FALSE(server.exhausted());
}
