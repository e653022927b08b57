// DNS measurement on our own UDP sockets (see dns.hpp). One connected socket
// per (resolver, query type); all of them driven by one poll loop, so the
// resolvers of a target cost one timeout, not one each.
#include "probe/net/dns.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "meoktong/parse.hpp"
#include "meoktong/text.hpp"
#include "probe/net/socket_address.hpp"
#include "probe/net/dns_message.hpp"
#include "probe/net/failure_map.hpp"

namespace meoktong::dns {
namespace {

constexpr int kClassIn = 1;

std::optional<SocketAddress> to_socket_address(const std::string& ip_port) {
    auto host_port = split_host_port(ip_port);
    if (!host_port || !host_port->port) return std::nullopt;
    return socket_address(host_port->host, *host_port->port);
}

std::string format_ip_port(int family, const void* addr, int port) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, addr, text, sizeof text);
    return join_host_port(text, static_cast<uint16_t>(port == 0 ? 53 : port));
}

uint16_t random_id() {
    unsigned char bytes[2] = {0, 0};
    if (RAND_bytes(bytes, sizeof bytes) != 1) return static_cast<uint16_t>(::getpid());
    return static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
}

void ensure_ares_initialised() {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

// One query (a resolver and a type) in flight.
struct Query {
    DnsObservation obs;
    int qtype = kTypeA;
    int fd = -1;
    uint16_t id = 0;
    std::vector<unsigned char> packet;
    bool retransmitted = false;
    bool answered = false;
    bool done = false;
    double first_ms = 0;

    Query() = default;
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    ~Query() {
        if (fd >= 0) ::close(fd);
    }

    void fail(const std::string& failure, const std::string& raw, double now) {
        obs.failure = failure;
        obs.raw_error = raw;
        obs.t_ms = now;
        done = true;
    }
};

void open_socket(Query& q, const SocketAddress& to) {
    q.fd = ::socket(to.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (q.fd < 0) return;
    int on = 1;
    if (to.family == AF_INET)
        setsockopt(q.fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
    else
        setsockopt(q.fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
    if (::connect(q.fd, reinterpret_cast<const sockaddr*>(&to.storage), to.length) != 0) {
        int err = errno;
        ::close(q.fd);
        q.fd = -1;
        errno = err;
    }
}

bool send_packet(Query& q, double now) {
    if (::send(q.fd, q.packet.data(), q.packet.size(), 0) >= 0) return true;
    int err = errno;
    q.fail(failure::from_errno(err), failure::errno_name(err), now);
    return false;
}

void start_query(Query& q, const std::string& host, const ResolverSpec& resolver, int qtype, SteadyTime start) {
    q.qtype = qtype;
    q.id = random_id();
    q.obs.resolver = resolver.label;
    q.obs.hostname = host;
    q.obs.query_type = qtype == kTypeA ? "A" : "AAAA";
    q.obs.resolver_address = resolver.label == "system" ? system_resolver_address() : resolver.address;
    q.obs.t0_ms = ms_since(start);
    if (q.obs.resolver_address.empty()) {
        q.fail(std::string(failure::kUnknownPrefix) + "no system resolver", "resolv.conf lists no nameserver",
               q.obs.t0_ms);
        return;
    }
    auto to = to_socket_address(q.obs.resolver_address);
    if (!to) {
        q.fail(std::string(failure::kUnknownPrefix) + "bad resolver address", q.obs.resolver_address, q.obs.t0_ms);
        return;
    }
    auto packet = encode_query(host, qtype, q.id);
    if (!packet) {
        q.fail(std::string(failure::kUnknownPrefix) + "cannot encode query", "ares_create_query", q.obs.t0_ms);
        return;
    }
    q.packet = std::move(*packet);
    open_socket(q, *to);
    if (q.fd < 0) {
        int err = errno;
        q.fail(failure::from_errno(err), failure::errno_name(err), q.obs.t0_ms);
        return;
    }
    send_packet(q, q.obs.t0_ms);
}

int ip_ttl_of(msghdr& msg) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL;
        bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT;
        if (v4 || v6) {
            int ttl = -1;
            std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
            return ttl;
        }
    }
    return -1;
}

void record_response(Query& q, const ParsedResponse& parsed, int ip_ttl, double now) {
    if (q.obs.responses.size() < kMaxResponsesPerQuery)
        q.obs.responses.push_back(DnsResponse{now, parsed.rcode, ip_ttl, parsed.answers});
    if (q.answered) return;
    q.answered = true;
    q.first_ms = now;
    q.obs.t_ms = now;
    q.obs.rcode = parsed.rcode;
    q.obs.answers = parsed.answers;
    auto [fail, raw] = classify_response(parsed);
    q.obs.failure = fail;
    q.obs.raw_error = raw;
}

// Reads q's pending datagrams, at most this many per wake-up, so that a flood
// faster than we parse cannot keep the lookup from checking its deadline.
constexpr int kMaxDatagramsPerWake = 256;

void drain(Query& q, SteadyTime start) {
    for (int read = 0; read < kMaxDatagramsPerWake; ++read) {
        unsigned char buf[kMaxDatagramBytes];
        alignas(cmsghdr) unsigned char control[256];
        iovec iov{buf, sizeof buf};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(q.fd, &msg, MSG_DONTWAIT);
        double now = ms_since(start);
        if (n < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return;
            if (!q.answered) q.fail(failure::from_errno(err), failure::errno_name(err), now);
            return;
        }
        ParsedResponse parsed = parse_response(buf, static_cast<size_t>(n), q.qtype);
        if ((msg.msg_flags & MSG_TRUNC) != 0) {  // we never ask for more than 512 bytes (no EDNS)
            parsed.oversized = true;
            parsed.answers.clear();
        }
        if (!parsed.valid || parsed.id != q.id || !answers_question({buf, static_cast<size_t>(n)}, q.packet)) continue;
        record_response(q, parsed, ip_ttl_of(msg), now);
    }
}

// Advances timers: finishes answered queries after the late window, times
// out unanswered ones, retransmits once halfway. Returns ms to the next event.
double advance(Query& q, int timeout_ms, int late_window_ms, double now) {
    if (q.done) return 1e9;
    if (q.answered) {
        double end = q.first_ms + late_window_ms;
        if (now >= end) q.done = true;
        return end - now;
    }
    double deadline = q.obs.t0_ms + timeout_ms;
    if (now >= deadline) {
        q.fail(failure::kTimeout, "no response", now);
        return 1e9;
    }
    double retransmit_at = q.obs.t0_ms + timeout_ms / 2.0;
    if (!q.retransmitted) {
        if (now >= retransmit_at) {
            q.retransmitted = true;
            if (!send_packet(q, now)) return 1e9;
        } else {
            return retransmit_at - now;
        }
    }
    return deadline - now;
}

// The question of a DNS message when it has exactly one, well-formed.
std::optional<DnsQuestion> question_of(std::span<const uint8_t> message) {
    auto header = parse_dns_header(message);
    if (!header || header->questions != 1) return std::nullopt;
    return dns_question(message);
}

}  // namespace

std::optional<std::vector<unsigned char>> encode_query(const std::string& host, int qtype, uint16_t id) {
    ensure_ares_initialised();
    unsigned char* buf = nullptr;
    int len = 0;
    if (ares_create_query(host.c_str(), kClassIn, qtype, id, 1, &buf, &len, 0) != ARES_SUCCESS) return std::nullopt;
    std::vector<unsigned char> packet(buf, buf + len);
    ares_free_string(buf);
    return packet;
}

bool answers_question(std::span<const uint8_t> response, std::span<const uint8_t> query) {
    auto theirs = question_of(response);
    auto ours = question_of(query);
    return theirs && ours && ascii_iequals(theirs->name, ours->name) &&
           std::memcmp(response.data() + theirs->type_class_at, query.data() + ours->type_class_at, 4) == 0;
}

ParsedResponse parse_response(const unsigned char* data, size_t len, int qtype) {
    ParsedResponse r;
    if (data == nullptr || len > 65535) return r;
    std::span<const uint8_t> message(data, len);
    auto header = parse_dns_header(message);
    if (!header || !header->is_response) return r;
    r.valid = true;
    r.id = header->id;
    r.rcode = header->rcode;
    r.truncated = header->truncated;
    auto records = dns_address_records(message, qtype == kTypeAAAA ? kDnsTypeAAAA : kDnsTypeA);
    r.ares_status = records.ares_status;
    r.answers = std::move(records.answers);
    return r;
}

std::pair<std::optional<std::string>, std::string> classify_response(const ParsedResponse& r) {
    if (r.oversized)
        return {failure::kDnsBogusReply, "datagram larger than " + std::to_string(kMaxDatagramBytes) + " bytes"};
    if (r.rcode != 0) return {failure::from_dns_rcode(r.rcode), "rcode=" + std::to_string(r.rcode)};
    if (r.ares_status == ARES_SUCCESS && !r.answers.empty()) return {std::nullopt, ""};
    if (r.ares_status == ARES_SUCCESS || r.ares_status == ARES_ENODATA) {
        // A cut answer says nothing about the name's records: not dns_no_answer.
        if (r.truncated) return {failure::kDnsBogusReply, "truncated (TC) without answers"};
        return {failure::kDnsNoAnswer, "ARES_ENODATA"};
    }
    return {failure::from_ares_status(r.ares_status), ares_strerror(r.ares_status)};
}

std::optional<std::string> normalise_resolver(const std::string& text) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, text.c_str(), buf) == 1) return format_ip_port(AF_INET, buf, 53);
    if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return format_ip_port(AF_INET6, buf, 53);
    auto addr = to_socket_address(text);
    if (!addr) return std::nullopt;
    if (addr->family == AF_INET) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&addr->storage);
        return format_ip_port(AF_INET, &v4->sin_addr, ntohs(v4->sin_port));
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr->storage);
    return format_ip_port(AF_INET6, &v6->sin6_addr, ntohs(v6->sin6_port));
}

std::string system_resolver_address() {
    static std::once_flag once;
    static std::string address;
    std::call_once(once, [] {
        ensure_ares_initialised();
        ares_channel channel = nullptr;
        if (ares_init(&channel) != ARES_SUCCESS) return;
        ares_addr_port_node* servers = nullptr;
        if (ares_get_servers_ports(channel, &servers) == ARES_SUCCESS && servers != nullptr) {
            if (servers->family == AF_INET)
                address = format_ip_port(AF_INET, &servers->addr.addr4, servers->udp_port);
            else if (servers->family == AF_INET6)
                address = format_ip_port(AF_INET6, &servers->addr.addr6, servers->udp_port);
        }
        if (servers != nullptr) ares_free_data(servers);
        ares_destroy(channel);
    });
    return address;
}

std::vector<DnsObservation> lookup(const std::string& host, const std::vector<ResolverSpec>& resolvers, int timeout_ms,
                                   int late_window_ms, SteadyTime start) {
    ensure_ares_initialised();
    std::vector<std::unique_ptr<Query>> queries;
    for (const auto& resolver : resolvers) {
        for (int qtype : {kTypeA, kTypeAAAA}) {
            queries.push_back(std::make_unique<Query>());
            start_query(*queries.back(), host, resolver, qtype, start);
        }
    }
    for (;;) {
        double now = ms_since(start);
        double wait_ms = 1e9;
        for (auto& q : queries) wait_ms = std::min(wait_ms, advance(*q, timeout_ms, late_window_ms, now));
        std::vector<pollfd> fds;
        std::vector<Query*> owners;
        for (auto& q : queries) {
            if (q->done) continue;
            fds.push_back({q->fd, POLLIN, 0});
            owners.push_back(q.get());
        }
        if (fds.empty()) break;
        int wait = static_cast<int>(std::clamp(wait_ms, 0.0, 60000.0)) + 1;
        if (::poll(fds.data(), fds.size(), wait) < 0 && errno != EINTR) {
            int err = errno;
            for (Query* q : owners) q->fail(failure::from_errno(err), failure::errno_name(err), ms_since(start));
            break;
        }
        for (size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].revents != 0) drain(*owners[i], start);
        }
    }
    std::vector<DnsObservation> out;
    for (auto& q : queries) out.push_back(std::move(q->obs));
    return out;
}

}  // namespace meoktong::dns
