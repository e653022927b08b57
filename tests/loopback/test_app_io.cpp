// The app exchanges' I/O (probe/net/app_io.*) on real loopback sockets: a
// stream reply read until whole, a peer that closes or resets, silence until
// the deadline; a datagram exchange that resends on schedule, ignores
// datagrams that do not answer, and reports an ICMP port-unreachable.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "meoktong/failure.hpp"
#include "probe/net/app_io.hpp"
#include "probe/net/tcp.hpp"

using namespace meoktong;

namespace {

struct Socket {
    int fd;
    uint16_t port = 0;
    explicit Socket(int type) : fd(::socket(AF_INET, type, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        if (type == SOCK_STREAM) ::listen(fd, 4);
    }
    ~Socket() { ::close(fd); }
};

// A one-connection TCP server: reads the request, then does what `reply` says.
enum class Then { answer_in_two_parts, close, reset, stay_silent };

void serve_once(int listen_fd, Then then) {
    int c = ::accept(listen_fd, nullptr, nullptr);
    if (c < 0) return;
    char buf[64];
    (void)::recv(c, buf, sizeof buf, 0);
    if (then == Then::answer_in_two_parts) {
        (void)::send(c, "abc", 3, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        (void)::send(c, "defgh", 5, 0);
    } else if (then == Then::reset) {
        linger l{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    } else if (then == Then::stay_silent) {
        std::this_thread::sleep_for(std::chrono::milliseconds(900));
    }
    ::close(c);
}

AppReply stream_with(Then then) {
    Socket server(SOCK_STREAM);
    std::thread t(serve_once, server.fd, then);
    auto start = std::chrono::steady_clock::now();
    TcpResult tcp = tcp::connect("127.0.0.1", server.port, 1000, start);
    REQUIRE(tcp.connection);
    AppExchange ex;
    ex.request = {'h', 'i'};
    ex.reply_complete = [](std::span<const uint8_t> r) { return r.size() >= 8; };
    ex.timeout_ms = 600;
    AppReply reply = app_io::stream_exchange(*tcp.connection, ex, start);
    t.join();
    return reply;
}

AppExchange datagram_request(int timeout_ms) {
    AppExchange ex;
    ex.request = {'q'};
    ex.reply_complete = [](std::span<const uint8_t> d) { return d.size() == 2 && d[0] == 'o' && d[1] == 'k'; };
    ex.timeout_ms = timeout_ms;
    ex.resend_after_ms = {100, 300};
    return ex;
}

}  // namespace

TEST_CASE("app_io stream: a reply in two segments is read until whole") {
    AppReply r = stream_with(Then::answer_in_two_parts);
    CHECK_FALSE(r.failure);
    CHECK(std::string(r.bytes.begin(), r.bytes.end()) == "abcdefgh");
}

TEST_CASE("app_io stream: a close is eof_error, a reset connection_reset, silence a timeout") {
    CHECK(stream_with(Then::close).failure == failure::kEof);
    CHECK(stream_with(Then::reset).failure == failure::kConnectionReset);
    AppReply silent = stream_with(Then::stay_silent);
    CHECK(silent.failure == failure::kTimeout);
    CHECK(silent.raw_error == "no reply");
}

TEST_CASE("app_io datagram: resent on schedule; a datagram that does not answer is ignored") {
    Socket server(SOCK_DGRAM);
    std::atomic<int> received{0};
    std::thread t([&] {
        char buf[16];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        for (int i = 0; i < 2; ++i) {  // the first send is "lost"; the resend is answered, junk first
            (void)::recvfrom(server.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            ++received;
        }
        (void)::sendto(server.fd, "junk", 4, 0, reinterpret_cast<sockaddr*>(&from), len);
        (void)::sendto(server.fd, "ok", 2, 0, reinterpret_cast<sockaddr*>(&from), len);
    });
    AppReply r = app_io::datagram_exchange("127.0.0.1", server.port, datagram_request(2000), std::chrono::steady_clock::now());
    t.join();
    CHECK(received == 2);
    CHECK_FALSE(r.failure);
    CHECK(std::string(r.bytes.begin(), r.bytes.end()) == "ok");
}

TEST_CASE("app_io datagram: a closed UDP port is connection_refused, a silent one a timeout") {
    uint16_t closed;
    {
        Socket s(SOCK_DGRAM);
        closed = s.port;
    }
    AppReply refused = app_io::datagram_exchange("127.0.0.1", closed, datagram_request(1000), std::chrono::steady_clock::now());
    CHECK(refused.failure == failure::kConnectionRefused);
    Socket silent(SOCK_DGRAM);
    AppReply timeout = app_io::datagram_exchange("127.0.0.1", silent.port, datagram_request(500), std::chrono::steady_clock::now());
    CHECK(timeout.failure == failure::kTimeout);
    char buf[8];
    int got = 0;
    while (::recv(silent.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) ++got;
    CHECK(got == 3);  // the first send and both resends
}
