// The control vantage server: cpp-httplib (Server or SSLServer) with a bounded
// thread pool, the control protocol's routes, auth, limits, rate limiting,
// private-target refusal and one log line per request. HTTP parsing is
// httplib's; this file only decides what each request may do.
#include "probe/control/server.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <thread>
#include <tuple>
#include <type_traits>

#include "meoktong/failure.hpp"
#include "meoktong/files.hpp"
#include "meoktong/log.hpp"
#include "meoktong/parallel.hpp"
#include "meoktong/target.hpp"
#include "meoktong/text.hpp"
#include "probe/control/protocol.hpp"

namespace meoktong {
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

// What the log line of the request being served on this thread needs.
struct RequestLog {
    Clock::time_point start;
    bool started = false;
    size_t targets = 0;
};
thread_local RequestLog t_request;

// One line per request through the process logger: method, path (attacker-
// chosen, so cut short; the logger quotes anything unprintable), status,
// targets and duration. Never the client's address: operators in-country are
// at risk if these logs are seized.
void log_request(const httplib::Request& req, const httplib::Response& res) {
    std::string ms = "-";
    if (t_request.started)
        ms = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t_request.start).count());
    process_logger().info("control_request", {{"method", req.method.substr(0, 100)},
                                              {"path", req.path.substr(0, 100)},
                                              {"status", std::to_string(res.status)},
                                              {"targets", std::to_string(t_request.targets)},
                                              {"ms", ms}});
    t_request = {};
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(control::error_body(message), "application/json");
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

// Did measure_target refuse the target (every connection attempt, if any, refused)?
bool refused_by_measurement(const Observations& o) {
    auto refused = [](const auto& obs) { return obs.failure && *obs.failure == failure::kTargetNotAllowed; };
    bool any = std::any_of(o.dns.begin(), o.dns.end(), refused) || std::any_of(o.tcp.begin(), o.tcp.end(), refused) ||
               std::any_of(o.tls.begin(), o.tls.end(), refused) || std::any_of(o.http.begin(), o.http.end(), refused);
    return any && std::all_of(o.tcp.begin(), o.tcp.end(), refused);
}

// A download URL whose host is a special-purpose address (in any spelling).
bool download_refused(const Target& t, const std::vector<Cidr>& routable) {
    auto host = control::download_url_host(t.download_url);
    return !host || refused_host(*host, routable).has_value();
}

// measure_target fetches a download on the target's own host from an address
// it already checked, and an IP literal from that literal (checked by
// download_refused); any other host name libcurl would resolve unchecked, to
// anything, so such a download is not fetched.
bool download_pinned_or_literal(const Target& t) {
    auto host = control::download_url_host(t.download_url);
    return host && (*host == t.host || is_ip_literal(*host));
}

}  // namespace

RateLimiter::RateLimiter(double per_minute, double burst, size_t max_clients)
    : per_second_(std::max(per_minute, 0.0) / 60.0), burst_(std::max(burst, 1.0)), max_clients_(max_clients) {}

void RateLimiter::forget_idle(Clock::time_point now) {
    std::erase_if(buckets_, [&](const auto& entry) {
        double elapsed = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + elapsed * per_second_ >= burst_;
    });
}

bool RateLimiter::allow(const std::string& client, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(client);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_clients_) forget_idle(now);
        if (buckets_.size() >= max_clients_) return false;  // table full of active clients: fail closed
        it = buckets_.emplace(client, Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.updated).count());
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.updated = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

std::string rate_limit_key(const std::string& ip) {
    unsigned char addr[16];
    if (inet_pton(AF_INET6, ip.c_str(), addr) != 1) return ip;
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char text[INET6_ADDRSTRLEN]{};
    if (std::memcmp(addr, v4_mapped, sizeof v4_mapped) == 0) {
        inet_ntop(AF_INET, addr + 12, text, sizeof text);
        return text;
    }
    std::memset(addr + 8, 0, 8);
    inet_ntop(AF_INET6, addr, text, sizeof text);
    return std::string(text) + "/64";
}

std::optional<std::string> refused_host(const std::string& host, const std::vector<Cidr>& routable) {
    if (is_ip_literal(host)) return special_purpose(host, routable);
    in_addr legacy{};  // "127.1", "0x7f000001", "2130706433": getaddrinfo accepts these as IPv4
    if (inet_aton(host.c_str(), &legacy) == 1) {
        char text[INET_ADDRSTRLEN]{};
        inet_ntop(AF_INET, &legacy, text, sizeof text);
        return special_purpose(text, routable);
    }
    return std::nullopt;
}

bool bearer_token_matches(std::string_view header, std::string_view token) {
    constexpr std::string_view scheme = "bearer ";
    if (token.empty() || header.size() < scheme.size()) return false;
    if (!ascii_iequals(header.substr(0, scheme.size()), scheme)) return false;
    std::string_view given = header.substr(scheme.size());
    // Compare digests, so neither the content nor the length of the token leaks through timing.
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned int a_len = 0, b_len = 0;
    if (EVP_Digest(given.data(), given.size(), a, &a_len, EVP_sha256(), nullptr) != 1) return false;
    if (EVP_Digest(token.data(), token.size(), b, &b_len, EVP_sha256(), nullptr) != 1) return false;
    return a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0;
}

struct ControlServer::Impl {
    ControlServerSettings settings;
    MeasureFunction measure;
    RateLimiter limiter;
    std::unique_ptr<httplib::Server> http;
    std::atomic<bool> serving{false}, stopping{false};
    int listen_fd = -1;

    Impl(ControlServerSettings s, MeasureFunction m)
        : settings(std::move(s)), measure(std::move(m)), limiter(settings.rate_per_minute, settings.rate_burst) {}

    ConnectionLimits connection_limits() const {
        ConnectionLimits limits;
        limits.io_timeout_ms = settings.io_timeout_s * 1000;
        limits.request_ms = settings.request_timeout_s * 1000;
        limits.read_budget = settings.max_body_bytes + kHeaderBudget;
        return limits;
    }

    void create_server() {
        if (settings.tls_cert.empty() != settings.tls_key.empty())
            throw InputError("--tls-cert and --tls-key go together");
        if (settings.tls_cert.empty()) {
            http = std::make_unique<GuardedServer<httplib::Server>>(connection_limits());
            return;
        }
        for (const auto& path : {settings.tls_cert, settings.tls_key})
            try {
                read_file(path);
            } catch (const FileError& e) {
                throw InputError(e.what());
            }
        auto tls = std::make_unique<GuardedServer<httplib::SSLServer>>(connection_limits(), settings.tls_cert.c_str(),
                                                                        settings.tls_key.c_str());
        if (!tls->is_valid()) throw InputError("cannot use TLS certificate '" + settings.tls_cert + "' with key '" +
                                               settings.tls_key + "'");
        SSL_CTX_set_min_proto_version(tls->ssl_context(), TLS1_2_VERSION);
        http = std::move(tls);
    }

    void configure() {
        size_t threads = static_cast<size_t>(std::max(1, settings.threads));
        http->new_task_queue = [threads] { return new BoundedPool(threads, threads * 4); };
        http->set_payload_max_length(settings.max_body_bytes);
        http->set_socket_options([this](int fd) {  // the listening socket (httplib's default adds SO_REUSEPORT)
            int yes = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
            listen_fd = fd;
        });
        http->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
            t_request = {Clock::now(), true, 0};
            // httplib 0.11 reads chunked bodies without a size limit: refuse them before any is read.
            if (req.has_header("Transfer-Encoding")) {
                res.set_header("Connection", "close");
                reply_error(res, 411, "send the body with Content-Length, not chunked");
                return httplib::Server::HandlerResponse::Handled;
            }
            return httplib::Server::HandlerResponse::Unhandled;
        });
        http->Get(control::kHealthPath, [](const httplib::Request&, httplib::Response& res) {
            res.set_content(json{{"status", "ok"}, {"version", kSoftwareVersion}}.dump(), "application/json");
        });
        http->Post(control::kMeasurePath,
                   [this](const httplib::Request& req, httplib::Response& res) { handle_measure(req, res); });
        http->set_error_handler([](const httplib::Request&, httplib::Response& res) {
            if (res.body.empty()) reply_error(res, res.status, default_error_message(res.status));
        });
        http->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            reply_error(res, 500, "internal error");
        });
        if (settings.log_requests) http->set_logger(log_request);
    }

    void handle_measure(const httplib::Request& req, httplib::Response& res) {
        if (!limiter.allow(rate_limit_key(req.remote_addr), Clock::now())) {
            res.set_header("Retry-After", "60");
            return reply_error(res, 429, "rate limited");
        }
        if (!bearer_token_matches(req.get_header_value("Authorization"), settings.token)) {
            res.set_header("WWW-Authenticate", "Bearer realm=\"meoktong\"");
            return reply_error(res, 401, "missing or invalid bearer token");
        }
        auto parsed = control::parse_measure_request(req.body, settings.max_targets);
        if (!parsed.ok()) return reply_error(res, parsed.status, parsed.error);
        t_request.targets = parsed.targets.size();
        res.set_content(control::measure_reply_body(measure_all(parsed.targets), req.remote_addr), "application/json");
    }

    // Measures the batch with at most target_concurrency at once; targets not
    // started before the deadline are answered with control_deadline_exceeded.
    std::vector<control::ServerResult> measure_all(const std::vector<Target>& targets) {
        std::vector<control::ServerResult> results(targets.size());
        auto deadline = Clock::now() + std::chrono::milliseconds(settings.deadline_ms);
        parallel_for(targets.size(), static_cast<size_t>(std::max(1, settings.target_concurrency)), [&](size_t i) {
            if (Clock::now() >= deadline) {
                results[i].target = targets[i];
                results[i].failure = control::kDeadlineExceeded;
            } else {
                results[i] = measure_one(targets[i]);
            }
        });
        return results;
    }

    control::ServerResult measure_one(const Target& target) {
        control::ServerResult r;
        r.target = target;
        bool guard = !settings.measure.allow_private;
        if (guard && refused_host(target.host, settings.measure.routable)) {
            r.failure = failure::kTargetNotAllowed;
            return r;
        }
        Target measured = target;
        if (guard && !target.download_url.empty()) {
            if (download_refused(target, settings.measure.routable)) {
                r.failure = failure::kTargetNotAllowed;
                return r;
            }
            if (!download_pinned_or_literal(target)) measured.download_url.clear();
        }
        try {
            r.observations = measure(measured, settings.measure, Clock::now());
        } catch (...) {
            r.failure = std::string(failure::kUnknownPrefix) + "measurement error";
            return r;
        }
        if (guard && refused_by_measurement(r.observations)) r.failure = failure::kTargetNotAllowed;
        return r;
    }
};

ControlServer::ControlServer(ControlServerSettings settings, MeasureFunction measure)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(measure))) {}

ControlServer::~ControlServer() = default;

int ControlServer::bind() {
    std::signal(SIGPIPE, SIG_IGN);  // a peer closing mid-write must not kill the server
    impl_->create_server();
    impl_->configure();
    const auto& s = impl_->settings;
    int port = s.listen_port;
    if (port == 0) {
        port = impl_->http->bind_to_any_port(s.listen_host);
        if (port <= 0) throw std::runtime_error("cannot listen on " + s.listen_host + ": " + std::strerror(errno));
    } else if (!impl_->http->bind_to_port(s.listen_host, port)) {
        throw std::runtime_error("cannot listen on " + s.listen_host + ":" + std::to_string(port) + ": " +
                                 std::strerror(errno));
    }
    // httplib listens with a backlog of 5: bursts of clients would wait for SYN retransmits.
    // listen() again on the bound socket only raises the backlog.
    if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, kListenBacklog);
    return port;
}

bool ControlServer::serve() {
    if (!impl_->http) return false;
    impl_->serving = true;
    bool ok = impl_->stopping || impl_->http->listen_after_bind();
    impl_->serving = false;
    return ok;
}

void ControlServer::stop() {
    impl_->stopping = true;
    if (!impl_->http) return;
    // httplib's stop() is a no-op until the accept loop runs: wait for it if serve() is starting.
    while (impl_->serving && !impl_->http->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    impl_->http->stop();
}

}  // namespace meoktong
