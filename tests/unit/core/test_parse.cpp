// The one set of value parsers at their edges: spaces, signs, overflow,
// units, AS04766 and 2^32, bare and bracketed IPv6.
#include <doctest/doctest.h>

#include "meoktong/parse.hpp"

using namespace meoktong;

TEST_CASE("integers: digits only, in range, no spaces or '+'") {
    CHECK(parse_integer("42", 0, 100) == 42);
    CHECK(parse_integer("007", 0, 100) == 7);
    CHECK(parse_integer("-5", -10, 10) == -5);
    CHECK_FALSE(parse_integer("-5", 0, 10));
    CHECK_FALSE(parse_integer(" 5", 0, 10));
    CHECK_FALSE(parse_integer("5 ", 0, 10));
    CHECK_FALSE(parse_integer("+5", 0, 10));
    CHECK_FALSE(parse_integer("", 0, 10));
    CHECK_FALSE(parse_integer("-", -10, 10));
    CHECK_FALSE(parse_integer("1e3", 0, 10000));
    CHECK_FALSE(parse_integer("11", 0, 10));
    CHECK_FALSE(parse_integer("99999999999999999999", 0, INT64_MAX));
    CHECK(parse_integer("9223372036854775807", 0, INT64_MAX) == INT64_MAX);
}

TEST_CASE("ports are 1..65535") {
    CHECK(parse_port("53") == 53);
    CHECK(parse_port("65535") == 65535);
    CHECK_FALSE(parse_port("0"));
    CHECK_FALSE(parse_port("65536"));
    CHECK_FALSE(parse_port("-1"));
    CHECK_FALSE(parse_port(" 80"));
}

TEST_CASE("durations: no unit is seconds; s, m, h, d; at most ten years") {
    CHECK(parse_duration_seconds("90") == 90);
    CHECK(parse_duration_seconds("90s") == 90);
    CHECK(parse_duration_seconds("15m") == 900);
    CHECK(parse_duration_seconds("2h") == 7200);
    CHECK(parse_duration_seconds("7d") == 7 * 86400);
    CHECK(parse_duration_seconds("0") == 0);
    CHECK(parse_duration_seconds("3650d") == 3650 * 86400);
    CHECK_FALSE(parse_duration_seconds("3651d"));
    CHECK_FALSE(parse_duration_seconds("99999999999999999d"));
    CHECK_FALSE(parse_duration_seconds("s"));
    CHECK_FALSE(parse_duration_seconds(""));
    CHECK_FALSE(parse_duration_seconds("5w"));
    CHECK_FALSE(parse_duration_seconds("-5m"));
    CHECK_FALSE(parse_duration_seconds(" 5m"));
}

TEST_CASE("country codes: two ASCII letters, upper-cased") {
    CHECK(parse_country_code("kr") == "KR");
    CHECK(parse_country_code("CN") == "CN");
    CHECK_FALSE(parse_country_code("KOR"));
    CHECK_FALSE(parse_country_code("K1"));
    CHECK_FALSE(parse_country_code(" K"));
    CHECK_FALSE(parse_country_code(""));
}

TEST_CASE("ASNs: AS prefix optional, leading zeros dropped, at most 2^32-1") {
    CHECK(parse_asn("AS4766") == "AS4766");
    CHECK(parse_asn("as4766") == "AS4766");
    CHECK(parse_asn("4766") == "AS4766");
    CHECK(parse_asn("AS04766") == "AS4766");
    CHECK(parse_asn("AS0") == "AS0");
    CHECK(parse_asn("AS4294967295") == "AS4294967295");
    CHECK_FALSE(parse_asn("AS4294967296"));
    CHECK_FALSE(parse_asn("AS"));
    CHECK_FALSE(parse_asn("AS-1"));
    CHECK_FALSE(parse_asn("AS 4766"));
    CHECK_FALSE(parse_asn("ASN4766"));
}

TEST_CASE("HOST:PORT: names, IPv4, bracketed IPv6; a bare IPv6 address has no port") {
    auto named = split_host_port("example.org:53");
    REQUIRE(named);
    CHECK(named->host == "example.org");
    CHECK(named->port == 53);

    auto bare_name = split_host_port("example.org");
    REQUIRE(bare_name);
    CHECK_FALSE(bare_name->port);

    auto v6 = split_host_port("[2001:db8::1]:853");
    REQUIRE(v6);
    CHECK(v6->host == "2001:db8::1");
    CHECK(v6->port == 853);

    auto v6_no_port = split_host_port("[2001:db8::1]");
    REQUIRE(v6_no_port);
    CHECK(v6_no_port->host == "2001:db8::1");
    CHECK_FALSE(v6_no_port->port);

    auto bare_v6 = split_host_port("2001:db8::53");
    REQUIRE(bare_v6);
    CHECK(bare_v6->host == "2001:db8::53");
    CHECK_FALSE(bare_v6->port);

    CHECK_FALSE(split_host_port("example.org:0"));
    CHECK_FALSE(split_host_port("example.org:65536"));
    CHECK_FALSE(split_host_port("example.org:"));
    CHECK_FALSE(split_host_port("example.org: 53"));
    CHECK_FALSE(split_host_port(":53"));
    CHECK_FALSE(split_host_port("[2001:db8::1"));
    CHECK_FALSE(split_host_port("[2001:db8::1]x"));
    CHECK_FALSE(split_host_port("[]:53"));
    CHECK_FALSE(split_host_port("a]:53"));
}

TEST_CASE("uri_host brackets IPv6 addresses only") {
    CHECK(uri_host("2001:db8::1") == "[2001:db8::1]");
    CHECK(uri_host("1.2.3.4") == "1.2.3.4");
    CHECK(uri_host("line.me") == "line.me");
}

TEST_CASE("join_host_port is split_host_port's inverse") {
    CHECK(join_host_port("1.2.3.4", 53) == "1.2.3.4:53");
    CHECK(join_host_port("2001:db8::1", 53) == "[2001:db8::1]:53");
    CHECK(join_host_port("example.org", std::nullopt) == "example.org");
    for (std::string text : {"1.2.3.4:53", "[2001:db8::1]:53", "example.org"}) {
        auto split = split_host_port(text);
        REQUIRE(split);
        CHECK(join_host_port(split->host, split->port) == text);
    }
}
