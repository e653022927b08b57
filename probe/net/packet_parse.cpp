// Bounds-checked parsing of captured frames (link layer, IPv4/IPv6, TCP/UDP)
// up to the transport payload; DNS payloads are read by dns_message.hpp. See packet_parse.hpp.
#include "probe/net/packet_parse.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/dlt.h>

#include <cstring>

namespace meoktong {
namespace {

using Bytes = std::span<const uint8_t>;

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr int kMaxVlanTags = 2;
constexpr int kMaxIpv6ExtensionHeaders = 8;

uint16_t be16(Bytes b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

bool is_vlan_ethertype(uint16_t type) { return type == 0x8100 || type == 0x88a8 || type == 0x9100; }

// The network-layer bytes behind a link header, or an empty span when the
// frame carries something other than IPv4/IPv6.
Bytes ip_after_ethertype(uint16_t ethertype, Bytes rest) {
    if (ethertype == kEtherTypeIpv4 || ethertype == kEtherTypeIpv6) return rest;
    return {};
}

Bytes ip_of_ethernet(Bytes frame) {
    size_t at = 12;
    if (frame.size() < at + 2) return {};
    uint16_t type = be16(frame, at);
    for (int tag = 0; tag < kMaxVlanTags && is_vlan_ethertype(type); ++tag) {
        at += 4;
        if (frame.size() < at + 2) return {};
        type = be16(frame, at);
    }
    return ip_after_ethertype(type, frame.subspan(at + 2));
}

Bytes ip_of_linux_sll(Bytes frame) {
    constexpr size_t header = 16;
    if (frame.size() < header) return {};
    return ip_after_ethertype(be16(frame, 14), frame.subspan(header));
}

Bytes ip_of_linux_sll2(Bytes frame) {
    constexpr size_t header = 20;
    if (frame.size() < header) return {};
    return ip_after_ethertype(be16(frame, 0), frame.subspan(header));
}

// BSD loopback: a 4-byte address family (host or network order, values differ
// between systems); the IP version nibble tells the family reliably.
Bytes ip_of_bsd_loopback(Bytes frame) {
    if (frame.size() < 4) return {};
    return frame.subspan(4);
}

Bytes ip_of_frame(LinkType link, Bytes frame) {
    switch (link) {
        case LinkType::ethernet: return ip_of_ethernet(frame);
        case LinkType::linux_sll: return ip_of_linux_sll(frame);
        case LinkType::linux_sll2: return ip_of_linux_sll2(frame);
        case LinkType::raw_ip: return frame;
        case LinkType::bsd_null:
        case LinkType::bsd_loop: return ip_of_bsd_loopback(frame);
    }
    return {};
}

IpAddress address_from(Bytes b, size_t at, uint8_t family) {
    IpAddress ip;
    ip.family = family;
    std::memcpy(ip.bytes.data(), b.data() + at, family == 4 ? 4 : 16);
    return ip;
}

void read_tcp(Bytes segment, FrameFacts& facts) {
    if (segment.size() < 20) return;
    size_t header = static_cast<size_t>(segment[12] >> 4) * 4;
    if (header < 20 || header > segment.size()) return;
    facts.has_ports = true;
    facts.src_port = be16(segment, 0);
    facts.dst_port = be16(segment, 2);
    facts.tcp_flags = segment[13];
    facts.payload = segment.subspan(header);
}

void read_udp(Bytes datagram, FrameFacts& facts) {
    if (datagram.size() < 8) return;
    size_t length = be16(datagram, 4);
    if (length < 8) return;
    facts.has_ports = true;
    facts.src_port = be16(datagram, 0);
    facts.dst_port = be16(datagram, 2);
    facts.payload = datagram.subspan(8, std::min(length, datagram.size()) - 8);
}

void read_transport(Bytes upper, FrameFacts& facts) {
    if (facts.protocol == IPPROTO_TCP) read_tcp(upper, facts);
    if (facts.protocol == IPPROTO_UDP) read_udp(upper, facts);
}

std::optional<FrameFacts> parse_ipv4(Bytes packet) {
    if (packet.size() < 20) return std::nullopt;
    size_t header = static_cast<size_t>(packet[0] & 0x0f) * 4;
    size_t total = be16(packet, 2);
    if (header < 20 || header > packet.size()) return std::nullopt;
    if (total != 0 && total < header) return std::nullopt;  // 0: segmentation offload left it unset
    size_t end = total == 0 ? packet.size() : std::min(total, packet.size());
    FrameFacts facts;
    facts.ip_id = be16(packet, 4);
    facts.ip_ttl = packet[8];
    facts.protocol = packet[9];
    facts.src = address_from(packet, 12, 4);
    facts.dst = address_from(packet, 16, 4);
    bool later_fragment = (be16(packet, 6) & 0x1fff) != 0;
    if (!later_fragment) read_transport(packet.subspan(header, end - header), facts);
    return facts;
}

bool is_ipv6_extension(uint8_t next) { return next == 0 || next == 43 || next == 44 || next == 51 || next == 60; }

std::optional<FrameFacts> parse_ipv6(Bytes packet) {
    constexpr size_t header = 40;
    if (packet.size() < header) return std::nullopt;
    size_t payload_length = be16(packet, 4);
    size_t end = payload_length == 0 ? packet.size() : std::min(header + payload_length, packet.size());
    FrameFacts facts;
    facts.ip_ttl = packet[7];
    facts.src = address_from(packet, 8, 6);
    facts.dst = address_from(packet, 24, 6);
    uint8_t next = packet[6];
    Bytes rest = packet.subspan(header, end - header);
    bool later_fragment = false;
    for (int i = 0; i < kMaxIpv6ExtensionHeaders && is_ipv6_extension(next); ++i) {
        if (rest.size() < 8) return facts;  // upper layer unknown; addresses and hop limit stand
        size_t length = next == 44 ? 8 : next == 51 ? (static_cast<size_t>(rest[1]) + 2) * 4
                                                    : (static_cast<size_t>(rest[1]) + 1) * 8;
        if (next == 44) later_fragment = (be16(rest, 2) & 0xfff8) != 0;
        if (length > rest.size()) return facts;
        next = rest[0];
        rest = rest.subspan(length);
    }
    if (is_ipv6_extension(next)) return facts;
    facts.protocol = next;
    if (!later_fragment) read_transport(rest, facts);
    return facts;
}

std::string address_text(int af, const void* bytes) {
    char text[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(af, bytes, text, sizeof text)) return {};
    return text;
}

}  // namespace

std::optional<LinkType> link_type_from_dlt(int dlt) {
    switch (dlt) {
        case DLT_EN10MB: return LinkType::ethernet;
        case DLT_LINUX_SLL: return LinkType::linux_sll;
        case DLT_LINUX_SLL2: return LinkType::linux_sll2;
        case DLT_RAW:
        case DLT_IPV4:
        case DLT_IPV6: return LinkType::raw_ip;
        case DLT_NULL: return LinkType::bsd_null;
        case DLT_LOOP: return LinkType::bsd_loop;
        default: return std::nullopt;
    }
}

std::string IpAddress::to_string() const {
    if (family == 4) return address_text(AF_INET, bytes.data());
    if (family == 6) return address_text(AF_INET6, bytes.data());
    return {};
}

std::optional<IpAddress> IpAddress::parse(const std::string& text) {
    IpAddress ip;
    if (inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) {
        ip.family = 4;
        return ip;
    }
    if (inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
        ip.family = 6;
        return ip;
    }
    return std::nullopt;
}

std::string endpoint_string(const IpAddress& ip, uint16_t port) {
    std::string host = ip.to_string();
    if (ip.family == 6) host = "[" + host + "]";
    return host + ":" + std::to_string(port);
}

std::string tcp_flags_string(uint8_t flags) {
    static constexpr std::pair<uint8_t, char> kNames[] = {{tcp_flag::fin, 'F'}, {tcp_flag::syn, 'S'},
                                                          {tcp_flag::rst, 'R'}, {tcp_flag::psh, 'P'},
                                                          {tcp_flag::ack, 'A'}, {tcp_flag::urg, 'U'}};
    std::string out;
    for (auto [bit, name] : kNames) {
        if (flags & bit) out += name;
    }
    return out;
}

std::optional<FrameFacts> parse_frame(LinkType link, std::span<const uint8_t> frame) {
    Bytes packet = ip_of_frame(link, frame);
    if (packet.empty()) return std::nullopt;
    switch (packet[0] >> 4) {
        case 4: return parse_ipv4(packet);
        case 6: return parse_ipv6(packet);
        default: return std::nullopt;
    }
}

}  // namespace meoktong
