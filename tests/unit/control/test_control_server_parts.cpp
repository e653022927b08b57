// The control server's pure parts: the IP-literal refusal and the bearer
// token check. No network. (Its rate limiter is the shared one: tests/unit/server.)
#include <doctest/doctest.h>

#include "probe/control/server.hpp"

using namespace meoktong;

TEST_CASE("refused hosts: special-purpose IP literals in every spelling, names pass") {
    CHECK(refused_host("127.0.0.1", {}) == "loopback");
    CHECK(refused_host("10.1.2.3", {}) == "private");
    CHECK(refused_host("169.254.169.254", {}) == "link-local");
    CHECK(refused_host("224.0.0.1", {}) == "multicast");
    CHECK(refused_host("::1", {}) == "loopback");
    CHECK(refused_host("fe80::1", {}) == "link-local");
    CHECK(refused_host("::ffff:127.0.0.1", {}).has_value());
    CHECK(refused_host("::ffff:10.0.0.1", {}).has_value());
    CHECK(refused_host("64:ff9b::a00:1", {}) == "private");  // NAT64 of 10.0.0.1 (the finding)
    CHECK(refused_host("2002:a00:1::", {}) == "private");    // 6to4 of 10.0.0.1 (the finding)
    CHECK(refused_host("64:ff9b::7f00:1", {}) == "loopback");
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
