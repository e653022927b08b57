// Special-purpose address detection (bogons), CIDR membership, --routable.
#include <doctest/doctest.h>

#include "meoktong/ipaddr.hpp"

using namespace meoktong;

TEST_CASE("special-purpose IPv4 and IPv6 ranges are named") {
    CHECK(special_purpose("10.10.34.35") == "private");
    CHECK(special_purpose("127.0.0.1") == "loopback");
    CHECK(special_purpose("169.254.1.1") == "link-local");
    CHECK(special_purpose("224.0.0.1") == "multicast");
    CHECK(special_purpose("0.0.0.0") == "unspecified");
    CHECK(special_purpose("::1") == "loopback");
    CHECK(special_purpose("fe80::1") == "link-local");
    CHECK(special_purpose("fd00::5") == "private");
    CHECK(special_purpose("::ffff:10.0.0.1") == "reserved");
    CHECK_FALSE(special_purpose("147.92.1.1").has_value());
    CHECK_FALSE(special_purpose("2606:4700::1111").has_value());
    CHECK(special_purpose("not-an-ip") == "invalid");
}

TEST_CASE("--routable ranges count as public") {
    auto lab = parse_cidr("10.77.0.0/16");
    REQUIRE(lab);
    CHECK_FALSE(special_purpose("10.77.2.10", {*lab}).has_value());
    CHECK(special_purpose("10.78.2.10", {*lab}) == "private");
}

TEST_CASE("CIDR parsing rejects junk") {
    CHECK_FALSE(parse_cidr("10.0.0.0/33"));
    CHECK_FALSE(parse_cidr("10.0.0.0/"));
    CHECK_FALSE(parse_cidr("10.0.0/8"));
    CHECK_FALSE(parse_cidr("::/129"));
    CHECK(parse_cidr("192.168.0.0/16")->prefix == 16);
    CHECK(cidr_contains(*parse_cidr("192.168.0.0/17"), "192.168.127.255"));
    CHECK_FALSE(cidr_contains(*parse_cidr("192.168.0.0/17"), "192.168.128.0"));
}

// The prefix is a parse_integer: leading zeros are read (the old copy refused
// more than three digits), signs and spaces are not.
TEST_CASE("CIDR prefix follows the core integer rule") {
    REQUIRE(parse_cidr("10.0.0.0/0008"));
    CHECK(parse_cidr("10.0.0.0/0008")->prefix == 8);
    CHECK_FALSE(parse_cidr("10.0.0.0/+8"));
    CHECK_FALSE(parse_cidr("10.0.0.0/ 8"));
    CHECK_FALSE(parse_cidr("10.0.0.0/-0"));
}

TEST_CASE("network_of gives the /24 or /48") {
    CHECK(network_of("147.92.1.77") == "147.92.1.0/24");
    CHECK(network_of("2001:db8:1:2::5") == "2001:db8:1::/48");
}

// The issue found the control measuring these while refusing ::ffff:10.0.0.1.
TEST_CASE("IPv6 forms embedding a special-purpose IPv4 address are that special") {
    CHECK(special_purpose("64:ff9b::a00:1") == "private");          // NAT64 of 10.0.0.1
    CHECK(special_purpose("64:ff9b::127.0.0.1") == "loopback");
    CHECK(special_purpose("2002:a00:1::") == "private");            // 6to4 of 10.0.0.1
    CHECK(special_purpose("2002:a9fe:a9fe::1") == "link-local");    // 6to4 of 169.254.169.254
    CHECK(special_purpose("::10.0.0.1") == "private");              // IPv4-compatible
    // Edges: the first and last embedded addresses of a range, and just outside.
    CHECK(special_purpose("64:ff9b::aff:ffff") == "private");       // 10.255.255.255
    CHECK_FALSE(special_purpose("64:ff9b::b00:0").has_value());     // 11.0.0.0
    CHECK_FALSE(special_purpose("64:ff9b::93c5:101").has_value());  // 147.197.1.1, public
    CHECK_FALSE(special_purpose("2002:93c5:101::1").has_value());
    CHECK_FALSE(special_purpose("2002:9fff:ffff::").has_value());  // 159.255.255.255
    CHECK(special_purpose("2002:ac10::") == "private");             // 172.16.0.0
    CHECK_FALSE(special_purpose("2002:ac20::").has_value());       // 172.32.0.0
    // Not an embedding: 64:ff9b::/96 is exactly 96 bits; 2003:: is not 6to4.
    CHECK_FALSE(special_purpose("64:ff9b:0:0:1::a00:1").has_value());
    CHECK_FALSE(special_purpose("2003:a00:1::").has_value());
    // --routable covers the embedded address too.
    auto lab = parse_cidr("10.77.0.0/16");
    REQUIRE(lab);
    CHECK_FALSE(special_purpose("64:ff9b::a4d:20a", {*lab}).has_value());  // 10.77.2.10
    CHECK(special_purpose("64:ff9b::a4e:20a", {*lab}) == "private");
}
