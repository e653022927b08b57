// TCP connect measurement: a non-blocking connect bounded by its own
// deadline, the outcome classified with failure::from_errno.
#pragma once

#include <cstdint>
#include <string>

#include "probe/net/failure_map.hpp"
#include "probe/net/net.hpp"

namespace meoktong::tcp {

TcpResult connect(const std::string& ip, uint16_t port, int timeout_ms, SteadyTime start);

// Waits until fd is ready for `events` (POLLIN/POLLOUT) or `deadline` passes;
// false on timeout. Shared by the TLS handshake loop.
bool wait_ready(int fd, short events, SteadyTime deadline);

}  // namespace meoktong::tcp
