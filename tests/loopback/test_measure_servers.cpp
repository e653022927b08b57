// measure_target over the real network on loopback: the neutral-SNI retry on
// a resetting server, and HTTPS GETs pinned to the measured address with
// title, headers, hash and the body bound.
#include <doctest/doctest.h>

#include "meoktong/failure.hpp"
#include "probe/net/measure.hpp"
#include "meoktong/target.hpp"
#include "test_servers.hpp"

using namespace meoktong;
using namespace meoktong::testing;

namespace {

MeasureSettings loopback_settings() {
    MeasureSettings s;
    s.timeout_ms = 1500;
    s.ca_file = TestPki::get().ca_file;
    return s;
}

Observations measure(const std::string& uri, const MeasureSettings& s = loopback_settings()) {
    return measure_target(parse_target_uri(uri), s, std::chrono::steady_clock::now());
}

}  // namespace

TEST_CASE("a reset with the target SNI is retried with the neutral SNI on a new connection") {
    TcpTestServer server(Behaviour::ResetAfterHello);
    auto o = measure("tls://127.0.0.1:" + std::to_string(server.port()));
    CHECK(o.dns.empty());
    REQUIRE(o.tls.size() == 2);
    CHECK(o.tls[0].purpose == "target");
    CHECK(o.tls[0].failure == failure::kConnectionReset);
    CHECK(o.tls[1].purpose == "neutral_sni");
    CHECK(o.tls[1].sni == "example.org");
    CHECK(o.tls[1].failure == failure::kConnectionReset);
    CHECK(o.tcp.size() == 2);
    CHECK(server.accepted() == 2);
}

TEST_CASE("an https target is fetched over the verified path: status, headers, title, hash") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good);
    auto o = measure("https://127.0.0.1:" + std::to_string(server.port()) + "/index.html");
    REQUIRE(o.tls.size() == 1);
    CHECK(o.tls[0].certificate_valid);
    REQUIRE(o.http.size() == 1);
    const auto& h = o.http[0];
    CHECK_FALSE(h.failure.has_value());
    CHECK(h.status == 200);
    CHECK(h.ip == "127.0.0.1");
    CHECK(h.url == "https://127.0.0.1:" + std::to_string(server.port()) + "/index.html");
    CHECK(h.title == "meoktong test page");
    CHECK(h.body_length == 95);
    CHECK_FALSE(h.body_truncated);
    CHECK(h.body_sha256.size() == 64);
    CHECK(h.body_excerpt.rfind("<html>", 0) == 0);
    bool has_test_header = false;
    for (const auto& [k, v] : h.headers) has_test_header |= (k == "X-Test" && v == "loopback");
    CHECK(has_test_header);
}

TEST_CASE("the body bound truncates without failing the request") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good);
    MeasureSettings s = loopback_settings();
    s.max_body_bytes = 10;
    auto o = measure("https://127.0.0.1:" + std::to_string(server.port()) + "/", s);
    REQUIRE(o.http.size() == 1);
    CHECK_FALSE(o.http[0].failure.has_value());
    CHECK(o.http[0].body_truncated);
    CHECK(o.http[0].body_length == 10);
    CHECK(o.http[0].body_excerpt == "<html><hea");
}

TEST_CASE("no HTTP request goes to an address whose certificate failed") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().self_signed);
    auto o = measure("https://127.0.0.1:" + std::to_string(server.port()) + "/");
    REQUIRE(o.tls.size() == 1);
    CHECK(o.tls[0].failure == failure::kSslUnknownAuthority);
    CHECK(o.http.empty());
}

TEST_CASE("an http target is fetched over TCP, with no TLS") {
    TcpTestServer server(Behaviour::HttpOk);
    auto o = measure("http://127.0.0.1:" + std::to_string(server.port()) + "/");
    CHECK(o.tls.empty());
    REQUIRE(o.http.size() == 1);
    CHECK_FALSE(o.http[0].failure.has_value());
    CHECK(o.http[0].status == 200);
    CHECK(o.http[0].title == "meoktong test page");
}

TEST_CASE("an http request to a closed port fails as data") {
    auto o = measure("http://127.0.0.1:" + std::to_string(closed_port()) + "/");
    REQUIRE(o.tcp.size() == 1);
    CHECK(o.tcp[0].failure == failure::kConnectionRefused);
    CHECK(o.http.empty());
}

TEST_CASE("a download_url gives a throughput figure") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good);
    std::string base = "https://127.0.0.1:" + std::to_string(server.port());
    Target t = parse_target_uri(base + "/");
    t.download_url = base + "/big";
    auto o = measure_target(t, loopback_settings(), std::chrono::steady_clock::now());
    REQUIRE(o.http.size() == 2);
    const auto& d = o.http[1];
    CHECK(d.url == t.download_url);
    CHECK_FALSE(d.failure.has_value());
    CHECK(d.body_length == 256 * 1024);
    CHECK(d.throughput_kbps > 0);
    CHECK(o.http[0].throughput_kbps < 0);  // the page itself is not a throughput measurement
}

TEST_CASE("a download that stops dead records what arrived, its rate and how long it had been silent") {
    TcpTestServer server(Behaviour::HttpStall);
    std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    Target t = parse_target_uri(base + "/");
    t.download_url = base + "/big";
    auto o = measure_target(t, loopback_settings(), std::chrono::steady_clock::now());
    REQUIRE(o.http.size() == 2);
    const auto& d = o.http[1];
    CHECK(d.failure == failure::kTimeout);
    CHECK(d.body_length > 0);
    CHECK(d.body_length < 16 * 1024);  // the headers took some of the 16 KiB
    CHECK(d.throughput_kbps >= 0);
    CHECK(d.stall_ms > 0);
    CHECK(d.stall_ms <= d.t_ms - d.t0_ms);
    CHECK(o.http[0].stall_ms < 0);  // the page came whole: no stall measured
}

TEST_CASE("a host name goes DNS -> TCP -> TLS with SNI -> HTTPS pinned to the resolved address") {
    DnsTestServer dns;
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good);
    MeasureSettings s = loopback_settings();
    s.query_system_resolver = false;
    s.resolvers = {dns.address()};
    auto o = measure("https://good.test:" + std::to_string(server.port()) + "/", s);
    REQUIRE(o.dns.size() == 2);
    CHECK(o.dns[0].resolver == dns.address());
    CHECK(o.dns[0].answers.at(0).value == "127.0.0.1");
    CHECK(o.dns[1].failure == failure::kDnsNoAnswer);
    REQUIRE(o.tcp.size() == 1);
    CHECK(o.tcp[0].ip == "127.0.0.1");
    REQUIRE(o.tls.size() == 1);
    CHECK(o.tls[0].sni == "good.test");
    CHECK(o.tls[0].certificate_valid);
    REQUIRE(o.http.size() == 1);  // good.test resolves nowhere else: only the pin can have reached it
    CHECK_FALSE(o.http[0].failure.has_value());
    CHECK(o.http[0].status == 200);
}

TEST_CASE("an injected DNS answer's address is measured alongside the real one") {
    DnsTestServer dns;
    MeasureSettings s = loopback_settings();
    s.query_system_resolver = false;
    s.resolvers = {dns.address()};
    s.allow_private = false;  // so nothing is connected to: 10.10.34.35 is private, 192.0.2.7 documentation
    auto o = measure("tcp://inject.test:443", s);
    REQUIRE(o.tcp.size() == 2);
    CHECK(o.tcp[0].ip == "10.10.34.35");
    CHECK(o.tcp[1].ip == "192.0.2.7");
    CHECK(o.tcp[0].failure == failure::kTargetNotAllowed);
    CHECK(o.tcp[1].failure == failure::kTargetNotAllowed);
}

TEST_CASE("a control-style measurement refuses loopback targets") {
    TcpTestServer server(Behaviour::TlsOk, TestPki::get().good);
    MeasureSettings s = loopback_settings();
    s.allow_private = false;
    auto o = measure("tls://127.0.0.1:" + std::to_string(server.port()), s);
    REQUIRE(o.tcp.size() == 1);
    CHECK(o.tcp[0].failure == failure::kTargetNotAllowed);
    CHECK(server.accepted() == 0);
}
