// IP literal + port -> sockaddr (socket_address.hpp).
#include "probe/net/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace meoktong {

std::optional<SocketAddress> socket_address(const std::string& ip, uint16_t port) {
    SocketAddress out;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out.length = sizeof(sockaddr_in);
        out.family = AF_INET;
        return out;
    }
    if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        out.length = sizeof(sockaddr_in6);
        out.family = AF_INET6;
        return out;
    }
    return std::nullopt;
}

}  // namespace meoktong
