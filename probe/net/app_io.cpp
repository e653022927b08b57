// Stream and datagram exchanges with a deadline (app_io.hpp).
#include "probe/net/app_io.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "meoktong/failure.hpp"
#include "probe/net/failure_map.hpp"
#include "probe/net/socket_address.hpp"
#include "probe/net/tcp.hpp"

namespace meoktong::app_io {
namespace {

using Clock = std::chrono::steady_clock;

void fail_errno(AppReply& reply, int err, SteadyTime start) {
    reply.failure = failure::from_errno(err);
    reply.raw_error = failure::errno_name(err);
    reply.t_ms = ms_since(start);
}

void fail_timeout(AppReply& reply, const char* what, SteadyTime start) {
    reply.failure = failure::kTimeout;
    reply.raw_error = what;
    reply.t_ms = ms_since(start);
}

// Closes the socket it owns (the datagram exchange's).
struct OwnedFd {
    int fd;
    ~OwnedFd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

AppReply stream_exchange(Connection& conn, const AppExchange& ex, SteadyTime start) {
    AppReply reply;
    reply.t0_ms = ms_since(start);
    auto deadline = Clock::now() + std::chrono::milliseconds(ex.timeout_ms);
    size_t sent = 0;
    while (sent < ex.request.size()) {
        if (!tcp::wait_ready(conn.fd, POLLOUT, deadline)) {
            fail_timeout(reply, "request not sent before the deadline", start);
            return reply;
        }
        ssize_t n = ::send(conn.fd, ex.request.data() + sent, ex.request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            fail_errno(reply, errno, start);
            return reply;
        }
        if (n > 0) sent += static_cast<size_t>(n);
    }
    uint8_t buffer[4096];
    while (!ex.reply_complete(reply.bytes) && reply.bytes.size() < ex.max_reply_bytes) {
        if (!tcp::wait_ready(conn.fd, POLLIN, deadline)) {
            fail_timeout(reply, reply.bytes.empty() ? "no reply" : "reply incomplete at the deadline", start);
            return reply;
        }
        ssize_t n = ::recv(conn.fd, buffer, std::min(sizeof buffer, ex.max_reply_bytes - reply.bytes.size()), 0);
        if (n == 0) {
            reply.failure = failure::kEof;
            reply.raw_error = reply.bytes.empty() ? "closed before replying" : "closed mid-reply";
            reply.t_ms = ms_since(start);
            return reply;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            fail_errno(reply, errno, start);
            return reply;
        }
        reply.bytes.insert(reply.bytes.end(), buffer, buffer + n);
    }
    reply.t_ms = ms_since(start);
    return reply;
}

AppReply datagram_exchange(const std::string& ip, uint16_t port, const AppExchange& ex, SteadyTime start) {
    AppReply reply;
    reply.t0_ms = ms_since(start);
    auto first_send = Clock::now();
    auto deadline = first_send + std::chrono::milliseconds(ex.timeout_ms);
    auto addr = socket_address(ip, port);
    if (!addr) {
        reply.failure = std::string(failure::kUnknownPrefix) + "not an IP address";
        reply.raw_error = ip;
        reply.t_ms = ms_since(start);
        return reply;
    }
    // A connected UDP socket: an ICMP port-unreachable comes back as ECONNREFUSED.
    OwnedFd sock{::socket(addr->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (sock.fd < 0 || ::connect(sock.fd, reinterpret_cast<const sockaddr*>(&addr->storage), addr->length) != 0) {
        fail_errno(reply, errno, start);
        return reply;
    }
    size_t next_resend = 0;
    auto send_request = [&] { return ::send(sock.fd, ex.request.data(), ex.request.size(), 0) >= 0 || errno == EAGAIN; };
    if (!send_request()) {
        fail_errno(reply, errno, start);
        return reply;
    }
    uint8_t buffer[2048];
    for (;;) {
        auto wake = deadline;
        if (next_resend < ex.resend_after_ms.size())
            wake = std::min(wake, first_send + std::chrono::milliseconds(ex.resend_after_ms[next_resend]));
        if (!tcp::wait_ready(sock.fd, POLLIN, wake)) {
            if (Clock::now() >= deadline) {
                fail_timeout(reply, "no answer", start);
                return reply;
            }
            ++next_resend;
            if (!send_request()) {
                fail_errno(reply, errno, start);
                return reply;
            }
            continue;
        }
        // Bounded per wake-up: a flood of other datagrams cannot hold the exchange past its deadline.
        for (int read = 0; read < 64; ++read) {
            ssize_t n = ::recv(sock.fd, buffer, sizeof buffer, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
            if (n < 0) {
                fail_errno(reply, errno, start);
                return reply;
            }
            std::span<const uint8_t> datagram(buffer, static_cast<size_t>(n));
            if (ex.reply_complete(datagram)) {
                reply.bytes.assign(datagram.begin(), datagram.end());
                reply.t_ms = ms_since(start);
                return reply;
            }
        }
        if (Clock::now() >= deadline) {
            fail_timeout(reply, "no answer", start);
            return reply;
        }
    }
}

}  // namespace meoktong::app_io
