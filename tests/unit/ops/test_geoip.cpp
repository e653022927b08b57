// GeoIP: country and ASN from tiny MaxMind DBs made by
// tests/data/geoip/make-test-dbs.pl (documentation ranges only), error paths,
// and the precedence of command line, database and config.
#include <doctest/doctest.h>

#include "meoktong/target.hpp"
#include "probe/ops/geoip.hpp"

using namespace meoktong;

namespace {
const std::string kCountryDb = std::string(MEOKTONG_TEST_DATA) + "/geoip/test-country.mmdb";
const std::string kAsnDb = std::string(MEOKTONG_TEST_DATA) + "/geoip/test-asn.mmdb";
}  // namespace

TEST_CASE("country database: country, registered country, IPv6, unknown address") {
    GeoIpDatabase db(kCountryDb);
    CHECK(db.lookup("192.0.2.7").cc == "KR");
    CHECK(!db.lookup("192.0.2.7").asn);
    CHECK(db.lookup("198.51.100.1").cc == "CN");
    CHECK(db.lookup("2001:db8::5").cc == "JP");
    auto unknown = db.lookup("203.0.113.9");
    CHECK(!unknown.cc);
    CHECK(!unknown.asn);
}

TEST_CASE("asn database gives AS<number>") {
    GeoIpDatabase db(kAsnDb);
    CHECK(db.lookup("192.0.2.200").asn == "AS4766");
    CHECK(db.lookup("2001:db8:1::1").asn == "AS2516");
    CHECK(!db.lookup("198.51.100.1").asn);
}

TEST_CASE("a country database and an ASN database combine") {
    auto info = lookup_geoip({kCountryDb, kAsnDb}, "192.0.2.1");
    CHECK(info.cc == "KR");
    CHECK(info.asn == "AS4766");
    auto partial = lookup_geoip({kCountryDb, kAsnDb}, "198.51.100.1");
    CHECK(partial.cc == "CN");
    CHECK(!partial.asn);
}

TEST_CASE("error paths are one-line InputErrors") {
    CHECK_THROWS_WITH_AS(GeoIpDatabase("/nonexistent/GeoLite2-ASN.mmdb"),
                         doctest::Contains("geoip db /nonexistent/GeoLite2-ASN.mmdb:"), InputError);
    CHECK_THROWS_WITH_AS(GeoIpDatabase(std::string(MEOKTONG_TEST_DATA) + "/geoip/make-test-dbs.pl"),
                         doctest::Contains("geoip db"), InputError);
    GeoIpDatabase db(kCountryDb);
    CHECK_THROWS_AS(db.lookup("not-an-ip"), InputError);
    CHECK_THROWS_AS(db.lookup("192.0.2.1; DROP"), InputError);
}

TEST_CASE("precedence: command line, then database, then config, then ZZ/AS0") {
    VantageSources s;
    CHECK(resolve_vantage("lab", s).cc == "ZZ");
    CHECK(resolve_vantage("lab", s).asn == "AS0");
    s.config_cc = "US";
    s.config_asn = "AS1";
    CHECK(resolve_vantage("lab", s).cc == "US");
    s.geoip = {std::string("KR"), std::nullopt};
    auto v = resolve_vantage("lab", s);
    CHECK(v.cc == "KR");
    CHECK(v.asn == "AS1");
    s.cli_cc = "CN";
    s.cli_asn = "AS4134";
    v = resolve_vantage("seoul-1", s);
    CHECK(v.label == "seoul-1");
    CHECK(v.cc == "CN");
    CHECK(v.asn == "AS4134");
}

TEST_CASE("local public addresses are public unicast literals only") {
    for (const auto& ip : local_public_addresses()) {
        CAPTURE(ip);
        CHECK(is_ip_literal(ip));
        CHECK(ip != "127.0.0.1");
        CHECK(ip != "::1");
    }
}
