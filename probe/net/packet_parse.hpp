// Pure parsing of one captured frame into the facts packet evidence needs:
// addresses, IP TTL / hop limit, IP ID, ports, TCP flags and the transport
// payload (a DNS payload is read by dns_message.hpp). The bytes are written by
// whoever is on the path, so every read is bounds-checked; no allocation. No I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace meoktong {

// The link-layer framings the parser understands (pcap DLT values map onto them).
enum class LinkType { ethernet, linux_sll, linux_sll2, raw_ip, bsd_null, bsd_loop };

// The LinkType for a pcap datalink value (pcap_datalink()), nullopt if unsupported.
std::optional<LinkType> link_type_from_dlt(int dlt);

// An IPv4 or IPv6 address in network byte order; family 4 or 6 (0 = none).
struct IpAddress {
    uint8_t family = 0;
    std::array<uint8_t, 16> bytes{};

    bool operator==(const IpAddress&) const = default;
    std::string to_string() const;  // "192.0.2.1", "2001:db8::1"
    static std::optional<IpAddress> parse(const std::string& text);
};

// "IP:PORT" or "[IPv6]:PORT".
std::string endpoint_string(const IpAddress& ip, uint16_t port);

namespace tcp_flag {
inline constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20;
}

// "SA", "RA", "FA", "R"...: the set TCP flags, in the order F S R P A U.
std::string tcp_flags_string(uint8_t flags);

struct FrameFacts {
    IpAddress src;
    IpAddress dst;
    int ip_ttl = -1;        // IPv4 TTL or IPv6 hop limit
    int ip_id = -1;         // IPv4 identification; -1 for IPv6
    uint8_t protocol = 0;   // IPPROTO_TCP, IPPROTO_UDP, or another upper-layer number
    bool has_ports = false; // a TCP or UDP header was read (false for non-first fragments)
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    uint8_t tcp_flags = 0;
    std::span<const uint8_t> payload;  // transport payload as captured (may be shorter than sent)
};

// Parses one frame of the given framing; nullopt when it is not an IPv4/IPv6
// packet or its headers do not fit in the captured bytes.
std::optional<FrameFacts> parse_frame(LinkType link, std::span<const uint8_t> frame);

}  // namespace meoktong
