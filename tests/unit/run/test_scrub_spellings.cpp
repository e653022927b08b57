// Privacy scrubbing against an echo service: every spelling of the probe's
// address, cut addresses at a field's end, and the address fields a lying
// resolver fills with the probe's own address (the lab's privacy test does
// the same end to end).
#include <doctest/doctest.h>

#include "probe/net/http.hpp"
#include "probe/run/scrub.hpp"

using namespace meoktong;

TEST_CASE("IPv4 spellings: dotted, reverse DNS and dashed host names") {
    Scrubber s;
    s.add("198.51.100.23");
    CHECK(s.apply("23.100.51.198.in-addr.arpa") == "[scrubbed].in-addr.arpa");
    CHECK(s.apply("Domain=ip-198-51-100-23.example") == "Domain=ip-[scrubbed].example");
    CHECK(s.apply("host 23-100-51-198.dyn.isp") == "host [scrubbed].dyn.isp");
    CHECK(s.apply("198-51-100-231 and 1198.51.100.23") == "198-51-100-231 and 1198.51.100.23");
}

TEST_CASE("IPv4 spellings: underscores, zero-padded, hex and one integer") {
    Scrubber s;
    s.add("198.51.100.23");  // hex c6336417, integer 3325256727
    CHECK(s.apply("node_198_51_100_23") == "node_[scrubbed]");
    CHECK(s.apply("ip=198.051.100.023;") == "ip=[scrubbed];");
    CHECK(s.apply("0xC6336417 and c6336417") == "0x[scrubbed] and [scrubbed]");
    CHECK(s.apply("{\"ip\":3325256727}") == "{\"ip\":[scrubbed]}");
    // Longer numbers and hex strings that merely contain a spelling are kept.
    CHECK(s.apply("33252567270 c6336417a 1c6336417") == "33252567270 c6336417a 1c6336417");
}

TEST_CASE("IPv6 spellings: compressed, expanded, unpadded, dashed, nibbles, any case") {
    Scrubber s;
    s.add("2001:db8::7");
    CHECK(s.apply("a 2001:0DB8:0000:0000:0000:0000:0000:0007 b") == "a [scrubbed] b");
    CHECK(s.apply("a 2001:db8:0:0:0:0:0:7 b") == "a [scrubbed] b");
    CHECK(s.apply("2001-db8--7.ipv6-literal.net") == "[scrubbed].ipv6-literal.net");
    CHECK(s.apply("7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa") ==
          "[scrubbed].ip6.arpa");
    CHECK(s.apply("2001:db8::71") == "2001:db8::71");
    CHECK(s.apply("id 20010DB8000000000000000000000007.") == "id [scrubbed].");
}

TEST_CASE("an IPv4-mapped address (as a dual-stack control sees a client) is scrubbed as IPv4 too") {
    Scrubber s;
    s.add("::ffff:198.51.100.23");
    CHECK(s.apply("you are 198.51.100.23") == "you are [scrubbed]");
    CHECK(s.apply("you are ::ffff:198.51.100.23") == "you are [scrubbed]");
}

TEST_CASE("a cut field loses a trailing beginning of an address, an uncut one keeps its text") {
    Scrubber s;
    s.add("10.77.1.2");
    CHECK(s.apply_cut("xxxx10.7") == "xxxx[scrubbed]");
    CHECK(s.apply_cut("you are 10.77.1.2 and 2.1.") == "you are [scrubbed] and [scrubbed]");
    CHECK(s.apply_cut("version 110.7") == "version 110.7");  // 110.7 is not the start of 10.77.1.2
    CHECK(s.apply("xxxx10.7") == "xxxx10.7");
    CHECK(s.apply_cut("width: 1") == "width: 1");  // too short to be a piece of the address
    CHECK(s.apply_cut("class=10") == "class=10");

    Record r;
    HttpObservation h;
    h.body_excerpt = "<body>xxxx10.77.";
    h.body_length = 4000;  // the excerpt is the body's first bytes only
    h.title = std::string(http::kMaxTitleBytes - 4, 'y') + "10.7";
    h.headers = {{"Set-Cookie", std::string(http::kMaxHeaderValue - 3, 'z') + "2-1"}, {"X-Short", "1"}};
    r.observations.http.push_back(h);
    s.apply(r);
    const auto& out = r.observations.http[0];
    CHECK(out.body_excerpt == "<body>xxxx[scrubbed]");
    CHECK(out.title == std::string(http::kMaxTitleBytes - 4, 'y') + "[scrubbed]");
    CHECK(out.headers[0].second == std::string(http::kMaxHeaderValue - 3, 'z') + "[scrubbed]");
    CHECK(out.headers[1].second == "1");  // not cut: a lone "1" is just a 1
}

TEST_CASE("a resolver answering with the probe's own address does not put it in the record") {
    Scrubber s;
    s.add("10.77.1.2");
    Record r;
    DnsObservation d;
    d.answers = {{"A", "10.77.1.2", 60}, {"CNAME", "ip-10-77-1-2.example", 60}};
    d.responses = {DnsResponse{1.0, 0, 64, d.answers}};
    r.observations.dns.push_back(d);
    TcpObservation t;
    t.ip = "10.77.1.2";
    r.observations.tcp.push_back(t);
    TlsObservation tls;
    tls.ip = "10.77.1.2";
    tls.peer_certificates.push_back(CertificateInfo{"CN=10.77.1.2", "CN=ca", "", "", {"10.77.1.2"}, ""});
    r.control.observations.tls.push_back(tls);
    HttpObservation h;
    h.url = "https://10.77.1.2/";
    h.ip = "10.77.1.2";
    h.headers = {{"X-10.77.1.2", "yes"}};
    r.observations.http.push_back(h);
    PacketObservation p;
    p.src = "10.77.1.2:443";
    p.answers = {{"A", "10.77.1.2", 60}};
    r.observations.packets.push_back(p);
    s.apply(r);
    CHECK(r.observations.dns[0].answers[0].value == "[scrubbed]");
    CHECK(r.observations.dns[0].answers[1].value == "ip-[scrubbed].example");
    CHECK(r.observations.dns[0].responses[0].answers[0].value == "[scrubbed]");
    CHECK(r.observations.tcp[0].ip == "[scrubbed]");
    CHECK(r.control.observations.tls[0].ip == "[scrubbed]");
    CHECK(r.control.observations.tls[0].peer_certificates[0].subject == "CN=[scrubbed]");
    CHECK(r.control.observations.tls[0].peer_certificates[0].dns_names[0] == "[scrubbed]");
    CHECK(r.observations.http[0].url == "https://[scrubbed]/");
    CHECK(r.observations.http[0].ip == "[scrubbed]");
    CHECK(r.observations.http[0].headers[0].first == "X-[scrubbed]");
    CHECK(r.observations.packets[0].src == "[scrubbed]:443");
    CHECK(r.observations.packets[0].answers[0].value == "[scrubbed]");
}
