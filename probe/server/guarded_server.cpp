// The guarded HTTP(S) server (see guarded_server.hpp): a bounded thread pool
// and a per-connection hook that serves each connection through GuardedStream
// (non-blocking socket, optional TLS, deadlines and a read budget), and the
// error answers and handlers both servers share. HTTP parsing, routing and
// handlers stay httplib's.
#include "probe/server/guarded_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "meoktong/files.hpp"
#include "meoktong/target.hpp"

namespace meoktong::server {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kListenBacklog = 1024;
constexpr size_t kHeaderBudget = 64 << 10;  // request line and headers, on top of the body limit

// httplib's own ThreadPool queues without bound; this one makes the accept
// loop wait when `max_queued` connections are already waiting, so memory
// stays bounded and the kernel's backlog absorbs the rest.
class BoundedPool : public httplib::TaskQueue {
public:
    BoundedPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
        for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
    }

    void enqueue(std::function<void()> fn) override {
        std::unique_lock lock(mutex_);
        space_.wait(lock, [&] { return jobs_.size() < max_queued_ || shutdown_; });
        jobs_.push_back(std::move(fn));
        lock.unlock();
        work_.notify_one();
    }

    void shutdown() override {
        {
            std::lock_guard lock(mutex_);
            shutdown_ = true;
        }
        work_.notify_all();
        space_.notify_all();
        for (auto& t : workers_) t.join();
    }

private:
    void work() {
        for (;;) {
            std::function<void()> fn;
            {
                std::unique_lock lock(mutex_);
                work_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
                if (jobs_.empty()) return;  // shutting down and drained
                fn = std::move(jobs_.front());
                jobs_.pop_front();
            }
            space_.notify_one();
            fn();
        }
    }

    size_t max_queued_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable work_, space_;
    bool shutdown_ = false;
};

// What one connection may cost: httplib 0.11 bounds each read but neither the
// whole request (a client trickling a byte every few seconds holds a thread
// forever) nor the number of header lines (one client can stream headers until
// the server runs out of memory). Connections are therefore served through
// GuardedStream, which enforces both.
struct ConnectionLimits {
    int io_timeout_ms = 5000;          // any single wait for the peer
    int request_ms = 10000;            // accept -> TLS handshake -> request fully read
    int response_ms = 120000;          // first byte of the response -> last byte
    size_t read_budget = 1 << 20;      // bytes read from the peer, headers and body together
};

// Waits until `fd` is ready for `events`, at most io_timeout_ms and never past `deadline`.
bool wait_socket(int fd, short events, Clock::time_point deadline, int io_timeout_ms) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        int wait_ms = static_cast<int>(std::min<long long>(left, io_timeout_ms));
        if (wait_ms <= 0) return false;
        pollfd p{fd, events, 0};
        int r = poll(&p, 1, wait_ms);
        if (r > 0) return true;
        if (r == 0 || errno != EINTR) return false;
    }
}

std::pair<std::string, int> endpoint_text(const sockaddr_storage& addr) {
    char text[INET6_ADDRSTRLEN]{};
    if (addr.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
        inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
        return {text, ntohs(a->sin_port)};
    }
    if (addr.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
        return {text, ntohs(a->sin6_port)};
    }
    return {"", 0};
}

// httplib::Stream over a non-blocking socket, optionally with a TLS session,
// with the connection's deadlines and read budget. Raw bytes only: all HTTP
// parsing stays in httplib's process_request().
class GuardedStream : public httplib::Stream {
public:
    GuardedStream(int sock, SSL* ssl, const ConnectionLimits& limits, Clock::time_point request_deadline)
        : sock_(sock), ssl_(ssl), limits_(limits), read_deadline_(request_deadline) {}

    bool is_readable() const override {
        return (ssl_ && SSL_pending(ssl_) > 0) || wait_socket(sock_, POLLIN, read_deadline_, limits_.io_timeout_ms);
    }
    bool is_writable() const override {
        return wait_socket(sock_, POLLOUT, write_deadline(), limits_.io_timeout_ms);
    }

    ssize_t read(char* ptr, size_t size) override {
        if (bytes_read_ >= limits_.read_budget) return -1;
        size = std::min({size, limits_.read_budget - bytes_read_, size_t(1) << 20});
        for (;;) {
            ssize_t n = ssl_ ? SSL_read(ssl_, ptr, static_cast<int>(size)) : ::recv(sock_, ptr, size, 0);
            if (n > 0) {
                bytes_read_ += static_cast<size_t>(n);
                return n;
            }
            short wait_for = retry_event(n, POLLIN);
            if (wait_for == 0) return n == 0 && !ssl_ ? 0 : -1;
            if (!wait_socket(sock_, wait_for, read_deadline_, limits_.io_timeout_ms)) return -1;
        }
    }

    ssize_t write(const char* ptr, size_t size) override {
        if (!write_started_) write_started_ = Clock::now();
        size = std::min(size, size_t(1) << 20);
        for (;;) {
            ssize_t n = ssl_ ? SSL_write(ssl_, ptr, static_cast<int>(size)) : ::send(sock_, ptr, size, MSG_NOSIGNAL);
            if (n > 0) return n;
            short wait_for = retry_event(n, POLLOUT);
            if (wait_for == 0) return -1;
            if (!wait_socket(sock_, wait_for, write_deadline(), limits_.io_timeout_ms)) return -1;
        }
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) std::tie(ip, port) = endpoint_text(addr);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) std::tie(ip, port) = endpoint_text(addr);
    }
    socket_t socket() const override { return sock_; }

private:
    // After a read (plain_event POLLIN) or write (POLLOUT) returned n <= 0: the
    // poll event to wait for before retrying, or 0 when the connection is done.
    short retry_event(ssize_t n, short plain_event) const {
        if (ssl_) {
            int err = SSL_get_error(ssl_, static_cast<int>(n));
            if (err == SSL_ERROR_WANT_READ) return POLLIN;
            if (err == SSL_ERROR_WANT_WRITE) return POLLOUT;
            return 0;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return plain_event;
        return 0;
    }
    Clock::time_point write_deadline() const {
        return write_started_.value_or(Clock::now()) + std::chrono::milliseconds(limits_.response_ms);
    }

    int sock_;
    SSL* ssl_;
    ConnectionLimits limits_;
    Clock::time_point read_deadline_;
    std::optional<Clock::time_point> write_started_;
    size_t bytes_read_ = 0;
};

// TLS handshake on a non-blocking socket, within the request deadline.
bool tls_accept(SSL* ssl, int sock, Clock::time_point deadline, int io_timeout_ms) {
    for (;;) {
        int r = SSL_accept(ssl);
        if (r == 1) return true;
        int err = SSL_get_error(ssl, r);
        short wait_for = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (wait_for == 0 || !wait_socket(sock, wait_for, deadline, io_timeout_ms)) return false;
    }
}

// An httplib server (Base: Server or SSLServer) whose connections are served
// through GuardedStream, one request per connection. Overrides httplib's
// per-connection hook; routing, parsing and handlers are httplib's.
template <class Base>
class GuardedServer : public Base {
public:
    template <class... BaseArgs>
    explicit GuardedServer(ConnectionLimits limits, BaseArgs&&... args)
        : Base(std::forward<BaseArgs>(args)...), limits_(limits) {}

private:
    bool process_and_close_socket(socket_t sock) override {
        int flags = fcntl(sock, F_GETFL, 0);
        fcntl(sock, F_SETFL, flags | O_NONBLOCK);
        auto deadline = Clock::now() + std::chrono::milliseconds(limits_.request_ms);
        bool ok = false;
        if constexpr (std::is_base_of_v<httplib::SSLServer, Base>) {
            SSL* ssl = SSL_new(this->ssl_context());
            if (ssl && SSL_set_fd(ssl, sock) == 1 && tls_accept(ssl, sock, deadline, limits_.io_timeout_ms))
                ok = serve_request(sock, ssl, deadline);
            if (ssl && ok) SSL_shutdown(ssl);
            SSL_free(ssl);
        } else {
            ok = serve_request(sock, nullptr, deadline);
        }
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
        return ok;
    }

    bool serve_request(int sock, SSL* ssl, Clock::time_point deadline) {
        GuardedStream stream(sock, ssl, limits_, deadline);
        if (!stream.is_readable()) return false;  // nothing sent in time
        bool connection_closed = false;
        return this->process_request(stream, true, connection_closed, nullptr);
    }

    ConnectionLimits limits_;
};


ConnectionLimits connection_limits(const ServerLimits& limits) {
    ConnectionLimits c;
    c.io_timeout_ms = limits.io_timeout_ms;
    c.request_ms = limits.request_ms;
    c.response_ms = limits.response_ms;
    c.read_budget = limits.max_body_bytes + kHeaderBudget;
    return c;
}

std::unique_ptr<httplib::Server> create_http(const ServerLimits& limits, const std::string& tls_cert,
                                             const std::string& tls_key) {
    if (tls_cert.empty() != tls_key.empty()) throw InputError("--tls-cert and --tls-key go together");
    if (tls_cert.empty()) return std::make_unique<GuardedServer<httplib::Server>>(connection_limits(limits));
    for (const auto& path : {tls_cert, tls_key})
        try {
            read_file(path);
        } catch (const FileError& e) {
            throw InputError(e.what());
        }
    auto tls = std::make_unique<GuardedServer<httplib::SSLServer>>(connection_limits(limits), tls_cert.c_str(),
                                                                    tls_key.c_str());
    if (!tls->is_valid())
        throw InputError("cannot use TLS certificate '" + tls_cert + "' with key '" + tls_key + "'");
    SSL_CTX_set_min_proto_version(tls->ssl_context(), TLS1_2_VERSION);
    return tls;
}

const char* default_error_message(int status) {
    switch (status) {
        case 400: return "malformed request";
        case 404: return "not found";
        case 405: return "method not allowed";
        case 413: return "request body too large";
        case 414: return "request URI too long";
        case 500: return "internal error";
        default: return "request failed";
    }
}

}  // namespace

void reply_error(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

void reply_rate_limited(httplib::Response& res) {
    res.set_header("Retry-After", "60");
    reply_error(res, 429, "rate limited");
}

void install_common_handlers(httplib::Server& http, std::function<void()> on_request) {
    http.set_pre_routing_handler([on_request = std::move(on_request)](const httplib::Request& req,
                                                                      httplib::Response& res) {
        on_request();
        if (req.has_header("Transfer-Encoding")) {
            res.set_header("Connection", "close");
            reply_error(res, 411, "send the body with Content-Length, not chunked");
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) reply_error(res, res.status, default_error_message(res.status));
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        reply_error(res, 500, "internal error");
    });
}

GuardedHttpServer::GuardedHttpServer(const ServerLimits& limits, const std::string& tls_cert,
                                     const std::string& tls_key)
    : http_(create_http(limits, tls_cert, tls_key)) {
    size_t threads = static_cast<size_t>(std::max(1, limits.threads));
    size_t max_queued = std::max<size_t>(1, limits.max_queued);
    http_->new_task_queue = [threads, max_queued] { return new BoundedPool(threads, max_queued); };
    http_->set_payload_max_length(limits.max_body_bytes);
    http_->set_socket_options([this](int fd) {  // the listening socket (httplib's default adds SO_REUSEPORT)
        int yes = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listen_fd_ = fd;
    });
}

GuardedHttpServer::~GuardedHttpServer() = default;

int GuardedHttpServer::bind(const std::string& host, int port, std::string& error) {
    std::signal(SIGPIPE, SIG_IGN);  // a peer closing mid-write must not kill the server
    if (port == 0) {
        port = http_->bind_to_any_port(host);
        if (port <= 0) {
            error = std::strerror(errno);
            return 0;
        }
    } else if (!http_->bind_to_port(host, port)) {
        error = std::strerror(errno);
        return 0;
    }
    // httplib listens with a backlog of 5: bursts of clients would wait for SYN retransmits.
    // listen() again on the bound socket only raises the backlog.
    if (listen_fd_ >= 0) ::listen(listen_fd_, kListenBacklog);
    return port;
}

bool GuardedHttpServer::serve() {
    serving_ = true;
    bool ok = stopping_ || http_->listen_after_bind();
    serving_ = false;
    return ok;
}

void GuardedHttpServer::stop() {
    stopping_ = true;
    // httplib's stop() is a no-op until the accept loop runs: wait for it if serve() is starting.
    while (serving_ && !http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    http_->stop();
}

}  // namespace meoktong::server
