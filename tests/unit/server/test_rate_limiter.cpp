// The shared rate limiter (probe/server/): per-key token buckets with a
// bounded table, and client-address keys. No clock reads (time points are made up).
#include <doctest/doctest.h>

#include "probe/server/rate_limiter.hpp"

using namespace meoktong::server;
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

TEST_CASE("rate limiter: one bucket per probe label, as the collector keys it") {
    RateLimiter buckets(60, 2);  // one a second, two at once
    auto t0 = Clock::time_point{};
    CHECK(buckets.allow("a", t0));
    CHECK(buckets.allow("a", t0));
    CHECK_FALSE(buckets.allow("a", t0));
    CHECK(buckets.allow("b", t0));
    CHECK(buckets.allow("a", t0 + std::chrono::seconds(1)));
    CHECK_FALSE(buckets.allow("a", t0 + std::chrono::seconds(1)));
}
