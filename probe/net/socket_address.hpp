// An IP literal and a port as the sockaddr the kernel takes: the one
// conversion the DNS and TCP code share.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace meoktong {

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = 0;  // AF_INET or AF_INET6
};

// nullopt when ip is not an IPv4 or IPv6 literal (without brackets).
std::optional<SocketAddress> socket_address(const std::string& ip, uint16_t port);

}  // namespace meoktong
