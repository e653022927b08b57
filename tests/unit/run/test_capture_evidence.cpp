// Injection evidence from packet facts: end to end from the stored lab
// captures (replayed through the flow collector), and on hand-made facts for
// the cases the captures do not cover.
#include <doctest/doctest.h>
#include <pcap/pcap.h>

#include <string>
#include <vector>

#include "analysis/verdict/packet_evidence.hpp"
#include "probe/net/capture.hpp"

using namespace meoktong;

namespace {

// The packets a measurement watching `remote:port` (TCP) or resolver `remote:port` (DNS) gets from a capture.
std::vector<PacketObservation> measured(const std::string& name, const char* remote, uint16_t port, bool dns) {
    FlowCollector c;
    auto m = c.begin(0);
    if (dns)
        c.watch_dns(m, *IpAddress::parse(remote), port);
    else
        c.watch_tcp(m, *IpAddress::parse(remote), port);
    std::string error;
    REQUIRE(replay_pcap_file(std::string(MEOKTONG_TEST_DATA) + "/pcap/" + name, c, error) > 0);
    auto packets = c.finish(m);
    for (auto& p : packets) p.t_ms -= packets.front().t_ms;  // relative to the first packet, for stable text
    return packets;
}

PacketObservation tcp(const char* kind, const char* src, int ttl, int ip_id = 0) {
    PacketObservation p;
    p.kind = kind;
    p.src = src;
    p.ip_ttl = ttl;
    p.ip_id = ip_id;
    return p;
}

PacketObservation dns(double t, int id, int ttl, std::vector<std::string> addresses, int rcode = 0) {
    PacketObservation p;
    p.t_ms = t;
    p.kind = "dns_response";
    p.src = "198.51.100.53:53";
    p.ip_ttl = ttl;
    p.dns_id = id;
    p.dns_rcode = rcode;
    for (auto& a : addresses) p.answers.push_back({"A", a, 60});
    return p;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the lab's injected RST: TTL 47 against the server's SYN-ACK TTL 52") {
    auto evidence = packet_injection_evidence(measured("tls_rst_injected_v4.pcap", "203.0.113.5", 443, false));
    REQUIRE(evidence.size() == 1);
    const auto& e = evidence[0];
    CHECK(e.kind == "rst_ttl_mismatch");
    CHECK(e.src == "203.0.113.5:443");
    CHECK(e.strong);
    CHECK(e.ttl_difference == 5);
    CHECK(e.sentence ==
          "a TCP reset claiming to come from 203.0.113.5:443 arrived with IP TTL 47 while the server's SYN-ACK "
          "arrived with TTL 52: the reset was sent by a machine at a different distance than the server");

    auto v6 = packet_injection_evidence(measured("tls_rst_injected_v6.pcap", "2001:db8:2::5", 443, false));
    REQUIRE(v6.size() == 1);
    CHECK(v6[0].src == "[2001:db8:2::5]:443");
    CHECK_FALSE(contains(v6[0].sentence, "IP ID"));
}

TEST_CASE("the lab's DNS injection race: two different answers to one query") {
    auto evidence = packet_injection_evidence(measured("dns_injected_v4.pcap", "198.51.100.53", 53, true));
    REQUIRE(evidence.size() == 1);
    const auto& e = evidence[0];
    CHECK(e.kind == "dns_answers_differ");
    CHECK(e.strong);
    CHECK(e.dns_id == 0x2b2b);
    CHECK(e.first_answer == "A 10.10.34.35");
    CHECK(e.ttl_difference == 5);
    CHECK(contains(e.sentence, "2 different answers to one DNS query (id 0x2b2b) from 198.51.100.53:53: "
                               "A 10.10.34.35 first after 0 ms with IP TTL 47, then A 203.0.113.66 after "));
    CHECK(contains(e.sentence, "with IP TTL 52"));
}

TEST_CASE("normal exchanges are not evidence") {
    CHECK(packet_injection_evidence(measured("tls_connect_v4.pcap", "203.0.113.5", 443, false)).empty());
    CHECK(packet_injection_evidence(measured("tls_connect_v6.pcap", "2001:db8:2::5", 443, false)).empty());
    CHECK(packet_injection_evidence(measured("dns_normal_v4.pcap", "198.51.100.53", 53, true)).empty());
    CHECK(packet_injection_evidence({}).empty());
}

TEST_CASE("TCP: no baseline, one-hop differences, repeats, other addresses") {
    CHECK(packet_injection_evidence({tcp("rst", "203.0.113.5:443", 47)}).empty());  // no SYN-ACK to compare with
    CHECK(packet_injection_evidence({tcp("syn_ack", "203.0.113.9:443", 52), tcp("rst", "203.0.113.5:443", 47)}).empty());

    auto weak = packet_injection_evidence({tcp("syn_ack", "203.0.113.5:443", 63), tcp("rst", "203.0.113.5:443", 64)});
    REQUIRE(weak.size() == 1);
    CHECK_FALSE(weak[0].strong);
    CHECK(weak[0].ttl_difference == 1);

    auto repeated = packet_injection_evidence({tcp("syn_ack", "203.0.113.5:443", 52), tcp("rst", "203.0.113.5:443", 47),
                                               tcp("rst", "203.0.113.5:443", 47), tcp("fin", "203.0.113.5:443", 52)});
    CHECK(repeated.size() == 1);

    // The SYN-ACK of another port on the same address is a baseline too.
    auto other_port = packet_injection_evidence({tcp("syn_ack", "203.0.113.5:443", 52), tcp("fin", "203.0.113.5:80", 47)});
    REQUIRE(other_port.size() == 1);
    CHECK(other_port[0].kind == "fin_ttl_mismatch");
    CHECK(contains(other_port[0].sentence, "SYN-ACK from 203.0.113.5:443"));

    // Different IP IDs are quoted with the TTLs.
    auto ids = packet_injection_evidence({tcp("syn_ack", "203.0.113.5:443", 52, 0), tcp("rst", "203.0.113.5:443", 63, 26231)});
    REQUIRE(ids.size() == 1);
    CHECK(contains(ids[0].sentence, "TTL 52 (IP ID 26231 against 0)"));
}

TEST_CASE("TCP: initial TTLs from public addresses crossed no router") {
    auto rst = packet_injection_evidence({tcp("rst", "147.92.1.1:443", 64)});
    REQUIRE(rst.size() == 1);
    CHECK(rst[0].kind == "rst_unaged_ttl");
    CHECK(rst[0].strong);
    CHECK(contains(rst[0].sentence, "arrived with IP TTL 64, the value a sender starts with"));
    CHECK(packet_injection_evidence({tcp("rst", "147.92.1.1:443", 63)}).empty());  // aged: a router was crossed
    CHECK(packet_injection_evidence({tcp("fin", "147.92.1.1:443", 64)}).empty());  // only resets refuse or cut

    // A documentation or private address is local unless the run says it is routable.
    CHECK(packet_injection_evidence({tcp("rst", "203.0.113.5:443", 64)}).empty());
    auto routable = packet_injection_evidence({tcp("rst", "203.0.113.5:443", 64)}, {*parse_cidr("203.0.113.0/24")});
    REQUIRE(routable.size() == 1);
    CHECK(routable[0].kind == "rst_unaged_ttl");

    auto synack = packet_injection_evidence({tcp("syn_ack", "147.92.1.1:443", 64), tcp("rst", "147.92.1.1:443", 64)});
    REQUIRE(synack.size() == 1);  // the reset matches its SYN-ACK; the SYN-ACK itself is unaged
    CHECK(synack[0].kind == "synack_unaged_ttl");
    CHECK_FALSE(synack[0].strong);
    CHECK(contains(synack[0].sentence, "the SYN-ACK from 147.92.1.1:443 arrived with IP TTL 64"));
}

TEST_CASE("DNS: duplicates alike, TTL-only differences, NXDOMAIN races, resolver-wide TTLs") {
    CHECK(packet_injection_evidence({dns(3, 7, 52, {"203.0.113.66"}), dns(9, 7, 52, {"203.0.113.66"})}).empty());

    auto ttl_only = packet_injection_evidence({dns(3, 7, 47, {"203.0.113.66"}), dns(9, 7, 52, {"203.0.113.66"})});
    REQUIRE(ttl_only.size() == 1);
    CHECK(ttl_only[0].kind == "dns_ttl_mismatch");
    CHECK(ttl_only[0].strong);
    CHECK(contains(ttl_only[0].sentence, "IP TTLs 47 and 52"));

    // Answers in another order are the same answer.
    CHECK(packet_injection_evidence({dns(3, 7, 52, {"192.0.2.1", "192.0.2.2"}), dns(9, 7, 52, {"192.0.2.2", "192.0.2.1"})})
              .empty());

    auto nx = packet_injection_evidence({dns(48, 7, 52, {"203.0.113.66"}), dns(2, 7, 47, {}, 3)});
    REQUIRE(nx.size() == 1);
    CHECK(nx[0].first_answer == "NXDOMAIN");  // ordered by arrival, not by position in the list
    CHECK(contains(nx[0].sentence, "NXDOMAIN first after 2 ms with IP TTL 47, then A 203.0.113.66 after 48 ms"));

    auto across = packet_injection_evidence({dns(3, 7, 47, {"10.10.34.35"}), dns(50, 8, 52, {})});
    REQUIRE(across.size() == 1);
    CHECK(across[0].kind == "dns_resolver_ttl_mismatch");
    CHECK_FALSE(across[0].strong);
    CHECK(contains(across[0].sentence, "47 (id 0x0007: A 10.10.34.35), 52 (id 0x0008: no address)"));

    // Plain duplicates count once per query.
    auto duplicated = packet_injection_evidence({dns(3, 7, 47, {"10.10.34.35"}), dns(4, 7, 47, {"10.10.34.35"}),
                                                 dns(50, 8, 52, {}), dns(51, 8, 52, {})});
    REQUIRE(duplicated.size() == 1);
    CHECK(duplicated[0].kind == "dns_resolver_ttl_mismatch");
}
