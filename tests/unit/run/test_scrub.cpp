// Privacy scrubbing: the probe's own addresses never survive in report text.
#include <doctest/doctest.h>

#include "probe/net/interfaces.hpp"
#include "probe/run/scrub.hpp"

using namespace meoktong;

TEST_CASE("whole addresses are replaced, longer addresses that contain them are kept") {
    Scrubber s;
    s.add("203.0.113.7");
    s.add("2001:DB8::7");
    s.add("not an address");
    CHECK(s.addresses().size() == 2);
    CHECK(s.apply("you are 203.0.113.7, welcome") == "you are [scrubbed], welcome");
    CHECK(s.apply("203.0.113.7") == "[scrubbed]");
    CHECK(s.apply("x=203.0.113.71 y=1203.0.113.7") == "x=203.0.113.71 y=1203.0.113.7");
    CHECK(s.apply("ip 2001:db8::7; again 2001:DB8::7") == "ip [scrubbed]; again [scrubbed]");
    CHECK(s.apply("2001:db8::77") == "2001:db8::77");
    CHECK(s.apply("X-Forwarded-For: 203.0.113.7,203.0.113.7") == "X-Forwarded-For: [scrubbed],[scrubbed]");
}

TEST_CASE("a record's free text is scrubbed everywhere an address could hide") {
    Scrubber s;
    s.add("198.51.100.23");
    Record r;
    HttpObservation h;
    h.headers = {{"X-Client-IP", "198.51.100.23"}};
    h.title = "Blocked for 198.51.100.23";
    h.body_excerpt = "<p>your address 198.51.100.23</p>";
    h.raw_error = "from 198.51.100.23";
    h.failure = "unknown_failure: 198.51.100.23";
    r.observations.http.push_back(h);
    DnsObservation d;
    d.resolver_address = "198.51.100.23:53";
    r.observations.dns.push_back(d);
    DnsObservation doh;  // a DoH resolver on this host's own address (a LAN proxy)
    doh.resolver = "198.51.100.23";
    doh.transport = "doh";
    doh.resolver_address = "198.51.100.23:443";
    doh.raw_error = "Failed to connect to 198.51.100.23 port 443";
    r.observations.dns.push_back(doh);
    TlsObservation t;
    t.raw_error = "bind 198.51.100.23";
    r.control.observations.tls.push_back(t);
    r.verdict.evidence = {"probe 198.51.100.23"};
    s.apply(r);
    const auto& out = r.observations.http[0];
    CHECK(out.headers[0].second == "[scrubbed]");
    CHECK(out.title == "Blocked for [scrubbed]");
    CHECK(out.body_excerpt == "<p>your address [scrubbed]</p>");
    CHECK(out.raw_error == "from [scrubbed]");
    CHECK(*out.failure == "unknown_failure: [scrubbed]");
    CHECK(r.control.observations.tls[0].raw_error == "bind [scrubbed]");
    CHECK(r.observations.dns[0].resolver_address == "[scrubbed]:53");
    CHECK(r.observations.dns[1].resolver == "[scrubbed]");
    CHECK(r.observations.dns[1].resolver_address == "[scrubbed]:443");
    CHECK(r.observations.dns[1].raw_error == "Failed to connect to [scrubbed] port 443");
    CHECK(r.verdict.evidence[0] == "probe [scrubbed]");
}

TEST_CASE("local addresses never include loopback") {
    for (const auto& a : local_addresses()) {
        CHECK(a != "127.0.0.1");
        CHECK(a != "::1");
    }
}
