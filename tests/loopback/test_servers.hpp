// Servers for the loopback integration tests and the benchmark, all on
// 127.0.0.1 (or ::1) in-process: a test PKI generated at run time, TCP/TLS
// servers with scripted misbehaviour, and a scripted UDP DNS server.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace meoktong::testing {

struct CertFiles {
    std::string cert;  // PEM paths
    std::string key;
};

// A throw-away PKI in a temporary directory: a test CA and leaf certificates
// for good.test (+127.0.0.1, ::1), a wrong name, an expired one and a
// self-signed one. Created once per process.
struct TestPki {
    std::string dir;
    std::string ca_file;
    CertFiles good, wrong_name, expired, self_signed;
    static const TestPki& get();
};

enum class Behaviour {
    TlsOk,            // TLS handshake with the given certificate, then an HTTP answer (see http_response_for)
    HttpOk,           // plain HTTP answer
    HttpStall,        // plain HTTP answer cut after 16 KiB, then silence: no FIN, no reset (a stalled flow)
    ResetOnAccept,    // accept, then RST (SO_LINGER 0)
    ResetAfterHello,  // read the ClientHello, then RST
    CloseAfterHello,  // read the ClientHello, then FIN
    AlertAfterHello,  // read the ClientHello, answer with a fatal handshake_failure alert
    Silent,           // listen, never accept, never answer
};

class TcpTestServer {
public:
    TcpTestServer(Behaviour behaviour, CertFiles cert = {}, const std::string& bind_ip = "127.0.0.1");
    ~TcpTestServer();
    TcpTestServer(const TcpTestServer&) = delete;
    TcpTestServer& operator=(const TcpTestServer&) = delete;
    uint16_t port() const { return port_; }
    int accepted() const { return accepted_; }

private:
    void accept_loop();
    void serve(int fd);
    Behaviour behaviour_;
    CertFiles cert_;
    void* ssl_ctx_ = nullptr;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<std::thread> handlers_;
};

// The test page (a <title>, 95 bytes) for any path; 256 KiB of 'x' for /big.
std::string http_response_for(const std::string& request);

// A TCP port on 127.0.0.1 where nothing listens.
uint16_t closed_port();
// True when ::1 can be bound here.
bool ipv6_loopback_available();

// DNS on 127.0.0.1 answering by query name:
//   ok.test          A 192.0.2.1 / AAAA 2001:db8::1
//   good.test        A 127.0.0.1 / no AAAA (the loopback TLS servers' certificate name)
//   nx.test          NXDOMAIN      servfail.test  SERVFAIL      refused.test  REFUSED
//   empty.test       NOERROR without answers
//   inject.test      A 10.10.34.35 at once, then A 192.0.2.7 50 ms later (same id)
//   retransmit.test  ignores the first query of each type, answers the retransmission
//   silent.test      never answers
//   anything else    NXDOMAIN
class DnsTestServer {
public:
    DnsTestServer();
    ~DnsTestServer();
    DnsTestServer(const DnsTestServer&) = delete;
    DnsTestServer& operator=(const DnsTestServer&) = delete;
    uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    int queries_for(const std::string& name) const;

private:
    void loop();
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    mutable std::mutex mutex_;
    std::map<std::string, int> counts_;
};

}  // namespace meoktong::testing
