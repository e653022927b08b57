// The control server's pure parts: token bucket, rate-limit keys, the
// IP-literal refusal and the bearer token check. No network, no clock reads
// (time points are made up).
#include <doctest/doctest.h>

#include "probe/control/server.hpp"

using namespace meoktong;
using Clock = std::chrono::steady_clock;

TEST_CASE("rate limiter: burst, then refusal, then refill") {
    RateLimiter limiter(60, 3);  // one per second, bucket of 3
    auto t0 = Clock::time_point{} + std::chrono::hours(1);
    CHECK(limiter.allow("a", t0));
    CHECK(limiter.allow("a", t0));
    CHECK(limiter.allow("a", t0));
    CHECK(!limiter.allow("a", t0));
    CHECK(limiter.allow("b", t0));  // other clients have their own bucket
    CHECK(!limiter.allow("a", t0 + std::chrono::milliseconds(500)));
    CHECK(limiter.allow("a", t0 + std::chrono::milliseconds(1600)));
    CHECK(!limiter.allow("a", t0 + std::chrono::milliseconds(1700)));
}

TEST_CASE("rate limiter: a full table forgets idle clients, refuses new ones while all are active") {
    RateLimiter limiter(60, 1, 2);
    auto t0 = Clock::time_point{} + std::chrono::hours(1);
    CHECK(limiter.allow("a", t0));
    CHECK(limiter.allow("b", t0));
    CHECK(!limiter.allow("c", t0));                              // a and b still owe tokens
    CHECK(limiter.allow("c", t0 + std::chrono::seconds(2)));     // a and b are idle again: forgotten
}

TEST_CASE("rate-limit keys: IPv4 as is, IPv4-mapped unwrapped, IPv6 by /64") {
    CHECK(rate_limit_key("192.0.2.7") == "192.0.2.7");
    CHECK(rate_limit_key("::ffff:192.0.2.7") == "192.0.2.7");
    CHECK(rate_limit_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
    CHECK(rate_limit_key("2001:db8:1:2::ffff") == rate_limit_key("2001:db8:1:2:aaaa::1"));
}

TEST_CASE("refused hosts: special-purpose IP literals in every spelling, names pass") {
    CHECK(refused_host("127.0.0.1", {}) == "loopback");
    CHECK(refused_host("10.1.2.3", {}) == "private");
    CHECK(refused_host("169.254.169.254", {}) == "link-local");
    CHECK(refused_host("224.0.0.1", {}) == "multicast");
    CHECK(refused_host("::1", {}) == "loopback");
    CHECK(refused_host("fe80::1", {}) == "link-local");
    CHECK(refused_host("::ffff:127.0.0.1", {}).has_value());
    CHECK(refused_host("127.1", {}) == "loopback");
    CHECK(refused_host("2130706433", {}) == "loopback");
    CHECK(refused_host("0x7f000001", {}) == "loopback");
    CHECK(!refused_host("147.92.1.1", {}));
    CHECK(!refused_host("2606:4700::1", {}));
    CHECK(!refused_host("line.me", {}));
    auto lab = parse_cidr("10.0.0.0/8");
    REQUIRE(lab);
    CHECK(!refused_host("10.1.2.3", {*lab}));
}

TEST_CASE("bearer token check") {
    const std::string token = "s3cret-token-0123456789";
    CHECK(bearer_token_matches("Bearer s3cret-token-0123456789", token));
    CHECK(bearer_token_matches("bearer s3cret-token-0123456789", token));
    CHECK(!bearer_token_matches("Bearer s3cret-token-012345678", token));
    CHECK(!bearer_token_matches("Bearer s3cret-token-01234567890", token));
    CHECK(!bearer_token_matches("Basic s3cret-token-0123456789", token));
    CHECK(!bearer_token_matches("s3cret-token-0123456789", token));
    CHECK(!bearer_token_matches("", token));
    CHECK(!bearer_token_matches("Bearer ", ""));
}
