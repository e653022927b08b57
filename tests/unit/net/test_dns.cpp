// DNS response parsing and classification (the parser the listener uses) on
// hand-assembled packets; resolver address normalisation. No network.
#include <doctest/doctest.h>

#include "../../loopback/dns_packet_builder.hpp"
#include "meoktong/failure.hpp"
#include "probe/net/dns.hpp"

using namespace meoktong;
using meoktong::testing::build_response;

namespace {
dns::ParsedResponse parse(const std::vector<unsigned char>& p, int qtype) {
    return dns::parse_response(p.data(), p.size(), qtype);
}
}  // namespace

TEST_CASE("an A answer is parsed with id, rcode, address and TTL") {
    auto r = parse(build_response(0xBEEF, "line.me", 1, 0, {{1, "147.92.1.2", 120}, {1, "147.92.1.3", 120}}), 1);
    CHECK(r.valid);
    CHECK(r.id == 0xBEEF);
    CHECK(r.rcode == 0);
    REQUIRE(r.answers.size() == 2);
    CHECK(r.answers[0].type == "A");
    CHECK(r.answers[0].value == "147.92.1.2");
    CHECK(r.answers[0].ttl == 120);
    auto [fail, raw] = dns::classify_response(r);
    CHECK_FALSE(fail.has_value());
}

TEST_CASE("an AAAA answer is parsed") {
    auto r = parse(build_response(7, "line.me", 28, 0, {{28, "2001:db8::5", 30}}), 28);
    REQUIRE(r.answers.size() == 1);
    CHECK(r.answers[0].type == "AAAA");
    CHECK(r.answers[0].value == "2001:db8::5");
}

TEST_CASE("rcodes and empty answers map to the failure vocabulary") {
    auto failure_of = [](int rcode, std::vector<testing::TestAnswer> answers) {
        return dns::classify_response(parse(build_response(1, "x.test", 1, rcode, answers), 1)).first;
    };
    CHECK(failure_of(3, {}) == failure::kDnsNxdomain);
    CHECK(failure_of(2, {}) == failure::kDnsServfail);
    CHECK(failure_of(5, {}) == failure::kDnsRefused);
    CHECK(failure_of(0, {}) == failure::kDnsNoAnswer);
    CHECK(failure_of(0, {{28, "2001:db8::1", 5}}) == failure::kDnsNoAnswer);  // AAAA only, A asked
}

TEST_CASE("queries and garbage are not responses; truncated answers are bogus") {
    auto p = build_response(9, "line.me", 1, 0, {{1, "192.0.2.1", 1}});
    auto query = p;
    query[2] &= 0x7F;  // clear QR
    CHECK_FALSE(parse(query, 1).valid);
    CHECK_FALSE(dns::parse_response(p.data(), 11, 1).valid);
    auto cut = parse(std::vector<unsigned char>(p.begin(), p.end() - 3), 1);
    CHECK(cut.valid);
    CHECK(cut.answers.empty());
    CHECK(dns::classify_response(cut).first == failure::kDnsBogusReply);
}

TEST_CASE("resolver addresses are normalised to IP:PORT") {
    CHECK(dns::normalise_resolver("8.8.8.8") == "8.8.8.8:53");
    CHECK(dns::normalise_resolver("127.0.0.1:5353") == "127.0.0.1:5353");
    CHECK(dns::normalise_resolver("2001:db8::53") == "[2001:db8::53]:53");
    CHECK(dns::normalise_resolver("[2001:db8::53]:5300") == "[2001:db8::53]:5300");
    for (const char* bad : {"", "dns.google", "1.2.3.4:", "1.2.3.4:99999", "[::1", "1.2.3.4:x"})
        CHECK_FALSE(dns::normalise_resolver(bad).has_value());
}

// The core HOST:PORT rule: an address with several colons is a bare IPv6
// address and never split at its last colon (the old copy read this one as
// [::ffff:192.0.2.1]:53); a port is written after brackets.
TEST_CASE("a resolver that is not an IPv6 address is not split at its last colon") {
    CHECK_FALSE(dns::normalise_resolver("::ffff:192.0.2.1:53").has_value());
    CHECK(dns::normalise_resolver("[::ffff:192.0.2.1]:53") == "[::ffff:192.0.2.1]:53");
    CHECK_FALSE(dns::normalise_resolver("1.2.3.4: 53").has_value());
}
