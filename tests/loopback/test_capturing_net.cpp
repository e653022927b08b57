// CapturingNet with a live capture on the loopback interface (needs
// CAP_NET_RAW; CI runs as root): each measurement gets the packets of its own
// flows, including the connection curl opens for an HTTP request, and none of
// anyone else's.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "probe/net/capture.hpp"
#include "probe/net/capturing_net.hpp"
#include "privileges.hpp"
#include "test_servers.hpp"

using namespace meoktong;
using namespace meoktong::testing;

namespace {

HttpRequest plain_get(uint16_t port) {
    HttpRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/";
    r.host = "127.0.0.1";
    r.ip = "127.0.0.1";
    r.port = port;
    r.timeout_ms = 3000;
    return r;
}

size_t count_from(const std::vector<PacketObservation>& packets, const std::string& kind, uint16_t port) {
    std::string src = "127.0.0.1:" + std::to_string(port);
    return static_cast<size_t>(std::count_if(packets.begin(), packets.end(),
                                             [&](const PacketObservation& p) { return p.kind == kind && p.src == src; }));
}

// A connection to the server that no measurement watches.
void connect_outside_any_measurement(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    close(fd);
}

}  // namespace

TEST_CASE("capture: an HTTP request's own connection is its measurement's, and only its") {
    PacketCapture capture(CaptureOptions{.interface = "lo"});
    if (!capture.active()) {
        cannot_run_here("no capture on lo (needs CAP_NET_RAW)");
        return;
    }
    TcpTestServer mine_server(Behaviour::HttpOk), their_server(Behaviour::HttpOk);
    auto start = std::chrono::steady_clock::now();
    CaptureMeasurement mine = capture.begin(start), theirs = capture.begin(start);
    SystemNet system;
    CapturingNet my_net(system, mine), their_net(system, theirs);

    HttpObservation my_answer = my_net.http_get(plain_get(mine_server.port()), start);
    HttpObservation their_answer = their_net.http_get(plain_get(their_server.port()), start);
    REQUIRE_FALSE(my_answer.failure.has_value());
    REQUIRE_FALSE(their_answer.failure.has_value());
    connect_outside_any_measurement(mine_server.port());  // same server, another local port

    auto my_packets = mine.finish();
    auto their_packets = theirs.finish();
    CHECK(count_from(my_packets, "syn_ack", mine_server.port()) == 1);
    CHECK(count_from(my_packets, "syn_ack", their_server.port()) == 0);
    CHECK(count_from(their_packets, "syn_ack", their_server.port()) == 1);
    CHECK(count_from(their_packets, "syn_ack", mine_server.port()) == 0);
}

TEST_CASE("capture: an HTTP request to a closed port records the refusing reset") {
    PacketCapture capture(CaptureOptions{.interface = "lo"});
    if (!capture.active()) {
        cannot_run_here("no capture on lo (needs CAP_NET_RAW)");
        return;
    }
    uint16_t port = closed_port();
    auto start = std::chrono::steady_clock::now();
    CaptureMeasurement m = capture.begin(start);
    SystemNet system;
    CapturingNet net(system, m);
    HttpObservation answer = net.http_get(plain_get(port), start);
    CHECK(answer.failure.has_value());
    auto packets = m.finish();
    CHECK(count_from(packets, "rst", port) == 1);
}
