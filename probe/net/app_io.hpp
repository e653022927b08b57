// The bytes of an app protocol's first exchange on the wire (net.hpp's
// AppExchange): over a connected TCP stream, or in UDP datagrams resent on a
// schedule. Transport failures are the failure vocabulary's; judging the
// reply is the protocol module's job (mtproto.hpp, stun.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "probe/net/net.hpp"

namespace meoktong::app_io {

AppReply stream_exchange(Connection& conn, const AppExchange& exchange, SteadyTime start);
AppReply datagram_exchange(const std::string& ip, uint16_t port, const AppExchange& exchange, SteadyTime start);

}  // namespace meoktong::app_io
