// Frame parser on the stored lab captures (tests/data/pcap, made by
// scripts/make-test-pcaps) and on hand-made edge cases: link types, IPv4/IPv6,
// TTL / hop limit, IP ID, TCP flags, DNS header and answers, truncation.
#include <doctest/doctest.h>

#include <map>
#include <pcap/pcap.h>

#include <string>
#include <vector>

#include "probe/net/packet_parse.hpp"
#include "probe/net/dns_message.hpp"

using namespace meoktong;

namespace {

struct StoredCapture {
    int dlt = -1;
    std::vector<std::vector<uint8_t>> frames;
};

StoredCapture read_capture(const std::string& name) {
    std::string path = std::string(MEOKTONG_TEST_DATA) + "/pcap/" + name;
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    REQUIRE_MESSAGE(p != nullptr, err);
    StoredCapture c;
    c.dlt = pcap_datalink(p);
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(p, &h, &data) == 1) c.frames.emplace_back(data, data + h->caplen);
    pcap_close(p);
    return c;
}

// A stored capture read once and kept for the whole test run: FrameFacts
// payloads are views into its frames, so the frames must outlive them.
const StoredCapture& kept_capture(const std::string& name) {
    static std::map<std::string, StoredCapture> cache;
    auto it = cache.find(name);
    if (it == cache.end()) it = cache.emplace(name, read_capture(name)).first;
    return it->second;
}

std::vector<FrameFacts> parse_all(const StoredCapture& c) {
    auto link = link_type_from_dlt(c.dlt);
    REQUIRE(link);
    std::vector<FrameFacts> out;
    for (const auto& f : c.frames) {
        auto facts = parse_frame(*link, f);
        REQUIRE(facts);
        out.push_back(*facts);
    }
    return out;
}

std::vector<FrameFacts> from(const std::vector<FrameFacts>& all, const std::string& ip) {
    std::vector<FrameFacts> out;
    for (const auto& f : all)
        if (f.src.to_string() == ip) out.push_back(f);
    return out;
}

const FrameFacts* first_with_flags(const std::vector<FrameFacts>& all, uint8_t flags) {
    for (const auto& f : all)
        if (f.tcp_flags == flags) return &f;
    return nullptr;
}

// The facts that must not depend on the framing.
std::string fingerprint(const FrameFacts& f) {
    return f.src.to_string() + ">" + f.dst.to_string() + " ttl" + std::to_string(f.ip_ttl) + " id" +
           std::to_string(f.ip_id) + " p" + std::to_string(f.protocol) + " " + std::to_string(f.src_port) + ">" +
           std::to_string(f.dst_port) + " " + tcp_flags_string(f.tcp_flags) + " len" + std::to_string(f.payload.size());
}

std::vector<std::string> fingerprints(const std::vector<FrameFacts>& all) {
    std::vector<std::string> out;
    for (const auto& f : all) out.push_back(fingerprint(f));
    return out;
}

}  // namespace

TEST_CASE("TLS connect over IPv4: the server's SYN-ACK arrives with TTL 52") {
    auto c = read_capture("tls_connect_v4.pcap");
    CHECK(c.dlt == DLT_EN10MB);
    auto all = parse_all(c);
    auto server = from(all, "203.0.113.5");
    REQUIRE(server.size() >= 5);
    const FrameFacts* synack = first_with_flags(server, tcp_flag::syn | tcp_flag::ack);
    REQUIRE(synack);
    CHECK(synack->dst.to_string() == "192.0.2.10");
    CHECK(synack->ip_ttl == 52);
    CHECK(synack->ip_id == 0);  // Linux sends SYN-ACKs with DF and IP ID 0
    CHECK(synack->protocol == 6);
    CHECK(synack->src_port == 443);
    CHECK(synack->dst_port == 47868);
    for (const auto& f : server) CHECK(f.ip_ttl == 52);
    for (const auto& f : from(all, "192.0.2.10")) CHECK(f.ip_ttl == 64);
    // The server's records carry TLS bytes; the first one is a handshake record (0x16).
    bool saw_tls_record = false;
    for (const auto& f : server)
        if (!f.payload.empty() && f.payload[0] == 0x16) saw_tls_record = true;
    CHECK(saw_tls_record);
}

TEST_CASE("the same connection reads the same in every framing") {
    auto ethernet = fingerprints(parse_all(kept_capture("tls_connect_v4.pcap")));
    for (const char* name : {"tls_connect_v4_sll.pcap", "tls_connect_v4_sll2.pcap", "tls_connect_v4_raw.pcap"}) {
        CAPTURE(name);
        auto other = read_capture(name);
        CHECK(fingerprints(parse_all(other)) == ethernet);
    }
    CHECK(read_capture("tls_connect_v4_sll.pcap").dlt == DLT_LINUX_SLL);
    CHECK(read_capture("tls_connect_v4_sll2.pcap").dlt == DLT_LINUX_SLL2);
    CHECK(link_type_from_dlt(read_capture("tls_connect_v4_raw.pcap").dlt) == LinkType::raw_ip);
    auto v6 = fingerprints(parse_all(kept_capture("tls_connect_v6.pcap")));
    auto null = read_capture("tls_connect_v6_null.pcap");
    CHECK(null.dlt == DLT_NULL);
    CHECK(fingerprints(parse_all(null)) == v6);
}

TEST_CASE("TLS connect over IPv6: hop limit 52 and no IP ID") {
    auto all = parse_all(kept_capture("tls_connect_v6.pcap"));
    auto server = from(all, "2001:db8:2::5");
    const FrameFacts* synack = first_with_flags(server, tcp_flag::syn | tcp_flag::ack);
    REQUIRE(synack);
    CHECK(synack->src.family == 6);
    CHECK(synack->ip_ttl == 52);
    CHECK(synack->ip_id == -1);
    CHECK(synack->src_port == 443);
    CHECK(endpoint_string(synack->src, synack->src_port) == "[2001:db8:2::5]:443");
    const FrameFacts* fin = first_with_flags(server, tcp_flag::fin | tcp_flag::ack);
    REQUIRE(fin);
    CHECK(fin->ip_ttl == 52);
}

TEST_CASE("an injected RST carries the censor's TTL, not the server's") {
    auto all = parse_all(kept_capture("tls_rst_injected_v4.pcap"));
    auto remote = from(all, "203.0.113.5");
    const FrameFacts* synack = first_with_flags(remote, tcp_flag::syn | tcp_flag::ack);
    const FrameFacts* rst = first_with_flags(remote, tcp_flag::rst);
    REQUIRE(synack);
    REQUIRE(rst);
    CHECK(synack->ip_ttl == 52);
    CHECK(rst->ip_ttl == 47);
    CHECK(rst->src_port == 443);
    CHECK(rst->dst_port == synack->dst_port);
    CHECK(tcp_flags_string(rst->tcp_flags) == "R");

    auto v6 = from(parse_all(kept_capture("tls_rst_injected_v6.pcap")), "2001:db8:2::5");
    const FrameFacts* rst6 = first_with_flags(v6, tcp_flag::rst);
    const FrameFacts* synack6 = first_with_flags(v6, tcp_flag::syn | tcp_flag::ack);
    REQUIRE(rst6);
    REQUIRE(synack6);
    CHECK(rst6->ip_ttl == 47);
    CHECK(synack6->ip_ttl == 52);
    CHECK(rst6->ip_id == -1);
}

TEST_CASE("a normal DNS answer: header, A record through c-ares, IP TTL") {
    auto all = parse_all(kept_capture("dns_normal_v4.pcap"));
    auto answers = from(all, "198.51.100.53");
    REQUIRE(answers.size() == 1);
    const auto& r = answers[0];
    CHECK(r.protocol == 17);
    CHECK(r.src_port == 53);
    CHECK(r.ip_ttl == 52);
    auto header = parse_dns_header(r.payload);
    REQUIRE(header);
    CHECK(header->id == 0x1a2b);
    CHECK(header->is_response);
    CHECK(header->rcode == 0);
    auto records = dns_address_answers(r.payload);
    REQUIRE(records.size() == 1);
    CHECK(records[0].type == "A");
    CHECK(records[0].value == "203.0.113.5");
    CHECK(records[0].ttl == 300);
    CHECK(dns_answers_summary(header->rcode, records) == "rcode 0: A 203.0.113.5 ttl 300");

    CHECK(dns_question_name(r.payload) == "chat.example");

    auto query = from(all, "192.0.2.10");
    REQUIRE(query.size() == 1);
    auto qheader = parse_dns_header(query[0].payload);
    REQUIRE(qheader);
    CHECK_FALSE(qheader->is_response);
    CHECK(dns_address_answers(query[0].payload).empty());
}

TEST_CASE("a normal DNS answer over IPv6: AAAA record") {
    auto answers = from(parse_all(kept_capture("dns_normal_v6.pcap")), "2001:db8:53::53");
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].ip_ttl == 52);
    CHECK(answers[0].ip_id == -1);
    auto header = parse_dns_header(answers[0].payload);
    REQUIRE(header);
    CHECK(header->id == 0x6006);
    auto records = dns_address_answers(answers[0].payload);
    REQUIRE(records.size() == 1);
    CHECK(records[0].type == "AAAA");
    CHECK(records[0].value == "2001:db8:2::5");
}

TEST_CASE("two answers to one DNS query: forged first (TTL 47), real later (TTL 52)") {
    auto answers = from(parse_all(kept_capture("dns_injected_v4.pcap")), "198.51.100.53");
    REQUIRE(answers.size() == 2);
    auto forged = parse_dns_header(answers[0].payload);
    auto real = parse_dns_header(answers[1].payload);
    REQUIRE(forged);
    REQUIRE(real);
    CHECK(forged->id == 0x2b2b);
    CHECK(dns_question_name(answers[0].payload) == "blocked.example");
    CHECK(real->id == 0x2b2b);
    CHECK(answers[0].ip_ttl == 47);
    CHECK(answers[0].ip_id == 0xbeef);
    CHECK(answers[1].ip_ttl == 52);
    auto forged_records = dns_address_answers(answers[0].payload);
    auto real_records = dns_address_answers(answers[1].payload);
    REQUIRE(forged_records.size() == 1);
    REQUIRE(real_records.size() == 1);
    CHECK(forged_records[0].value == "10.10.34.35");
    CHECK(forged_records[0].ttl == 60);
    CHECK(real_records[0].value == "203.0.113.66");
    CHECK(real_records[0].ttl == 300);
}

TEST_CASE("every truncation of a real frame parses safely") {
    auto c = read_capture("dns_injected_v4.pcap");
    const auto& frame = c.frames.at(1);
    for (size_t n = 0; n <= frame.size(); ++n) {
        std::span<const uint8_t> prefix(frame.data(), n);
        auto facts = parse_frame(LinkType::ethernet, prefix);
        CHECK(facts.has_value() == (n >= 14 + 20));
        if (facts && facts->has_ports) {
            CHECK(n >= 14 + 20 + 8);
            CHECK(facts->payload.size() <= n - (14 + 20 + 8));
            (void)dns_address_answers(facts->payload);
        }
    }
}

namespace {

// A minimal IPv4/UDP packet from 198.51.100.53:53 to 192.0.2.10:4000 with `payload`.
std::vector<uint8_t> ipv4_udp(std::vector<uint8_t> payload, uint16_t fragment_field = 0) {
    uint16_t total = static_cast<uint16_t>(20 + 8 + payload.size());
    std::vector<uint8_t> p = {0x45, 0, uint8_t(total >> 8), uint8_t(total), 0x12, 0x34,
                              uint8_t(fragment_field >> 8), uint8_t(fragment_field), 61, 17, 0, 0,
                              198, 51, 100, 53, 192, 0, 2, 10,
                              0, 53, 0x0f, 0xa0, uint8_t((8 + payload.size()) >> 8), uint8_t(8 + payload.size()), 0, 0};
    for (uint8_t b : payload) p.push_back(b);
    return p;
}

std::vector<uint8_t> ethernet(uint16_t ethertype, const std::vector<uint8_t>& body, bool vlan = false) {
    std::vector<uint8_t> f;
    for (int i = 0; i < 12; ++i) f.push_back(0x02);
    if (vlan)
        for (uint8_t b : {0x81, 0x00, 0x00, 0x07}) f.push_back(b);
    f.push_back(uint8_t(ethertype >> 8));
    f.push_back(uint8_t(ethertype));
    for (uint8_t b : body) f.push_back(b);
    return f;
}

}  // namespace

TEST_CASE("hand-made frames: VLAN, non-IP, fragments, bad header lengths") {
    auto udp = ipv4_udp({1, 2, 3});
    auto plain = parse_frame(LinkType::ethernet, ethernet(0x0800, udp));
    REQUIRE(plain);
    CHECK(plain->ip_ttl == 61);
    CHECK(plain->ip_id == 0x1234);
    CHECK(plain->payload.size() == 3);
    auto tagged = parse_frame(LinkType::ethernet, ethernet(0x0800, udp, true));
    REQUIRE(tagged);
    CHECK(fingerprint(*tagged) == fingerprint(*plain));

    CHECK_FALSE(parse_frame(LinkType::ethernet, ethernet(0x0806, udp)));  // ARP
    CHECK_FALSE(parse_frame(LinkType::raw_ip, std::vector<uint8_t>{0x55, 0, 0}));

    auto later_fragment = parse_frame(LinkType::raw_ip, ipv4_udp({1, 2, 3}, 0x0010));
    REQUIRE(later_fragment);
    CHECK_FALSE(later_fragment->has_ports);
    CHECK(later_fragment->ip_ttl == 61);

    auto short_ihl = udp;
    short_ihl[0] = 0x44;
    CHECK_FALSE(parse_frame(LinkType::raw_ip, short_ihl));
    auto long_ihl = udp;
    long_ihl[0] = 0x4f;  // 60-byte header claimed in a 31-byte packet
    CHECK_FALSE(parse_frame(LinkType::raw_ip, long_ihl));

    auto bad_udp_length = udp;
    bad_udp_length[24] = 0;
    bad_udp_length[25] = 4;
    auto b = parse_frame(LinkType::raw_ip, bad_udp_length);
    REQUIRE(b);
    CHECK_FALSE(b->has_ports);

    auto overlong_udp_length = udp;
    overlong_udp_length[25] = 200;  // claims more than was captured: payload stops at the capture
    auto o = parse_frame(LinkType::raw_ip, overlong_udp_length);
    REQUIRE(o);
    CHECK(o->payload.size() == 3);
}

TEST_CASE("IPv6 extension headers are walked to the TCP header") {
    std::vector<uint8_t> p = {0x60, 0, 0, 0, 0, 8 + 20, 0 /* hop-by-hop */, 50};
    for (int i = 0; i < 15; ++i) p.push_back(0x20);
    p.push_back(0x01);  // src 2020::...:1
    for (int i = 0; i < 15; ++i) p.push_back(0x20);
    p.push_back(0x02);
    std::vector<uint8_t> hop_by_hop = {6 /* TCP */, 0, 1, 4, 0, 0, 0, 0};
    std::vector<uint8_t> tcp = {0x01, 0xbb, 0x9c, 0x40, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x14, 0, 0, 0, 0, 0, 0};
    for (uint8_t b : hop_by_hop) p.push_back(b);
    for (uint8_t b : tcp) p.push_back(b);
    auto f = parse_frame(LinkType::raw_ip, p);
    REQUIRE(f);
    CHECK(f->ip_ttl == 50);
    CHECK(f->protocol == 6);
    REQUIRE(f->has_ports);
    CHECK(f->src_port == 443);
    CHECK(f->dst_port == 40000);
    CHECK(tcp_flags_string(f->tcp_flags) == "RA");

    p[40] = 44;  // the extension now says a fragment header follows, which does not fit
    auto cut = parse_frame(LinkType::raw_ip, std::span<const uint8_t>(p.data(), 40 + 8 + 4));
    REQUIRE(cut);
    CHECK_FALSE(cut->has_ports);
    CHECK(cut->ip_ttl == 50);
}

TEST_CASE("link type mapping, addresses and DNS helpers on junk") {
    CHECK(link_type_from_dlt(DLT_EN10MB) == LinkType::ethernet);
    CHECK(link_type_from_dlt(DLT_LINUX_SLL2) == LinkType::linux_sll2);
    CHECK(link_type_from_dlt(DLT_LOOP) == LinkType::bsd_loop);
    CHECK_FALSE(link_type_from_dlt(DLT_IEEE802_11_RADIO));

    CHECK(IpAddress::parse("2001:db8::1")->to_string() == "2001:db8::1");
    CHECK(IpAddress::parse("192.0.2.1")->family == 4);
    CHECK_FALSE(IpAddress::parse("192.0.2"));
    CHECK(endpoint_string(*IpAddress::parse("192.0.2.1"), 53) == "192.0.2.1:53");

    CHECK_FALSE(parse_dns_header(std::vector<uint8_t>(11, 0)));
    std::vector<uint8_t> junk(40, 0xff);
    CHECK(dns_address_answers(junk).empty());
    CHECK_FALSE(dns_question_name(junk));
    std::vector<uint8_t> no_question = {0x12, 0x34, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1};
    CHECK_FALSE(dns_question_name(no_question));
    no_question[5] = 1;  // now it claims one question
    CHECK(dns_question_name(no_question) == "a");
    CHECK(dns_answers_summary(3, {}) == "rcode 3: no address");
    CHECK(tcp_flags_string(0) == "");
    CHECK(tcp_flags_string(tcp_flag::syn | tcp_flag::ack) == "SA");
}
