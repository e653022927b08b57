// Non-blocking TCP connect with poll and a deadline (see tcp.hpp).
#include "probe/net/tcp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "probe/net/failure_map.hpp"
#include "probe/net/socket_address.hpp"

namespace meoktong {

Connection::~Connection() {
    if (fd >= 0) ::close(fd);
}

namespace tcp {
namespace {

void set_failure(TcpObservation& obs, int err, SteadyTime start) {
    obs.failure = failure::from_errno(err);
    obs.raw_error = failure::errno_name(err);
    obs.t_ms = ms_since(start);
}

}  // namespace

bool wait_ready(int fd, short events, SteadyTime deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60000)) + 1);
        if (rc > 0) return true;
        if (rc < 0 && errno != EINTR) return true;  // let the caller's next I/O report the error
    }
}

TcpResult connect(const std::string& ip, uint16_t port, int timeout_ms, SteadyTime start) {
    TcpResult result;
    TcpObservation& obs = result.observation;
    obs.ip = ip;
    obs.port = port;
    obs.t0_ms = ms_since(start);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto addr = socket_address(ip, port);
    if (!addr) {
        obs.failure = std::string(failure::kUnknownPrefix) + "not an IP address";
        obs.raw_error = ip;
        obs.t_ms = ms_since(start);
        return result;
    }
    auto conn = std::make_unique<Connection>();
    conn->ip = ip;
    conn->port = port;
    conn->fd = ::socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (conn->fd < 0) {
        set_failure(obs, errno, start);
        return result;
    }
    if (::connect(conn->fd, reinterpret_cast<const sockaddr*>(&addr->storage), addr->length) != 0) {
        if (errno != EINPROGRESS) {
            set_failure(obs, errno, start);
            return result;
        }
        if (!wait_ready(conn->fd, POLLOUT, deadline)) {
            obs.failure = failure::kTimeout;
            obs.raw_error = "connect timed out";
            obs.t_ms = ms_since(start);
            return result;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0) {
            set_failure(obs, err, start);
            return result;
        }
    }
    obs.t_ms = ms_since(start);
    result.connection = std::move(conn);
    return result;
}

}  // namespace tcp
}  // namespace meoktong
