// Fault injection for the probe's own UDP DNS client (probe/net/dns.cpp): a
// scripted resolver on 127.0.0.1 answers with truncated messages, compression
// pointer loops, oversized datagrams, answers to another question or id, and
// floods. Each lookup must return (no crash, no hang) with a failure string of
// the vocabulary, and what it records must stay bounded.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <thread>

#include "dns_packet_builder.hpp"
#include "meoktong/failure.hpp"
#include "probe/net/dns.hpp"

using namespace meoktong;
using namespace meoktong::testing;

namespace {

using Packet = std::vector<unsigned char>;
// Sends one datagram to the querier; false once the server is stopping.
using Send = std::function<bool(const Packet&)>;
// What the resolver does with one query (its question and its raw bytes).
using Script = std::function<void(const TestQuestion&, const Packet& query, const Send&)>;

// A UDP resolver on 127.0.0.1 that runs `script` for every query it reads.
class HostileDnsServer {
public:
    explicit HostileDnsServer(Script script) : script_(std::move(script)) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0) throw std::runtime_error("hostile dns: bind");
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~HostileDnsServer() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    HostileDnsServer(const HostileDnsServer&) = delete;
    HostileDnsServer& operator=(const HostileDnsServer&) = delete;

    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    bool stopping() const { return stop_; }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 5) <= 0) continue;
            unsigned char buf[1500];
            sockaddr_in from{};
            socklen_t from_len = sizeof from;
            ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
            if (n <= 0) continue;
            TestQuestion q = read_question(buf, static_cast<size_t>(n));
            if (!q.ok) continue;
            Send send = [&](const Packet& packet) {
                ::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
                return !stop_;
            };
            script_(q, Packet(buf, buf + n), send);
        }
    }

    Script script_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

constexpr int kTimeoutMs = 600;
constexpr int kLateWindowMs = 200;

std::vector<DnsObservation> ask(const HostileDnsServer& server, const std::string& name = "hostile.test") {
    std::vector<ResolverSpec> resolvers{{server.address(), server.address()}};
    return dns::lookup(name, resolvers, kTimeoutMs, kLateWindowMs, std::chrono::steady_clock::now());
}

std::string failure_of(const DnsObservation& o) { return o.failure.value_or("none"); }

// A well-formed answer to q: `count` A (or AAAA) records.
Packet answer(const TestQuestion& q, int count, uint16_t id) {
    std::vector<TestAnswer> answers;
    for (int i = 0; i < count; ++i) {
        std::string low = std::to_string(i % 250 + 1);
        std::string mid = std::to_string(i / 250 % 250);
        answers.push_back(q.type == dns::kTypeA ? TestAnswer{1, "198.51." + mid + "." + low, 60}
                                                : TestAnswer{28, "2001:db8::" + mid + ":" + low, 60});
    }
    return build_response(id, q.name, q.type, 0, answers);
}

Packet answer(const TestQuestion& q, int count) { return answer(q, count, q.id); }

// Offset of the first answer record: header, question name, type and class.
size_t first_answer_offset(const Packet& p) {
    size_t i = 12;
    while (p[i] != 0) i += 1 + p[i];
    return i + 1 + 4;
}

void set_pointer(Packet& p, size_t at, size_t target) {
    p[at] = static_cast<unsigned char>(0xC0 | target >> 8);
    p[at + 1] = static_cast<unsigned char>(target & 0xFF);
}

void set_answer_count(Packet& p, unsigned count) {
    p[6] = static_cast<unsigned char>(count >> 8);
    p[7] = static_cast<unsigned char>(count & 0xFF);
}

constexpr unsigned char kTruncatedBit = 0x02;  // TC, in the third header byte

}  // namespace

TEST_CASE("hostile DNS: a truncated message (TC set, answer section cut) is a bogus reply") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        Packet p = answer(q, 3);
        p[2] |= kTruncatedBit;
        p.resize(first_answer_offset(p));  // header says 3 answers, none follow
        send(p);
    });
    auto obs = ask(server);
    REQUIRE(obs.size() == 2);
    for (const auto& o : obs) {
        CHECK(failure_of(o) == failure::kDnsBogusReply);
        CHECK(o.answers.empty());
        CHECK(o.responses.size() == 1);
    }
}

TEST_CASE("hostile DNS: a truncated message without answers (TC set, empty answer section) is not dns_no_answer") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        Packet p = answer(q, 0);
        p[2] |= kTruncatedBit;
        send(p);
    });
    auto obs = ask(server);
    REQUIRE(obs.size() == 2);
    for (const auto& o : obs) {
        CHECK(failure_of(o) == failure::kDnsBogusReply);
        CHECK(o.raw_error.find("truncated") != std::string::npos);
    }
}

TEST_CASE("hostile DNS: a message cut in the middle of a record is a bogus reply") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        Packet p = answer(q, 2);
        p.resize(p.size() - 3);  // inside the second record's address
        send(p);
        Packet header_only = answer(q, 2);
        header_only.resize(first_answer_offset(header_only) + 5);  // inside the first record's type/class
        send(header_only);
    });
    auto obs = ask(server);
    REQUIRE(obs.size() == 2);
    for (const auto& o : obs) {
        CHECK(failure_of(o) == failure::kDnsBogusReply);
        CHECK(o.answers.empty());
        REQUIRE(o.responses.size() == 2);  // both cut messages recorded, neither with answers
        CHECK(o.responses[1].answers.empty());
    }
}

TEST_CASE("hostile DNS: an answer name that points at itself is a bogus reply") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        Packet p = answer(q, 1);
        size_t at = first_answer_offset(p);
        set_pointer(p, at, at);
        send(p);
    });
    auto obs = ask(server);
    for (const auto& o : obs) CHECK(failure_of(o) == failure::kDnsBogusReply);
}

TEST_CASE("hostile DNS: two answer names pointing at each other are a bogus reply") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        Packet p = answer(q, 2);
        size_t first = first_answer_offset(p);
        size_t second = first + 2 + 10 + (q.type == dns::kTypeA ? 4 : 16);
        set_pointer(p, first, second);
        set_pointer(p, second, first);
        send(p);
    });
    auto obs = ask(server);
    for (const auto& o : obs) CHECK(failure_of(o) == failure::kDnsBogusReply);
}

TEST_CASE("hostile DNS: a label followed by a pointer back to itself (an endless name) is a bogus reply") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        Packet p = answer(q, 1);
        size_t at = first_answer_offset(p);
        // The record's name becomes: label "a", then a pointer to that label.
        Packet looped(p.begin(), p.begin() + static_cast<long>(at));
        looped.insert(looped.end(), {1, 'a', 0, 0});
        set_pointer(looped, at + 2, at);
        looped.insert(looped.end(), p.begin() + static_cast<long>(at) + 2, p.end());
        send(looped);
    });
    auto obs = ask(server);
    for (const auto& o : obs) CHECK(failure_of(o) == failure::kDnsBogusReply);
}

TEST_CASE("hostile DNS: a question name that loops is not taken for an answer to our question") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        Packet p = answer(q, 1);
        set_pointer(p, 12, 12);  // the question's name points at itself
        send(p);
    });
    auto obs = ask(server);
    for (const auto& o : obs) {
        CHECK(failure_of(o) == failure::kTimeout);
        CHECK(o.responses.empty());
    }
}

TEST_CASE("hostile DNS: a 65000-byte datagram with thousands of answers is a bogus reply") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        send(answer(q, q.type == dns::kTypeA ? 4000 : 2200));  // 16 or 28 bytes each: ~64 KB
    });
    TestQuestion a{0, "hostile.test", dns::kTypeA, true}, aaaa{0, "hostile.test", dns::kTypeAAAA, true};
    for (size_t size : {answer(a, 4000).size(), answer(aaaa, 2200).size()}) {
        REQUIRE(size > 60000);
        REQUIRE(size <= 65507);  // still one UDP datagram
    }
    auto obs = ask(server);
    REQUIRE(obs.size() == 2);
    for (const auto& o : obs) {
        CHECK(failure_of(o) == failure::kDnsBogusReply);
        CHECK(o.answers.empty());
        CHECK(o.raw_error == "datagram larger than 4096 bytes");  // read cut, not parsed as if whole
    }
}

TEST_CASE("hostile DNS: a message claiming more answers than it holds is a bogus reply") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        Packet p = answer(q, 2);
        set_answer_count(p, 65535);
        send(p);
    });
    auto obs = ask(server);
    for (const auto& o : obs) {
        CHECK(failure_of(o) == failure::kDnsBogusReply);
        CHECK(o.answers.empty());
    }
}

TEST_CASE("hostile DNS: hundreds of answers in one datagram are accepted, but at most 64 are recorded") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        send(answer(q, q.type == dns::kTypeA ? 250 : 140));  // just under 4096 bytes
    });
    auto obs = ask(server);
    for (const auto& o : obs) {
        CHECK(failure_of(o) == "none");
        CHECK(o.answers.size() == 64);
        REQUIRE(o.responses.size() == 1);
        CHECK(o.responses[0].answers.size() == 64);
    }
}

TEST_CASE("hostile DNS: an answer with another id is ignored") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        send(answer(q, 1, static_cast<uint16_t>(q.id ^ 0x5A5A)));
    });
    auto obs = ask(server);
    for (const auto& o : obs) {
        CHECK(failure_of(o) == failure::kTimeout);
        CHECK(o.answers.empty());
        CHECK(o.responses.empty());
    }
}

TEST_CASE("hostile DNS: an answer to another question (same id) is ignored; the right one is used") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        TestQuestion other = q;
        other.name = "evil.test";
        send(answer(other, 1));  // another name
        other = q;
        other.type = q.type == dns::kTypeA ? dns::kTypeAAAA : dns::kTypeA;
        send(answer(other, 1));  // another type
        Packet other_class = answer(q, 1);
        other_class[first_answer_offset(other_class) - 1] = 3;  // the question's class: CH, not IN
        send(other_class);
        send(build_response(q.id, q.name, q.type, 0, {}));  // then the resolver's own, empty answer
    });
    auto obs = ask(server);
    REQUIRE(obs.size() == 2);
    for (const auto& o : obs) {
        CHECK(failure_of(o) == failure::kDnsNoAnswer);
        CHECK(o.answers.empty());
        CHECK(o.responses.size() == 1);
    }
}

TEST_CASE("hostile DNS: the question's name is compared without regard to case") {
    HostileDnsServer server([](const TestQuestion& q, const Packet&, const Send& send) {
        TestQuestion upper = q;
        for (char& c : upper.name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        send(answer(upper, 1));
    });
    auto obs = ask(server, "Hostile.Test");
    for (const auto& o : obs) {
        CHECK(failure_of(o) == "none");
        CHECK(o.answers.size() == 1);
    }
}

TEST_CASE("hostile DNS: a flood of answers to one query ends at the deadline with bounded responses") {
    // Set only when the server sent every packet of its flood (about 8 s):
    // the flood also stops early once the client's socket is gone.
    std::atomic<bool> flood_sent_in_full{false};
    HostileDnsServer server([&](const TestQuestion& q, const Packet&, const Send& send) {
        if (q.type != dns::kTypeA) return;  // the flood answers A; AAAA goes unanswered
        Packet p = answer(q, 1);
        int sent = 0;
        while (sent < 5'000'000 && send(p)) ++sent;
        if (sent == 5'000'000) flood_sent_in_full = true;
    });
    auto obs = ask(server);
    bool flood_outlasted_lookup = !flood_sent_in_full;
    REQUIRE(obs.size() == 2);
    CHECK(flood_outlasted_lookup);  // the lookup ended on its own deadline, not the flood's end
    CHECK(failure_of(obs[0]) == "none");
    CHECK(obs[0].answers.size() == 1);
    CHECK(obs[0].responses.size() == dns::kMaxResponsesPerQuery);
    CHECK(failure_of(obs[1]) == failure::kTimeout);
}

TEST_CASE("hostile DNS: a flood of answers with wrong ids ends in a timeout, nothing recorded") {
    std::atomic<bool> flooding{false};
    HostileDnsServer server([&](const TestQuestion& q, const Packet&, const Send& send) {
        if (q.type != dns::kTypeA) return;
        Packet p = answer(q, 1, static_cast<uint16_t>(q.id + 1));
        flooding = true;
        for (int i = 0; i < 5'000'000 && send(p); ++i) {
        }
        flooding = false;
    });
    auto obs = ask(server);
    bool flood_outlasted_lookup = flooding;
    CHECK(flood_outlasted_lookup);
    CHECK(failure_of(obs[0]) == failure::kTimeout);
    CHECK(obs[0].responses.empty());
}
