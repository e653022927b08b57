// CIDR parsing and special-purpose address ranges (bogons). Pure functions.
#include "meoktong/ipaddr.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <utility>
#include <vector>

#include "meoktong/parse.hpp"

namespace meoktong {
namespace {

struct NamedRange {
    const char* cidr;
    const char* kind;
};

const NamedRange kSpecialRanges[] = {
    {"0.0.0.0/8", "unspecified"},     {"10.0.0.0/8", "private"},           {"100.64.0.0/10", "shared"},
    {"127.0.0.0/8", "loopback"},      {"169.254.0.0/16", "link-local"},    {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "reserved"},     {"192.0.2.0/24", "documentation"},   {"192.168.0.0/16", "private"},
    {"198.18.0.0/15", "reserved"},    {"198.51.100.0/24", "documentation"}, {"203.0.113.0/24", "documentation"},
    {"224.0.0.0/4", "multicast"},     {"240.0.0.0/4", "reserved"},         {"::/128", "unspecified"},
    {"::1/128", "loopback"},          {"::ffff:0:0/96", "reserved"},       {"64:ff9b:1::/48", "reserved"},
    {"100::/64", "reserved"},         {"2001:db8::/32", "documentation"},  {"fc00::/7", "private"},
    {"fe80::/10", "link-local"},      {"ff00::/8", "multicast"},
};

bool parse_ip(const std::string& ip, int& family, unsigned char* out) {
    if (inet_pton(AF_INET, ip.c_str(), out) == 1) {
        family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, ip.c_str(), out) == 1) {
        family = AF_INET6;
        return true;
    }
    return false;
}

// IPv6 forms that carry an IPv4 address inside them, which the host reaching
// such an address may end up talking to: NAT64's well-known prefix (RFC 6052,
// 64:ff9b::a.b.c.d), 6to4 (RFC 3056, 2002:AABB:CCDD::/48) and the deprecated
// IPv4-compatible form (::a.b.c.d). IPv4-mapped addresses (::ffff:a.b.c.d) are
// refused as a whole by the range table.
struct EmbeddingPrefix {
    unsigned char prefix[12];
    int prefix_bytes;
    int ipv4_offset;
};
const EmbeddingPrefix kIpv4Embeddings[] = {
    {{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 12, 12},  // 64:ff9b::/96
    {{0x20, 0x02}, 2, 2},                                        // 2002::/16
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12, 12},              // ::/96
};

// The IPv4 address an IPv6 address embeds (see kIpv4Embeddings), as text.
std::optional<std::string> embedded_ipv4(const unsigned char* v6) {
    for (const auto& e : kIpv4Embeddings) {
        if (std::memcmp(v6, e.prefix, e.prefix_bytes) != 0) continue;
        char text[INET_ADDRSTRLEN]{};
        inet_ntop(AF_INET, v6 + e.ipv4_offset, text, sizeof text);
        return std::string(text);
    }
    return std::nullopt;
}

bool prefix_equal(const unsigned char* a, const unsigned char* b, int prefix) {
    int full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(a, b, full) != 0) return false;
    if (rest == 0) return true;
    unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

std::optional<Cidr> parse_cidr(const std::string& text) {
    Cidr c;
    auto slash = text.find('/');
    std::string addr = text.substr(0, slash);
    if (!parse_ip(addr, c.family, c.addr)) return std::nullopt;
    int max = c.family == AF_INET ? 32 : 128;
    if (slash == std::string::npos) {
        c.prefix = max;
        return c;
    }
    auto prefix = parse_integer(std::string_view(text).substr(slash + 1), 0, max);
    if (!prefix) return std::nullopt;
    c.prefix = static_cast<int>(*prefix);
    return c;
}

bool cidr_contains(const Cidr& net, const std::string& ip) {
    int family = 0;
    unsigned char buf[16]{};
    if (!parse_ip(ip, family, buf) || family != net.family) return false;
    return prefix_equal(net.addr, buf, net.prefix);
}

std::optional<std::string> special_purpose(const std::string& ip, const std::vector<Cidr>& routable) {
    int family = 0;
    unsigned char buf[16]{};
    if (!parse_ip(ip, family, buf)) return std::string("invalid");
    for (const auto& r : routable)
        if (cidr_contains(r, ip)) return std::nullopt;
    // The table parsed once: special_purpose runs for every DNS answer of every record analyze reads.
    static const std::vector<std::pair<Cidr, const char*>> parsed = [] {
        std::vector<std::pair<Cidr, const char*>> out;
        for (const auto& range : kSpecialRanges)
            if (auto c = parse_cidr(range.cidr)) out.emplace_back(*c, range.kind);
        return out;
    }();
    for (const auto& range : parsed)
        if (range.first.family == family && prefix_equal(range.first.addr, buf, range.first.prefix))
            return std::string(range.second);
    if (family == AF_INET6)
        if (auto v4 = embedded_ipv4(buf)) return special_purpose(*v4, routable);
    return std::nullopt;
}

std::string network_of(const std::string& ip) {
    int family = 0;
    unsigned char buf[16]{};
    if (!parse_ip(ip, family, buf)) return ip;
    char text[INET6_ADDRSTRLEN]{};
    if (family == AF_INET) {
        buf[3] = 0;
        inet_ntop(AF_INET, buf, text, sizeof text);
        return std::string(text) + "/24";
    }
    std::memset(buf + 6, 0, 10);
    inet_ntop(AF_INET6, buf, text, sizeof text);
    return std::string(text) + "/48";
}

}  // namespace meoktong
