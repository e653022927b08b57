// split_ip_port, the resolver and peer addresses CapturingNet watches: the
// core HOST:PORT rule with the port required.
#include <doctest/doctest.h>

#include "probe/net/capturing_net.hpp"

using namespace meoktong;

TEST_CASE("split_ip_port needs a host and a port") {
    CHECK(split_ip_port("192.0.2.1:53") == std::make_pair(std::string("192.0.2.1"), uint16_t{53}));
    CHECK(split_ip_port("[2001:db8::1]:5353") == std::make_pair(std::string("2001:db8::1"), uint16_t{5353}));
    CHECK_FALSE(split_ip_port(":53"));  // the old copy returned an empty host
    CHECK_FALSE(split_ip_port("2001:db8::1:53"));
    CHECK_FALSE(split_ip_port("192.0.2.1"));
    CHECK_FALSE(split_ip_port("192.0.2.1:0"));
}
