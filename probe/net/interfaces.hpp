// The addresses of this host's own network interfaces: what the scrubber
// must never let into a report, and where GeoIP looks for a public address.
#pragma once

#include <string>
#include <vector>

namespace meoktong {

// The non-loopback addresses of this host's interfaces (getifaddrs).
std::vector<std::string> local_addresses();

}  // namespace meoktong
