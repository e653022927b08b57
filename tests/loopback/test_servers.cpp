// Test servers and the throw-away PKI of test_servers.hpp. Test code only.
#include "test_servers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "dns_packet_builder.hpp"

namespace meoktong::testing {
namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;
constexpr long kDay = 24 * 3600;

KeyPtr new_key() { return KeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free); }

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) throw std::runtime_error("test PKI: bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// A certificate for `key`, signed by issuer_key (issuer == nullptr: self-signed).
CertPtr new_cert(EVP_PKEY* key, const std::string& cn, EVP_PKEY* issuer_key, X509* issuer, long from_s, long to_s,
                 const std::string& san, bool ca) {
    CertPtr cert(X509_new(), X509_free);
    X509* x = cert.get();
    X509_set_version(x, 2);
    unsigned char serial[8];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7F;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), from_s);
    X509_gmtime_adj(X509_getm_notAfter(x), to_s);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509* signer = issuer != nullptr ? issuer : x;
    X509_set_issuer_name(x, X509_get_subject_name(signer));
    add_ext(x, signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    add_ext(x, signer, NID_subject_key_identifier, "hash");
    if (ca) {
        add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, signer, NID_authority_key_identifier, "keyid");
        add_ext(x, signer, NID_ext_key_usage, "serverAuth");
    }
    if (!san.empty()) add_ext(x, signer, NID_subject_alt_name, san);
    X509_sign(x, issuer_key, EVP_sha256());
    return cert;
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("test PKI: cannot write " + path);
    if (cert != nullptr) PEM_write_X509(f, cert);
    if (key != nullptr) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
}

CertFiles write_pair(const std::string& dir, const std::string& name, X509* cert, EVP_PKEY* key) {
    CertFiles files{dir + "/" + name + ".pem", dir + "/" + name + ".key"};
    write_pem(files.cert, cert, nullptr);
    write_pem(files.key, nullptr, key);
    return files;
}

TestPki make_pki() {
    TestPki pki;
    char tmpl[] = "/tmp/meoktong-pki-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("test PKI: mkdtemp");
    pki.dir = tmpl;
    auto ca_key = new_key();
    auto ca = new_cert(ca_key.get(), "meoktong test CA", ca_key.get(), nullptr, -kDay, 30 * kDay, "", true);
    pki.ca_file = pki.dir + "/ca.pem";
    write_pem(pki.ca_file, ca.get(), nullptr);
    const std::string good_san = "DNS:good.test,IP:127.0.0.1,IP:::1";
    auto key = new_key();
    auto good = new_cert(key.get(), "good.test", ca_key.get(), ca.get(), -kDay, 30 * kDay, good_san, false);
    pki.good = write_pair(pki.dir, "good", good.get(), key.get());
    auto wrong = new_cert(key.get(), "other.test", ca_key.get(), ca.get(), -kDay, 30 * kDay, "DNS:other.test", false);
    pki.wrong_name = write_pair(pki.dir, "wrong", wrong.get(), key.get());
    auto expired = new_cert(key.get(), "good.test", ca_key.get(), ca.get(), -3 * kDay, -kDay, good_san, false);
    pki.expired = write_pair(pki.dir, "expired", expired.get(), key.get());
    auto self = new_cert(key.get(), "good.test", key.get(), nullptr, -kDay, 30 * kDay, good_san, false);
    pki.self_signed = write_pair(pki.dir, "self", self.get(), key.get());
    return pki;
}

// Everything written here is removed at exit.
struct PkiHolder {
    TestPki pki = make_pki();
    ~PkiHolder() {
        std::error_code ec;
        std::filesystem::remove_all(pki.dir, ec);
    }
};

int listen_socket(const std::string& ip, int backlog, uint16_t& port) {
    bool v6 = ip.find(':') != std::string::npos;
    int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
        len = sizeof *a;
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, backlog) != 0) {
        ::close(fd);
        throw std::runtime_error("test server: cannot listen on " + ip);
    }
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    return fd;
}

bool read_exact(int fd, unsigned char* buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = ::recv(fd, buf + got, n - got, 0);
        if (r <= 0) return false;
        got += static_cast<size_t>(r);
    }
    return true;
}

// Reads one TLS record (the ClientHello) completely.
bool read_client_hello(int fd) {
    unsigned char header[5];
    if (!read_exact(fd, header, sizeof header)) return false;
    size_t len = static_cast<size_t>(header[3] << 8 | header[4]);
    std::vector<unsigned char> body(len);
    return read_exact(fd, body.data(), len);
}

void reset_close(int fd) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

const char kPage[] =
    "<html><head><title>meoktong test page</title></head><body>hello from the loopback</body></html>";

void serve_tls(SSL_CTX* ctx, int fd) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        char buf[4096];
        std::string request;
        for (int n; request.find("\r\n\r\n") == std::string::npos && (n = SSL_read(ssl, buf, sizeof buf)) > 0;)
            request.append(buf, static_cast<size_t>(n));
        if (!request.empty()) {
            std::string response = http_response_for(request);
            SSL_write(ssl, response.data(), static_cast<int>(response.size()));
        }
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ::close(fd);
}

// Plain HTTP: the answer of http_response_for; with `stall_after` > 0 only that many
// bytes of it, then silence (no FIN, no reset) until the client gives up.
void serve_http(int fd, size_t stall_after = 0) {
    char buf[4096];
    std::string request;
    for (ssize_t n; request.find("\r\n\r\n") == std::string::npos && (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        request.append(buf, static_cast<size_t>(n));
    std::string response = http_response_for(request);
    if (stall_after > 0) response.resize(std::min(response.size(), stall_after));
    ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    if (stall_after == 0) ::shutdown(fd, SHUT_WR);
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
    }
    ::close(fd);
}

}  // namespace

std::string http_response_for(const std::string& request) {
    bool big = request.rfind("GET /big", 0) == 0;
    std::string body = big ? std::string(256 * 1024, 'x') : std::string(kPage);
    return "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Test: loopback\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

const TestPki& TestPki::get() {
    static PkiHolder holder;
    return holder.pki;
}

TcpTestServer::TcpTestServer(Behaviour behaviour, CertFiles cert, const std::string& bind_ip)
    : behaviour_(behaviour), cert_(std::move(cert)) {
    std::signal(SIGPIPE, SIG_IGN);  // clients that hang up are normal here
    if (behaviour_ == Behaviour::TlsOk) {
        SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
        if (SSL_CTX_use_certificate_file(ctx, cert_.cert.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, cert_.key.c_str(), SSL_FILETYPE_PEM) != 1) {
            SSL_CTX_free(ctx);
            throw std::runtime_error("test server: cannot load " + cert_.cert);
        }
        ssl_ctx_ = ctx;
    }
    listen_fd_ = listen_socket(bind_ip, 1024, port_);
    if (behaviour_ != Behaviour::Silent) acceptor_ = std::thread([this] { accept_loop(); });
}

TcpTestServer::~TcpTestServer() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : handlers_) t.join();
    ::close(listen_fd_);
    SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

void TcpTestServer::accept_loop() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ++accepted_;
        timeval tv{3, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        std::lock_guard lock(mutex_);
        handlers_.emplace_back([this, fd] { serve(fd); });
    }
}

void TcpTestServer::serve(int fd) {
    switch (behaviour_) {
        case Behaviour::TlsOk:
            serve_tls(static_cast<SSL_CTX*>(ssl_ctx_), fd);
            return;
        case Behaviour::HttpOk:
            serve_http(fd);
            return;
        case Behaviour::HttpStall:
            serve_http(fd, 16 * 1024);
            return;
        case Behaviour::ResetOnAccept:
            reset_close(fd);
            return;
        case Behaviour::ResetAfterHello:
            read_client_hello(fd);
            reset_close(fd);
            return;
        case Behaviour::CloseAfterHello:
            read_client_hello(fd);
            ::shutdown(fd, SHUT_WR);
            ::close(fd);
            return;
        case Behaviour::AlertAfterHello: {
            read_client_hello(fd);
            const unsigned char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
            ::send(fd, alert, sizeof alert, MSG_NOSIGNAL);
            unsigned char sink[256];
            while (::recv(fd, sink, sizeof sink, 0) > 0) {
            }
            ::close(fd);
            return;
        }
        case Behaviour::Silent:
            ::close(fd);
            return;
    }
}

uint16_t closed_port() {
    uint16_t port = 0;
    int fd = listen_socket("127.0.0.1", 1, port);
    ::close(fd);
    return port;
}

bool ipv6_loopback_available() {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

DnsTestServer::DnsTestServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0) throw std::runtime_error("dns test server: bind");
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
}

DnsTestServer::~DnsTestServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
}

int DnsTestServer::queries_for(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(name);
    return it == counts_.end() ? 0 : it->second;
}

void DnsTestServer::loop() {
    struct Delayed {
        std::chrono::steady_clock::time_point due;
        std::vector<unsigned char> packet;
        sockaddr_in to;
    };
    std::vector<Delayed> delayed;
    while (!stop_) {
        auto now = std::chrono::steady_clock::now();
        for (auto it = delayed.begin(); it != delayed.end();) {
            if (it->due > now) {
                ++it;
                continue;
            }
            ::sendto(fd_, it->packet.data(), it->packet.size(), 0, reinterpret_cast<sockaddr*>(&it->to), sizeof it->to);
            it = delayed.erase(it);
        }
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 5) <= 0) continue;
        unsigned char buf[1500];
        sockaddr_in from{};
        socklen_t from_len = sizeof from;
        ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n <= 0) continue;
        TestQuestion q = read_question(buf, static_cast<size_t>(n));
        if (!q.ok) continue;
        int count;
        {
            std::lock_guard lock(mutex_);
            count = ++counts_[q.name + "/" + std::to_string(q.type)];
            ++counts_[q.name];
        }
        auto send = [&](const std::vector<unsigned char>& packet) {
            ::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
        };
        bool a = q.type == 1;
        if (q.name == "silent.test" || (q.name == "retransmit.test" && count == 1)) continue;
        if (q.name == "ok.test" || q.name == "retransmit.test") {
            send(build_response(q.id, q.name, q.type, 0,
                                {a ? TestAnswer{1, "192.0.2.1", 300} : TestAnswer{28, "2001:db8::1", 300}}));
        } else if (q.name == "good.test") {
            send(build_response(q.id, q.name, q.type, 0, a ? std::vector<TestAnswer>{{1, "127.0.0.1", 60}} : std::vector<TestAnswer>{}));
        } else if (q.name == "inject.test" && a) {
            send(build_response(q.id, q.name, q.type, 0, {{1, "10.10.34.35", 60}}));
            delayed.push_back({std::chrono::steady_clock::now() + std::chrono::milliseconds(50),
                               build_response(q.id, q.name, q.type, 0, {{1, "192.0.2.7", 300}}), from});
        } else if (q.name == "inject.test" || q.name == "empty.test") {
            send(build_response(q.id, q.name, q.type, 0, {}));
        } else if (q.name == "servfail.test") {
            send(build_response(q.id, q.name, q.type, 2, {}));
        } else if (q.name == "refused.test") {
            send(build_response(q.id, q.name, q.type, 5, {}));
        } else {
            send(build_response(q.id, q.name, q.type, 3, {}));
        }
    }
}

}  // namespace meoktong::testing
