// DNS failure strings and the late-answer listener proven against a UDP DNS
// server on 127.0.0.1: NXDOMAIN, SERVFAIL, REFUSED, empty NOERROR, timeout
// with retransmission, ICMP port unreachable, and an injected first answer
// followed by the real one.
#include <doctest/doctest.h>

#include "meoktong/failure.hpp"
#include "probe/net/dns.hpp"
#include "test_servers.hpp"

using namespace meoktong;
using namespace meoktong::testing;

namespace {

// A and AAAA observations for `name` from the test server only.
std::vector<DnsObservation> ask(const DnsTestServer& server, const std::string& name, int timeout_ms = 1000,
                                int late_ms = 150) {
    std::vector<ResolverSpec> resolvers{{server.address(), server.address()}};
    return dns::lookup(name, resolvers, timeout_ms, late_ms, std::chrono::steady_clock::now());
}

}  // namespace

TEST_CASE("DNS: A and AAAA answers with rcode, timing and the packet's IP TTL") {
    DnsTestServer server;
    auto obs = ask(server, "ok.test");
    REQUIRE(obs.size() == 2);
    CHECK(obs[0].query_type == "A");
    CHECK(obs[1].query_type == "AAAA");
    CHECK(obs[0].resolver_address == server.address());
    CHECK_FALSE(obs[0].failure.has_value());
    CHECK(obs[0].rcode == 0);
    REQUIRE(obs[0].answers.size() == 1);
    CHECK(obs[0].answers[0].value == "192.0.2.1");
    CHECK(obs[0].answers[0].ttl == 300);
    REQUIRE(obs[1].answers.size() == 1);
    CHECK(obs[1].answers[0].value == "2001:db8::1");
    REQUIRE(obs[0].responses.size() == 1);
    CHECK(obs[0].responses[0].ip_ttl == 64);
    CHECK(obs[0].t_ms >= obs[0].t0_ms);
}

TEST_CASE("DNS: error rcodes and empty answers") {
    DnsTestServer server;
    CHECK(ask(server, "nx.test")[0].failure == failure::kDnsNxdomain);
    CHECK(ask(server, "servfail.test")[0].failure == failure::kDnsServfail);
    auto refused = ask(server, "refused.test");
    CHECK(refused[0].failure == failure::kDnsRefused);
    CHECK(refused[0].rcode == 5);
    CHECK(refused[0].raw_error == "rcode=5");
    CHECK(ask(server, "empty.test")[1].failure == failure::kDnsNoAnswer);
}

TEST_CASE("DNS: two answers to one query are both recorded; the first is the one used") {
    DnsTestServer server;
    auto obs = ask(server, "inject.test", 1000, 300);
    const auto& a = obs[0];
    REQUIRE(a.answers.size() == 1);
    CHECK(a.answers[0].value == "10.10.34.35");
    REQUIRE(a.responses.size() == 2);
    CHECK(a.responses[0].answers[0].value == "10.10.34.35");
    CHECK(a.responses[1].answers[0].value == "192.0.2.7");
    CHECK(a.responses[1].t_ms > a.responses[0].t_ms);
    CHECK(a.responses[1].ip_ttl > 0);
}

TEST_CASE("DNS: a late answer after the listening window is not recorded") {
    DnsTestServer server;
    auto obs = ask(server, "inject.test", 1000, 0);
    CHECK(obs[0].responses.size() == 1);
}

TEST_CASE("DNS: no answer is generic_timeout_error, after one retransmission") {
    DnsTestServer server;
    auto obs = ask(server, "silent.test", 600);
    CHECK(obs[0].failure == failure::kTimeout);
    CHECK(obs[1].failure == failure::kTimeout);
    CHECK(obs[0].t_ms - obs[0].t0_ms >= 590);
    CHECK(server.queries_for("silent.test") == 4);  // A and AAAA, each sent twice
}

TEST_CASE("DNS: a lost query is answered on retransmission") {
    DnsTestServer server;
    auto obs = ask(server, "retransmit.test", 600);
    CHECK_FALSE(obs[0].failure.has_value());
    REQUIRE(obs[0].answers.size() == 1);
    CHECK(obs[0].answers[0].value == "192.0.2.1");
}

TEST_CASE("DNS: a closed UDP port (ICMP port unreachable) is connection_refused") {
    std::string addr = "127.0.0.1:" + std::to_string(closed_port());
    auto obs = dns::lookup("ok.test", {{addr, addr}}, 1000, 100, std::chrono::steady_clock::now());
    CHECK(obs[0].failure == failure::kConnectionRefused);
}

TEST_CASE("DNS: several resolvers are asked in parallel, one timeout for all") {
    DnsTestServer a, b;
    std::vector<ResolverSpec> resolvers{{a.address(), a.address()}, {b.address(), b.address()}};
    auto start = std::chrono::steady_clock::now();
    auto obs = dns::lookup("silent.test", resolvers, 500, 100, start);
    REQUIRE(obs.size() == 4);
    for (const auto& o : obs) CHECK(o.failure == failure::kTimeout);
    CHECK(a.queries_for("silent.test") == 4);
    CHECK(b.queries_for("silent.test") == 4);
}
