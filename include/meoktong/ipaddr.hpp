// IP address facts shared by the verdict engine (bogon answers) and the
// control server (refusing private targets): parsing, CIDR membership and the
// special-purpose ranges (RFC 6890 and friends).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace meoktong {

struct Cidr {
    int family = 0;          // AF_INET or AF_INET6
    unsigned char addr[16]{};
    int prefix = 0;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (full-length prefix); nullopt if malformed.
std::optional<Cidr> parse_cidr(const std::string& text);
bool cidr_contains(const Cidr& net, const std::string& ip);

// Why an address is not a public unicast address ("private", "loopback",
// "link-local", "multicast", "reserved", "unspecified", "shared", "documentation"),
// or nullopt when it is public. Ranges in `routable` count as public. An IPv6
// address embedding an IPv4 address (NAT64 64:ff9b::/96, 6to4 2002::/16,
// IPv4-compatible ::/96) is as special as the IPv4 address it embeds.
std::optional<std::string> special_purpose(const std::string& ip, const std::vector<Cidr>& routable = {});

// The /24 (IPv4) or /48 (IPv6) network of an address, as text, e.g. "147.92.1.0/24".
std::string network_of(const std::string& ip);

}  // namespace meoktong
