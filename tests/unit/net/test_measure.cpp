// The measurement logic of probe/net/measure.cpp through a fake Net: which
// resolvers and addresses are measured, the neutral-SNI retry, private
// addresses refused, HTTP only where TLS worked, the app protocols' exchanges
// (MTProto's transport differential, STUN's retransmissions, LOCO's GETCONF
// inside TLS, WhatsApp's Noise start against the pinned root, Signal's
// provisioning socket inside TLS against Signal's roots). No network.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "../../loopback/dns_packet_builder.hpp"
#include "meoktong/failure.hpp"
#include "meoktong/target.hpp"
#include "loco_test_server.hpp"
#include "mtproto_test_server.hpp"
#include "signal_test_server.hpp"
#include "whatsapp_test_server.hpp"
#include "probe/net/net.hpp"
#include "probe/net/whatsapp.hpp"

using namespace meoktong;

namespace {

// Answers from tables; records every call.
class FakeNet : public Net {
public:
    std::map<std::string, std::vector<std::string>> dns_answers;      // resolver label -> addresses
    std::map<std::string, std::vector<std::string>> dns_late_answers;  // resolver label -> late response addresses
    std::map<std::string, std::string> tcp_failure;                   // ip -> failure
    std::map<std::string, int> tcp_timeouts_before_success;           // ip -> connects that time out first
    std::map<std::string, std::string> tls_failure;                   // "ip|sni" -> failure
    std::map<std::string, int> tls_delay_ms;                          // "ip|sni" -> handshake duration
    std::vector<std::string> resolvers_asked;
    std::vector<std::string> connects;
    std::vector<TlsRequest> handshakes;
    std::vector<HttpRequest> gets;
    // App exchanges: the scripted server's answer to a request (default: none, a timeout).
    std::function<AppReply(const std::string& ip, std::span<const uint8_t> request)> app_server;
    std::vector<AppExchange> app_exchanges;
    // DNS over HTTPS: the scripted server's reply to a POST (default: none, a timeout).
    std::function<PostReply(const PostRequest&)> doh_server;
    std::vector<PostRequest> posts;

    std::vector<DnsObservation> dns_lookup(const std::string& host, const std::vector<ResolverSpec>& resolvers, int,
                                           int, SteadyTime) override {
        std::vector<DnsObservation> out;
        for (const auto& r : resolvers) {
            resolvers_asked.push_back(r.label + "=" + r.address);
            for (std::string type : {"A", "AAAA"}) {
                DnsObservation o;
                o.resolver = r.label;
                o.hostname = host;
                o.query_type = type;
                for (const auto& ip : dns_answers[r.label])
                    if ((ip.find(':') != std::string::npos) == (type == "AAAA")) o.answers.push_back({type, ip, 60});
                DnsResponse first{1, 0, 64, o.answers};
                o.responses.push_back(first);
                DnsResponse late{40, 0, 50, {}};
                for (const auto& ip : dns_late_answers[r.label])
                    if ((ip.find(':') != std::string::npos) == (type == "AAAA")) late.answers.push_back({type, ip, 60});
                if (!late.answers.empty()) o.responses.push_back(late);
                if (o.answers.empty()) o.failure = failure::kDnsNoAnswer;
                out.push_back(o);
            }
        }
        return out;
    }

    PostReply https_post(const PostRequest& request, SteadyTime) override {
        std::lock_guard lock(mutex_);
        posts.push_back(request);
        if (doh_server) return doh_server(request);
        PostReply timed_out;
        timed_out.failure = failure::kTimeout;
        return timed_out;
    }

    TcpResult tcp_connect(const std::string& ip, uint16_t port, int, SteadyTime) override {
        std::lock_guard lock(mutex_);
        connects.push_back(ip);
        TcpResult r;
        r.observation.ip = ip;
        r.observation.port = port;
        if (auto it = tcp_failure.find(ip); it != tcp_failure.end()) {
            r.observation.failure = it->second;
            return r;
        }
        if (auto it = tcp_timeouts_before_success.find(ip); it != tcp_timeouts_before_success.end() && it->second > 0) {
            --it->second;
            r.observation.failure = failure::kTimeout;
            return r;
        }
        r.connection = std::make_unique<Connection>();
        r.connection->ip = ip;
        r.connection->port = port;
        return r;
    }

    TlsObservation tls_handshake(Connection& conn, const TlsRequest& req, SteadyTime) override {
        if (auto it = tls_delay_ms.find(conn.ip + "|" + req.sni); it != tls_delay_ms.end())
            std::this_thread::sleep_for(std::chrono::milliseconds(it->second));
        std::lock_guard lock(mutex_);
        handshakes.push_back(req);
        TlsObservation o;
        o.ip = conn.ip;
        o.port = conn.port;
        o.sni = req.sni;
        o.purpose = req.purpose;
        if (auto it = tls_failure.find(conn.ip + "|" + req.sni); it != tls_failure.end())
            o.failure = it->second;
        else
            o.certificate_valid = true;
        return o;
    }

    HttpObservation http_get(const HttpRequest& req, SteadyTime) override {
        std::lock_guard lock(mutex_);
        gets.push_back(req);
        HttpObservation o;
        o.url = req.url;
        o.ip = req.ip;
        o.status = 200;
        if (req.measure_throughput) o.throughput_kbps = 1000;
        return o;
    }

    AppReply stream_exchange(Connection& conn, const AppExchange& ex, SteadyTime) override { return answer(conn.ip, ex); }
    AppReply datagram_exchange(const std::string& ip, uint16_t, const AppExchange& ex, SteadyTime) override {
        return answer(ip, ex);
    }
    // The fake handshake, then the app server inside a session whose certificate verified.
    TlsExchangeResult tls_exchange(Connection& conn, const TlsRequest& req, const AppExchange& ex,
                                   SteadyTime start) override {
        TlsExchangeResult r;
        r.tls = tls_handshake(conn, req, start);
        if (!r.tls.failure) r.reply = answer(conn.ip, ex);
        return r;
    }

private:
    AppReply answer(const std::string& ip, const AppExchange& ex) {
        std::lock_guard lock(mutex_);
        app_exchanges.push_back(ex);
        if (app_server) return app_server(ip, ex.request);
        AppReply r;
        r.failure = failure::kTimeout;
        return r;
    }
    std::mutex mutex_;
};

Observations run(FakeNet& net, const std::string& uri, MeasureSettings s = {}) {
    return measure_target_with(net, parse_target_uri(uri), s, std::chrono::steady_clock::now());
}

size_t count_purpose(const Observations& o, const std::string& purpose) {
    return static_cast<size_t>(std::count_if(o.tls.begin(), o.tls.end(),
                                             [&](const TlsObservation& t) { return t.purpose == purpose; }));
}

}  // namespace

TEST_CASE("an IP-literal host skips DNS and is handshaken without SNI, verified by IP") {
    FakeNet net;
    auto o = run(net, "tls://192.0.2.10:8443");
    CHECK(o.dns.empty());
    CHECK(net.resolvers_asked.empty());
    REQUIRE(o.tcp.size() == 1);
    CHECK(o.tcp[0].ip == "192.0.2.10");
    CHECK(o.tcp[0].port == 8443);
    REQUIRE(net.handshakes.size() == 1);
    CHECK(net.handshakes[0].sni == "");
    CHECK(net.handshakes[0].verify_names == std::vector<std::string>{"192.0.2.10"});
}

TEST_CASE("a dns target asks the system resolver and every --resolver for A and AAAA, and connects nowhere") {
    FakeNet net;
    MeasureSettings s;
    s.resolvers = {"192.0.2.53", "[2001:db8::53]:5353"};
    auto o = run(net, "dns://talk.kakao.com", s);
    CHECK(net.resolvers_asked ==
          std::vector<std::string>{"system=", "192.0.2.53=192.0.2.53:53", "[2001:db8::53]:5353=[2001:db8::53]:5353"});
    CHECK(o.dns.size() == 6);
    CHECK(o.tcp.empty());
    CHECK(o.tls.empty());
}

TEST_CASE("--doh resolvers are asked too: their answers are DNS observations and their addresses are measured") {
    FakeNet net;
    net.dns_answers["system"] = {};
    net.doh_server = [](const PostRequest& request) {
        PostReply reply;
        reply.status = 200;
        reply.server_address = "203.0.113.53:443";
        bool aaaa = request.body.size() > 2 && request.body[request.body.size() - 3] == 28;
        auto body = aaaa ? testing::build_response(0, "line.me", 28, 0, {})
                         : testing::build_response(0, "line.me", 1, 0, {{1, "147.92.1.9", 60}});
        reply.body.assign(body.begin(), body.end());
        return reply;
    };
    MeasureSettings s;
    s.doh = {"https://dns.example.net/dns-query"};
    auto obs = run(net, "tls://line.me", s);
    REQUIRE(obs.dns.size() == 4);
    CHECK(obs.dns[0].transport == "udp");
    CHECK(obs.dns[2].transport == "doh");
    CHECK(obs.dns[2].resolver == "dns.example.net");
    CHECK(obs.dns[2].answers.at(0).value == "147.92.1.9");
    CHECK(obs.dns[3].query_type == "AAAA");
    CHECK(obs.dns[3].failure == std::optional<std::string>(failure::kDnsNoAnswer));
    CHECK(net.posts.size() == 2);
    CHECK(net.posts[0].url == "https://dns.example.net/dns-query");
    CHECK(net.connects == std::vector<std::string>{"147.92.1.9"});
}

TEST_CASE("addresses are deduplicated across resolvers and capped per family") {
    FakeNet net;
    net.dns_answers["system"] = {"198.51.100.1", "198.51.100.2", "2001:db8::1"};
    net.dns_answers["192.0.2.53"] = {"198.51.100.2", "198.51.100.3", "2001:db8::1"};
    MeasureSettings s;
    s.resolvers = {"192.0.2.53"};
    s.max_addresses = 2;
    auto o = run(net, "tls://line.me", s);
    std::vector<std::string> ips;
    for (const auto& t : o.tcp) ips.push_back(t.ip);
    CHECK(ips == std::vector<std::string>{"198.51.100.1", "198.51.100.2", "2001:db8::1"});
    for (const auto& h : net.handshakes) CHECK(h.sni == "line.me");
}

TEST_CASE("addresses seen only in late DNS responses are measured too") {
    FakeNet net;
    net.dns_answers["system"] = {"198.51.100.9"};
    net.dns_late_answers["system"] = {"203.0.113.7"};
    auto o = run(net, "tcp://line.me:5222");
    REQUIRE(o.tcp.size() == 2);
    CHECK(o.tcp[0].ip == "198.51.100.9");
    CHECK(o.tcp[1].ip == "203.0.113.7");
    CHECK(o.tls.empty());
}

TEST_CASE("a reset with the target SNI triggers a neutral-SNI retry on a new connection") {
    FakeNet net;
    net.dns_answers["system"] = {"198.51.100.1"};
    net.tls_failure["198.51.100.1|line.me"] = failure::kConnectionReset;
    auto o = run(net, "tls://line.me");
    REQUIRE(o.tls.size() == 2);
    CHECK(o.tls[0].purpose == "target");
    CHECK(o.tls[0].failure == failure::kConnectionReset);
    CHECK(o.tls[1].purpose == "neutral_sni");
    CHECK(o.tls[1].sni == "example.org");
    CHECK_FALSE(o.tls[1].failure.has_value());
    CHECK(o.tcp.size() == 2);  // one connection per handshake
}

TEST_CASE("timeouts, EOF and failed handshakes also get the retry; certificate errors do not") {
    for (const char* f : {failure::kTimeout, failure::kEof, failure::kSslFailedHandshake}) {
        FakeNet net;
        net.tls_failure["192.0.2.1|"] = f;
        CHECK(count_purpose(run(net, "tls://192.0.2.1"), "neutral_sni") == 1);
    }
    for (const char* f : {failure::kSslInvalidHostname, failure::kSslUnknownAuthority}) {
        FakeNet net;
        net.tls_failure["192.0.2.1|"] = f;
        CHECK(count_purpose(run(net, "tls://192.0.2.1"), "neutral_sni") == 0);
    }
}

TEST_CASE("a target handshake still pending after a quarter of the timeout starts the neutral one alongside") {
    FakeNet net;
    net.tls_delay_ms["192.0.2.1|"] = 300;
    MeasureSettings s;
    s.timeout_ms = 100;  // hedge after 25 ms
    auto o = run(net, "tls://192.0.2.1", s);
    REQUIRE(o.tls.size() == 2);
    CHECK(o.tls[0].purpose == "target");
    CHECK_FALSE(o.tls[0].failure.has_value());
    CHECK(o.tls[1].purpose == "neutral_sni");
    CHECK(net.connects.size() == 2);
}

TEST_CASE("an empty neutral_sni disables the differential") {
    FakeNet net;
    net.tls_failure["192.0.2.1|"] = failure::kConnectionReset;
    MeasureSettings s;
    s.neutral_sni = "";
    CHECK(count_purpose(run(net, "tls://192.0.2.1", s), "neutral_sni") == 0);
}

TEST_CASE("a failed TCP connect gets no TLS handshake") {
    FakeNet net;
    net.tcp_failure["192.0.2.1"] = failure::kConnectionRefused;
    auto o = run(net, "https://192.0.2.1/");
    REQUIRE(o.tcp.size() == 1);
    CHECK(o.tcp[0].failure == failure::kConnectionRefused);
    CHECK(o.tls.empty());
    CHECK(o.http.empty());
}

TEST_CASE("without allow_private, private addresses are refused unless routable") {
    FakeNet net;
    net.dns_answers["system"] = {"10.1.2.3", "147.92.1.4"};
    MeasureSettings s;
    s.allow_private = false;
    auto o = run(net, "tls://line.me", s);
    REQUIRE(o.tcp.size() == 2);
    CHECK(o.tcp[0].failure == failure::kTargetNotAllowed);
    CHECK_FALSE(o.tcp[1].failure.has_value());
    CHECK(net.connects == std::vector<std::string>{"147.92.1.4"});

    FakeNet lab;
    lab.dns_answers["system"] = {"10.1.2.3"};
    s.routable = {*parse_cidr("10.0.0.0/8")};
    auto routed = run(lab, "tls://line.me", s);
    REQUIRE(routed.tcp.size() == 1);
    CHECK_FALSE(routed.tcp[0].failure.has_value());
}

TEST_CASE("https GETs only the addresses whose TLS succeeded, pinned to them") {
    FakeNet net;
    net.dns_answers["system"] = {"198.51.100.1", "198.51.100.2"};
    net.tls_failure["198.51.100.2|web.example"] = failure::kSslInvalidHostname;
    auto o = run(net, "https://web.example:8443/login");
    REQUIRE(net.gets.size() == 1);
    CHECK(net.gets[0].ip == "198.51.100.1");
    CHECK(net.gets[0].url == "https://web.example:8443/login");
    CHECK(net.gets[0].host == "web.example");
    CHECK(o.http.size() == 1);
}

TEST_CASE("http targets GET over TCP, with no TLS") {
    FakeNet net;
    auto o = run(net, "http://192.0.2.80/");
    CHECK(o.tls.empty());
    REQUIRE(net.gets.size() == 1);
    CHECK(net.gets[0].url == "http://192.0.2.80/");
}

TEST_CASE("a download_url is fetched once for throughput, pinned when on the target's host") {
    FakeNet net;
    net.dns_answers["system"] = {"198.51.100.1", "198.51.100.2"};
    Target t = parse_target_uri("tls://cdn.example");
    t.download_url = "https://cdn.example/big.bin";
    auto o = measure_target_with(net, t, {}, std::chrono::steady_clock::now());
    REQUIRE(net.gets.size() == 1);
    CHECK(net.gets[0].measure_throughput);
    CHECK(net.gets[0].ip == "198.51.100.1");
    REQUIRE(o.http.size() == 1);
    CHECK(o.http[0].throughput_kbps == 1000);
}

TEST_CASE("cert_names replace the host for verification") {
    FakeNet net;
    Target t = parse_target_uri("tls://192.0.2.5");
    t.cert_names = {"*.line.me", "line.me"};
    measure_target_with(net, t, {}, std::chrono::steady_clock::now());
    REQUIRE(net.handshakes.size() == 1);
    CHECK(net.handshakes[0].verify_names == t.cert_names);
}

namespace {

// A genuine Telegram server, except that a DPI resets plain-transport connections to `dpi_ip`.
AppReply telegram(const std::string& ip, std::span<const uint8_t> request, const std::string& dpi_ip) {
    AppReply r;
    auto req = testing::read_request(request);
    if (!req || (ip == dpi_ip && !req->obfuscated)) {
        r.failure = failure::kConnectionReset;
        return r;
    }
    r.bytes = testing::on_the_wire(*req, testing::respq_packet(req->nonce));
    return r;
}

}  // namespace

TEST_CASE("mtproto: a genuine plain exchange is one connection and one app observation") {
    FakeNet net;
    net.app_server = [](const std::string& ip, std::span<const uint8_t> req) { return telegram(ip, req, ""); };
    auto o = run(net, "mtproto://149.154.167.51:443");
    CHECK(o.tcp.size() == 1);
    REQUIRE(o.app.size() == 1);
    CHECK(o.app[0].protocol == "mtproto");
    CHECK(o.app[0].transport == "intermediate");
    CHECK(o.app[0].address == "149.154.167.51:443");
    CHECK(o.app[0].genuine == true);
    CHECK_FALSE(o.app[0].failure);
    CHECK(o.tls.empty());
}

TEST_CASE("mtproto: a reset plain exchange is retried obfuscated on a fresh connection") {
    FakeNet net;
    net.app_server = [](const std::string& ip, std::span<const uint8_t> req) { return telegram(ip, req, "149.154.167.51"); };
    auto o = run(net, "mtproto://149.154.167.51:443");
    CHECK(o.tcp.size() == 2);
    REQUIRE(o.app.size() == 2);
    CHECK(o.app[0].transport == "intermediate");
    CHECK(o.app[0].failure == failure::kConnectionReset);
    CHECK_FALSE(o.app[0].genuine.has_value());
    CHECK(o.app[1].transport == "obfuscated");
    CHECK(o.app[1].genuine == true);
}

TEST_CASE("mtproto: no app exchange where TCP failed; a middlebox's bytes are not genuine") {
    FakeNet net;
    net.tcp_failure["192.0.2.1"] = failure::kTimeout;
    auto o = run(net, "mtproto://192.0.2.1:443");
    CHECK(o.app.empty());
    CHECK(net.app_exchanges.empty());
    FakeNet proxy;
    proxy.app_server = [](const std::string&, std::span<const uint8_t>) {
        AppReply r;
        std::string page = "HTTP/1.1 403 Forbidden\r\n\r\n";
        r.bytes.assign(page.begin(), page.end());
        return r;
    };
    auto p = run(proxy, "mtproto://192.0.2.2:443");
    REQUIRE(p.app.size() == 2);
    for (const auto& a : p.app) {
        CHECK(a.genuine == false);
        CHECK(a.failure == failure::kAppUnexpectedReply);
    }
}

TEST_CASE("stun: a Binding Request over UDP with RFC 8489 retransmissions, no TCP") {
    FakeNet net;
    net.app_server = [](const std::string&, std::span<const uint8_t> req) {
        AppReply r;
        r.bytes.assign(req.begin(), req.end());
        r.bytes[1] = 0x01;
        r.bytes[0] = 0x01;  // Binding Success to the same transaction id
        return r;
    };
    MeasureSettings s;
    s.timeout_ms = 4000;
    auto o = run(net, "stun://192.0.2.3:3478", s);
    CHECK(o.tcp.empty());
    REQUIRE(net.app_exchanges.size() == 1);
    CHECK(net.app_exchanges[0].resend_after_ms == std::vector<int>{500, 1500, 3500});
    CHECK(net.app_exchanges[0].reply_complete(std::vector<uint8_t>{0x01, 0x01, 0, 0}) == false);
    REQUIRE(o.app.size() == 1);
    CHECK(o.app[0].transport == "udp");
    CHECK(o.app[0].genuine == true);
    FakeNet silent;
    auto q = run(silent, "stun://192.0.2.3:3478", s);
    REQUIRE(q.app.size() == 1);
    CHECK(q.app[0].failure == failure::kTimeout);
    CHECK_FALSE(q.app[0].genuine.has_value());
}

TEST_CASE("loco: GETCONF inside a verified TLS session; a genuine answer's check-in endpoints are recorded") {
    FakeNet net;
    net.dns_answers["system"] = {"192.0.2.5"};
    net.app_server = [](const std::string&, std::span<const uint8_t> request) {
        AppReply r;
        auto req = testing::read_loco_request(request);
        if (req && req->method == "GETCONF")
            r.bytes = testing::loco_packet(req->packet_id, "GETCONF", testing::getconf_answer({"ticket-loco.kakao.com"}, {995}));
        return r;
    };
    auto o = run(net, "loco://booking-loco.kakao.com:443");
    REQUIRE(o.tls.size() == 1);
    CHECK(o.tls[0].sni == "booking-loco.kakao.com");
    CHECK(net.handshakes[0].verify_names == std::vector<std::string>{"booking-loco.kakao.com"});
    REQUIRE(o.app.size() == 1);
    CHECK(o.app[0].protocol == "loco");
    CHECK(o.app[0].transport == "tls");
    CHECK(o.app[0].address == "192.0.2.5:443");
    CHECK(o.app[0].genuine == true);
    CHECK(o.app[0].discovered == std::vector<std::string>{"ticket-loco.kakao.com:995"});
}

TEST_CASE("loco: nothing is sent where the handshake failed") {
    FakeNet net;
    net.dns_answers["system"] = {"192.0.2.6"};
    net.tls_failure["192.0.2.6|booking-loco.kakao.com"] = failure::kSslUnknownAuthority;
    auto o = run(net, "loco://booking-loco.kakao.com:443");
    REQUIRE(o.tls.size() == 1);
    CHECK(o.tls[0].failure == failure::kSslUnknownAuthority);
    CHECK(o.app.empty());
    CHECK(net.app_exchanges.empty());
}

namespace {

// An --app-roots directory whose whatsapp-root-key.json names `root`.
std::string app_roots_with(const whatsapp::Key& root, const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / name;
    std::filesystem::create_directories(dir);
    std::string hex;
    for (uint8_t b : root) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
    std::ofstream(dir / "whatsapp-root-key.json") << "{\"root_public_key_hex\": \"" << hex << "\"}";
    return dir.string();
}

}  // namespace

TEST_CASE("whatsapp: the Noise start over TCP, judged against the root key of --app-roots") {
    testing::wa::Responder server;
    FakeNet net;
    net.app_server = [&](const std::string&, std::span<const uint8_t> request) {
        AppReply r;
        r.bytes = server.answer(request, {}).value_or(std::vector<uint8_t>{});
        return r;
    };
    MeasureSettings s;
    s.app_roots_dir = app_roots_with(server.root_public(), "meoktong-test-roots-genuine");
    auto o = run(net, "whatsapp://192.0.2.7:5222", s);
    CHECK(o.tcp.size() == 1);
    CHECK(o.tls.empty());
    REQUIRE(o.app.size() == 1);
    CHECK(o.app[0].protocol == "whatsapp");
    CHECK(o.app[0].transport == "noise");
    CHECK(o.app[0].genuine == true);
    CHECK_FALSE(o.app[0].failure);

    whatsapp::Key other = server.root_public();
    other[0] ^= 1;
    s.app_roots_dir = app_roots_with(other, "meoktong-test-roots-other");
    auto p = run(net, "whatsapp://192.0.2.7:5222", s);
    REQUIRE(p.app.size() == 1);
    CHECK(p.app[0].genuine == false);
    CHECK(p.app[0].failure == failure::kAppNotGenuine);

    s.app_roots_dir = (std::filesystem::temp_directory_path() / "meoktong-test-roots-none").string();
    auto q = run(net, "whatsapp://192.0.2.7:5222", s);
    REQUIRE(q.app.size() == 1);
    CHECK(q.app[0].failure.value_or("").rfind(failure::kUnknownPrefix, 0) == 0);
    CHECK_FALSE(q.app[0].genuine.has_value());
}

TEST_CASE("signal: the provisioning upgrade inside TLS verified against Signal's roots, never the system store") {
    FakeNet net;
    net.dns_answers["system"] = {"192.0.2.8"};
    net.app_server = [](const std::string&, std::span<const uint8_t> request) {
        AppReply r;
        r.bytes = testing::answer(request, testing::first_message());
        return r;
    };
    MeasureSettings s;
    s.ca_file = "/lab/ca.pem";  // --ca-file is for the other targets
    s.app_roots_dir = "/pinned";
    auto o = run(net, "signal://chat.signal.org", s);
    REQUIRE(net.handshakes.size() == 1);
    CHECK(net.handshakes[0].ca_file == "/pinned/signal-roots.pem");
    CHECK(net.handshakes[0].sni == "chat.signal.org");
    REQUIRE(o.app.size() == 1);
    CHECK(o.app[0].protocol == "signal");
    CHECK(o.app[0].address == "192.0.2.8:443");
    CHECK(o.app[0].genuine == true);
    CHECK_FALSE(o.app[0].failure);
    std::string sent(net.app_exchanges[0].request.begin(), net.app_exchanges[0].request.end());
    CHECK(sent.rfind("GET /v1/websocket/provisioning/ HTTP/1.1\r\n", 0) == 0);
    CHECK(sent.find("Host: chat.signal.org\r\n") != std::string::npos);
}

TEST_CASE("a connect that timed out is retried once; a reset or refusal is not, nor a second timeout") {
    FakeNet lossy;
    lossy.tcp_timeouts_before_success["192.0.2.20"] = 1;
    auto o = run(lossy, "tls://192.0.2.20:443");
    REQUIRE(o.tcp.size() == 2);
    CHECK(o.tcp[0].failure == failure::kTimeout);
    CHECK(o.tcp[0].attempt == 1);
    CHECK_FALSE(o.tcp[1].failure);
    CHECK(o.tcp[1].attempt == 2);
    CHECK(count_purpose(o, "target") == 1);  // the handshake ran on the retry's connection
    FakeNet blackhole;
    blackhole.tcp_failure["192.0.2.21"] = failure::kTimeout;
    CHECK(run(blackhole, "tcp://192.0.2.21:443").tcp.size() == 2);
    FakeNet reset;
    reset.tcp_failure["192.0.2.22"] = failure::kConnectionReset;
    CHECK(run(reset, "tcp://192.0.2.22:443").tcp.size() == 1);
    MeasureSettings off;
    off.retry_timed_out_connect = false;
    FakeNet once;
    once.tcp_failure["192.0.2.23"] = failure::kTimeout;
    CHECK(run(once, "tcp://192.0.2.23:443", off).tcp.size() == 1);
}
