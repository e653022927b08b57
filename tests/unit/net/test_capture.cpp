// Capture without a network: the kernel filter expression (compiled and run
// on the stored captures), attribution of replayed frames to measurements by
// their flows, limits, privacy, and a capture that cannot start.
#include <doctest/doctest.h>
#include <pcap/pcap.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "meoktong/record_json.hpp"
#include "probe/net/capture.hpp"

using namespace meoktong;

namespace {

std::string pcap_path(const std::string& name) { return std::string(MEOKTONG_TEST_DATA) + "/pcap/" + name; }

// Epoch milliseconds of the first frame of a stored capture.
double first_frame_ms(const std::string& name) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(pcap_path(name).c_str(), err);
    REQUIRE(p);
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    REQUIRE(pcap_next_ex(p, &h, &data) == 1);
    double ms = h->ts.tv_sec * 1000.0 + h->ts.tv_usec / 1000.0;
    pcap_close(p);
    return ms;
}

void replay(const std::string& name, FlowCollector& c) {
    std::string error;
    long frames = replay_pcap_file(pcap_path(name), c, error);
    REQUIRE_MESSAGE(frames > 0, error);
}

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

// Which frames of a stored capture the kernel filter lets through, as "src>dst flags".
std::vector<std::string> filtered(const std::string& name) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(pcap_path(name).c_str(), err);
    REQUIRE(p);
    bpf_program program{};
    REQUIRE(pcap_compile(p, &program, capture_filter_expression({53}).c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0);
    auto link = link_type_from_dlt(pcap_datalink(p));
    REQUIRE(link);
    std::vector<std::string> out;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(p, &h, &data) == 1) {
        if (!pcap_offline_filter(&program, h, data)) continue;
        auto f = parse_frame(*link, std::span<const uint8_t>(data, h->caplen));
        REQUIRE(f);
        out.push_back(f->src.to_string() + ">" + f->dst.to_string() + " " +
                      (f->protocol == 17 ? "udp" : tcp_flags_string(f->tcp_flags)));
    }
    pcap_freecode(&program);
    pcap_close(p);
    return out;
}

}  // namespace

TEST_CASE("the kernel filter passes SYN/FIN/RST and DNS answers, not data") {
    auto v4 = filtered("tls_rst_injected_v4.pcap");
    CHECK(v4 == std::vector<std::string>{"192.0.2.10>203.0.113.5 S", "203.0.113.5>192.0.2.10 SA",
                                         "203.0.113.5>192.0.2.10 R"});
    auto v6 = filtered("tls_rst_injected_v6.pcap");
    CHECK(v6 == std::vector<std::string>{"2001:db8:1::10>2001:db8:2::5 S", "2001:db8:2::5>2001:db8:1::10 SA",
                                         "2001:db8:2::5>2001:db8:1::10 R"});
    for (const auto& line : filtered("tls_connect_v4_sll.pcap")) {
        CAPTURE(line);
        CHECK(line.find_first_of("SFR", line.find(' ')) != std::string::npos);
    }
    // The query (to port 53) stays out; both answers (from port 53) pass.
    CHECK(filtered("dns_injected_v4.pcap") ==
          std::vector<std::string>{"198.51.100.53>192.0.2.10 udp", "198.51.100.53>192.0.2.10 udp"});
    CHECK(capture_filter_expression({53, 5353}).find("src port 5353") != std::string::npos);
}

TEST_CASE("a measurement gets the SYN-ACK and the injected RST of its own connection") {
    FlowCollector c;
    double start = first_frame_ms("tls_rst_injected_v4.pcap");
    auto mine = c.begin(start);
    auto other_port = c.begin(start);
    auto other_server = c.begin(start);
    auto any_port = c.begin(start);
    c.watch_tcp(mine, ip("203.0.113.5"), 443, 47880);
    c.watch_tcp(other_port, ip("203.0.113.5"), 443, 47881);
    c.watch_tcp(other_server, ip("203.0.113.6"), 443, 47880);
    c.watch_tcp(any_port, ip("203.0.113.5"), 443);
    replay("tls_rst_injected_v4.pcap", c);

    auto packets = c.finish(mine);
    REQUIRE(packets.size() == 2);
    CHECK(packets[0].kind == "syn_ack");
    CHECK(packets[0].src == "203.0.113.5:443");
    CHECK(packets[0].ip_ttl == 52);
    CHECK(packets[0].ip_id == 0);
    CHECK(packets[0].tcp_flags == "SA");
    CHECK(packets[1].kind == "rst");
    CHECK(packets[1].ip_ttl == 47);
    CHECK(packets[1].tcp_flags == "R");
    CHECK(packets[0].t_ms >= 0);
    CHECK(packets[0].t_ms < packets[1].t_ms);
    CHECK(packets[1].t_ms < 1000);
    CHECK(packets[0].dns_id == -1);

    CHECK(c.finish(other_port).empty());
    CHECK(c.finish(other_server).empty());
    CHECK(c.finish(any_port).size() == 2);
    CHECK(c.finish(mine).empty());  // finished measurements are forgotten
}

TEST_CASE("a full TLS connection yields SYN-ACK and FIN, nothing from the probe itself") {
    FlowCollector c;
    auto m = c.begin(first_frame_ms("tls_connect_v4.pcap"));
    c.watch_tcp(m, ip("203.0.113.5"), 443, 47868);
    replay("tls_connect_v4.pcap", c);
    auto packets = c.finish(m);
    REQUIRE(packets.size() == 2);
    CHECK(packets[0].kind == "syn_ack");
    CHECK(packets[1].kind == "fin");
    CHECK(packets[1].ip_ttl == 52);
    json j = packets;
    CHECK(j.dump().find("192.0.2.10") == std::string::npos);  // the probe's own address never appears
}

TEST_CASE("IPv6: hop limit, no IP ID, bracketed source") {
    FlowCollector c;
    auto m = c.begin(first_frame_ms("tls_rst_injected_v6.pcap"));
    c.watch_tcp(m, ip("2001:db8:2::5"), 443, 53642);
    replay("tls_rst_injected_v6.pcap", c);
    auto packets = c.finish(m);
    REQUIRE(packets.size() == 2);
    CHECK(packets[0].src == "[2001:db8:2::5]:443");
    CHECK(packets[0].ip_ttl == 52);
    CHECK(packets[1].kind == "rst");
    CHECK(packets[1].ip_ttl == 47);
    CHECK(packets[1].ip_id == -1);
}

TEST_CASE("every DNS answer to the watched query is kept, with id, answers and IP TTL") {
    FlowCollector c;
    double start = first_frame_ms("dns_injected_v4.pcap");
    auto by_id = c.begin(start);
    auto any_id = c.begin(start);
    auto wrong_id = c.begin(start);
    auto narrowed_away = c.begin(start);
    c.watch_dns(by_id, ip("198.51.100.53"), 53, 0x2b2b);
    c.watch_dns(any_id, ip("198.51.100.53"), 53);
    c.watch_dns(wrong_id, ip("198.51.100.53"), 53, 0x1111);
    c.watch_dns(narrowed_away, ip("198.51.100.53"), 53);
    replay("dns_injected_v4.pcap", c);
    c.watch_dns(narrowed_away, ip("198.51.100.53"), 53, 0x1111);  // its id became known late

    auto packets = c.finish(by_id);
    REQUIRE(packets.size() == 2);
    CHECK(packets[0].kind == "dns_response");
    CHECK(packets[0].src == "198.51.100.53:53");
    CHECK(packets[0].dns_id == 0x2b2b);
    CHECK(packets[0].dns_rcode == 0);
    CHECK(packets[0].ip_ttl == 47);
    CHECK(packets[0].ip_id == 0xbeef);
    REQUIRE(packets[0].answers.size() == 1);
    CHECK(packets[0].answers[0].value == "10.10.34.35");
    CHECK(packets[0].detail == "rcode 0: A 10.10.34.35 ttl 60");
    CHECK(packets[1].ip_ttl == 52);
    CHECK(packets[1].detail == "rcode 0: A 203.0.113.66 ttl 300");
    CHECK(packets[1].t_ms - packets[0].t_ms > 20);  // the real resolver answered ~100 ms later

    CHECK(c.finish(any_id).size() == 2);
    CHECK(c.finish(wrong_id).empty());
    CHECK(c.finish(narrowed_away).empty());
}

TEST_CASE("DNS answers can be attributed by the question name when the id is unknown") {
    FlowCollector c;
    double start = first_frame_ms("dns_injected_v4.pcap");
    auto blocked = c.begin(start);
    auto other_name = c.begin(start);
    auto narrowed_to_other = c.begin(start);
    c.watch_dns(blocked, ip("198.51.100.53"), 53, -1, "Blocked.Example.");
    c.watch_dns(other_name, ip("198.51.100.53"), 53, -1, "chat.example");
    c.watch_dns(narrowed_to_other, ip("198.51.100.53"), 53);
    replay("dns_injected_v4.pcap", c);
    c.watch_dns(narrowed_to_other, ip("198.51.100.53"), 53, -1, "chat.example");
    CHECK(c.finish(blocked).size() == 2);
    CHECK(c.finish(other_name).empty());
    CHECK(c.finish(narrowed_to_other).empty());
}

TEST_CASE("the JSON of a DNS packet fact carries id, rcode and answers") {
    FlowCollector c;
    auto m = c.begin(first_frame_ms("dns_normal_v6.pcap"));
    c.watch_dns(m, ip("2001:db8:53::53"), 53, 0x6006);
    replay("dns_normal_v6.pcap", c);
    auto packets = c.finish(m);
    REQUIRE(packets.size() == 1);
    json j = packets[0];
    CHECK(j["kind"] == "dns_response");
    CHECK(j["dns_id"] == 0x6006);
    CHECK(j["answers"][0]["type"] == "AAAA");
    CHECK(j["answers"][0]["value"] == "2001:db8:2::5");
    CHECK(j["ip_id"] == -1);
    CHECK_FALSE(j.contains("tcp_flags"));
    auto back = j.get<PacketObservation>();
    CHECK(back.dns_id == 0x6006);
    CHECK(back.answers.size() == 1);
}

TEST_CASE("memory is bounded: per measurement and in open measurements") {
    FlowCollector c(1, 2);
    auto a = c.begin(0);
    auto b = c.begin(0);
    CHECK(a != 0);
    CHECK(b != 0);
    CHECK(c.begin(0) == 0);  // over the open-measurement bound: records nothing
    c.watch_tcp(a, ip("203.0.113.5"), 443);
    replay("tls_connect_v4.pcap", c);
    CHECK(c.finish(a).size() == 1);
    CHECK(c.packets_kept() == 1);
    CHECK(c.packets_over_limit() == 1);
    c.forget(b);
    CHECK(c.begin(0) != 0);
}

TEST_CASE("replaying a missing file reports why") {
    FlowCollector c;
    std::string error;
    CHECK(replay_pcap_file(pcap_path("no-such.pcap"), c, error) == -1);
    CHECK_FALSE(error.empty());
}

TEST_CASE("a capture that cannot start says why and measurements go on without packets") {
    PacketCapture capture({.interface = "mt-nosuch0"});
    CHECK_FALSE(capture.active());
    CHECK(capture.status().find("mt-nosuch0") != std::string::npos);
    CaptureMeasurement m = capture.begin(std::chrono::steady_clock::now());
    CHECK(m.watch_tcp("203.0.113.5", 443, 40000));
    CHECK_FALSE(m.watch_tcp("not-an-address", 443));
    CHECK(m.watch_dns("2001:db8:53::53"));
    CHECK(m.finish().empty());
    CHECK(capture.stats().frames == 0);
}
