// The real control server, in-process on 127.0.0.1: auth, limits, rate limit,
// health, private-target refusal (proved by a listener that sees no connect),
// the request deadline, the probe's client against it, and TLS with a test CA
// made by the openssl CLI.
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "probe/control/client.hpp"
#include "meoktong/failure.hpp"
#include "meoktong/log.hpp"
#include "meoktong/target.hpp"
#include "probe/control/protocol.hpp"
#include "probe/control/server.hpp"
#include "probe/run/runner.hpp"

using namespace meoktong;

namespace {

const std::string kToken = "loopback-test-token-0123456789";

// A ControlServer serving on a random 127.0.0.1 port for the test's lifetime.
class RunningServer {
public:
    explicit RunningServer(ControlServerSettings s, MeasureFunction measure = measure_target)
        : server_(with_defaults(std::move(s)), std::move(measure)) {
        port_ = server_.bind();
        thread_ = std::thread([this] { server_.serve(); });
    }
    ~RunningServer() {
        server_.stop();
        thread_.join();
    }
    int port() const { return port_; }
    std::string url(const std::string& scheme = "http") const { return scheme + "://127.0.0.1:" + std::to_string(port_); }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(10, 0);
        return c;
    }

private:
    static ControlServerSettings with_defaults(ControlServerSettings s) {
        s.listen_host = "127.0.0.1";
        s.listen_port = 0;
        if (s.token.empty()) s.token = kToken;
        s.log_requests = false;
        s.measure.timeout_ms = 2000;
        return s;
    }
    ControlServer server_;
    int port_ = 0;
    std::thread thread_;
};

ControlServerSettings guarded() {
    ControlServerSettings s;
    s.measure.allow_private = false;
    s.rate_burst = 1000;  // only the rate-limit test wants 429s
    return s;
}

httplib::Headers auth(const std::string& token = kToken) { return {{"Authorization", "Bearer " + token}}; }

std::string one_target(const std::string& host, int port, const std::string& protocol) {
    return R"({"targets": [{"host": ")" + host + R"(", "port": )" + std::to_string(port) + R"(, "protocol": ")" +
           protocol + R"("}]})";
}

json body_of(const httplib::Result& r) { return json::parse(r->body); }

// A listening TCP socket on 127.0.0.1 that never accepts by itself: a
// pending connection in its queue proves someone connected.
class Listener {
public:
    Listener() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(listen(fd_, 16) == 0);
        socklen_t len = sizeof addr;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~Listener() { close(fd_); }
    int port() const { return port_; }
    bool saw_connection() const {
        pollfd p{fd_, POLLIN, 0};
        return poll(&p, 1, 200) == 1;
    }

private:
    int fd_ = -1;
    int port_ = 0;
};

std::vector<Target> tcp_target(int port) {
    Target t;
    t.host = "127.0.0.1";
    t.port = static_cast<uint16_t>(port);
    t.protocol = "tcp";
    return {t};
}

}  // namespace

TEST_CASE("control server: health answers without a token") {
    RunningServer server(guarded());
    auto r = server.client().Get(control::kHealthPath);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(body_of(r)["status"] == "ok");
    CHECK(body_of(r)["version"] == kSoftwareVersion);
}

TEST_CASE("control server: the request log never holds the client's address or the token") {
    std::mutex lines_mutex;
    std::vector<std::string> lines;
    set_process_logger(Logger([&](LogLevel, const std::string& line) {
        std::lock_guard lock(lines_mutex);
        lines.push_back(line);
    }, LogLevel::debug));
    ControlServerSettings s = guarded();
    s.listen_host = "127.0.0.1";
    s.token = kToken;
    s.log_requests = true;
    {
        ControlServer server(s);
        int port = server.bind();
        std::thread serving([&] { server.serve(); });
        httplib::Client client("127.0.0.1", port);
        client.set_read_timeout(10, 0);
        CHECK(client.Get(control::kHealthPath));
        CHECK(client.Post(control::kMeasurePath, auth(), one_target("127.0.0.1", 9, "tcp"), "application/json"));
        CHECK(client.Get("/no/such/path?from=127.0.0.1"));
        server.stop();
        serving.join();  // every worker, and so every log line, is done
    }
    set_process_logger(Logger::discard());
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].find("event=control_request method=GET path=/v1/health status=200") != std::string::npos);
    for (const auto& line : lines) {
        CAPTURE(line);
        CHECK(line.find("event=control_request") != std::string::npos);
        CHECK(line.find("127.0.0.1") == std::string::npos);
        CHECK(line.find(kToken) == std::string::npos);
    }
}

TEST_CASE("control server: 401 without a token or with a wrong one") {
    RunningServer server(guarded());
    auto body = one_target("127.0.0.1", 9, "tcp");
    auto none = server.client().Post(control::kMeasurePath, body, "application/json");
    REQUIRE(none);
    CHECK(none->status == 401);
    CHECK(body_of(none)["error"].is_string());
    auto wrong = server.client().Post(control::kMeasurePath, auth("not-the-token-0123456789"), body, "application/json");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
    auto right = server.client().Post(control::kMeasurePath, auth(), body, "application/json");
    REQUIRE(right);
    CHECK(right->status == 200);
}

TEST_CASE("control server: 400 for malformed JSON and bad targets") {
    RunningServer server(guarded());
    for (std::string body : {std::string("{\"targets\": ["), std::string("{\"targets\": [{\"host\": \"a b\", \"protocol\": \"tls\"}]}")}) {
        auto r = server.client().Post(control::kMeasurePath, auth(), body, "application/json");
        REQUIRE(r);
        CHECK(r->status == 400);
        CHECK(body_of(r)["error"].is_string());
    }
}

TEST_CASE("control server: 413 for an oversized body and for too many targets") {
    auto s = guarded();
    s.max_body_bytes = 1024;
    s.max_targets = 2;
    RunningServer server(s);
    auto big = server.client().Post(control::kMeasurePath, auth(), std::string(4096, ' '), "application/json");
    REQUIRE(big);
    CHECK(big->status == 413);
    CHECK(body_of(big)["error"].is_string());
    std::string three = R"({"targets": [{"host": "a.example", "protocol": "tls"}, {"host": "b.example", "protocol": "tls"},
                                        {"host": "c.example", "protocol": "tls"}]})";
    auto many = server.client().Post(control::kMeasurePath, auth(), three, "application/json");
    REQUIRE(many);
    CHECK(many->status == 413);
}

TEST_CASE("control server: chunked bodies are refused before being read") {
    RunningServer server(guarded());
    auto provider = [](size_t offset, httplib::DataSink& sink) {
        if (offset < 64) sink.write(std::string(64, ' ').data(), 64);
        else sink.done();
        return true;
    };
    auto r = server.client().Post(control::kMeasurePath, auth(), provider, "application/json");
    REQUIRE(r);
    CHECK(r->status == 411);
}

TEST_CASE("control server: 429 once a client's bucket is empty") {
    auto s = guarded();
    s.rate_per_minute = 1;
    s.rate_burst = 3;
    RunningServer server(s);
    auto body = one_target("127.0.0.1", 9, "tcp");
    for (int i = 0; i < 3; ++i) {
        auto r = server.client().Post(control::kMeasurePath, auth(), body, "application/json");
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    auto limited = server.client().Post(control::kMeasurePath, auth(), body, "application/json");
    REQUIRE(limited);
    CHECK(limited->status == 429);
    CHECK(limited->has_header("Retry-After"));
}

TEST_CASE("control server: private targets are refused and never connected to") {
    Listener listener;
    RunningServer server(guarded());
    for (const std::string host : {"127.0.0.1", "::ffff:127.0.0.1", "127.1", "2130706433"}) {
        CAPTURE(host);
        bool legacy_spelling = host == "127.1" || host == "2130706433";  // neither a name nor an address
        for (const std::string protocol : {"tcp", "tls", "http"}) {
            auto r = server.client().Post(control::kMeasurePath, auth(), one_target(host, listener.port(), protocol),
                                          "application/json");
            REQUIRE(r);
            if (legacy_spelling) {
                CHECK(r->status == 400);
                continue;
            }
            REQUIRE(r->status == 200);
            auto result = body_of(r)["results"].at(0);
            CHECK(result["failure"] == "target_not_allowed");
            CHECK(result["observations"]["tcp"].empty());
        }
    }
    CHECK(!listener.saw_connection());
}

TEST_CASE("control server: --allow-private measures loopback targets") {
    Listener listener;
    ControlServerSettings s;
    s.measure.allow_private = true;
    RunningServer server(s);
    auto r = server.client().Post(control::kMeasurePath, auth(), one_target("127.0.0.1", listener.port(), "tcp"),
                                  "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto result = body_of(r)["results"].at(0);
    CHECK(!result.contains("failure"));
    REQUIRE(result["observations"]["tcp"].size() == 1);
    CHECK(result["observations"]["tcp"][0]["failure"].is_null());
    CHECK(result["observations"]["tcp"][0]["port"] == listener.port());
    CHECK(listener.saw_connection());
}

TEST_CASE("control server: a download_url is fetched only from a checked address") {
    std::mutex mutex;
    std::map<std::string, std::string> measured_download;  // target host -> download_url measure_target got
    auto recording_measure = [&](const Target& t, const MeasureSettings&, std::chrono::steady_clock::time_point) {
        std::lock_guard lock(mutex);
        measured_download[t.host] = t.download_url;
        return Observations{};
    };
    auto post = [](const RunningServer& server, const std::string& host, const std::string& download_url) {
        std::string body = R"({"targets": [{"host": ")" + host + R"(", "protocol": "https", "download_url": ")" +
                           download_url + R"("}]})";
        auto r = server.client().Post(control::kMeasurePath, auth(), body, "application/json");
        REQUIRE(r);
        REQUIRE(r->status == 200);
        return body_of(r)["results"].at(0);
    };
    SUBCASE("guarded") {
        RunningServer server(guarded(), recording_measure);
        for (const std::string url : {"http://127.0.0.1:9/x", "http://[::1]/x", "http://10.0.0.1/x",
                                      "http://169.254.169.254/latest/meta-data/"}) {
            CAPTURE(url);
            auto result = post(server, "line.me", url);
            CHECK(result["failure"] == "target_not_allowed");
            CHECK(result["target"]["download_url"] == url);
        }
        CHECK(measured_download.empty());

        auto same_host = post(server, "web.whatsapp.com", "https://WEB.whatsapp.com/download/lab.bin");
        CHECK(!same_host.contains("failure"));
        CHECK(same_host["target"]["download_url"] == "https://WEB.whatsapp.com/download/lab.bin");
        CHECK(measured_download.at("web.whatsapp.com") == "https://WEB.whatsapp.com/download/lab.bin");

        auto public_literal = post(server, "line.me", "http://147.92.1.1/x");
        CHECK(!public_literal.contains("failure"));
        CHECK(measured_download.at("line.me") == "http://147.92.1.1/x");

        // Another name would be resolved by libcurl unchecked: measured without the download.
        auto other_name = post(server, "kakao.com", "https://localhost.example/x");
        CHECK(!other_name.contains("failure"));
        CHECK(other_name["target"]["download_url"] == "https://localhost.example/x");
        REQUIRE(measured_download.count("kakao.com") == 1);
        CHECK(measured_download.at("kakao.com").empty());
    }
    SUBCASE("--allow-private") {
        ControlServerSettings s;
        s.measure.allow_private = true;
        RunningServer server(s, recording_measure);
        auto result = post(server, "line.me", "http://127.0.0.1:9/x");
        CHECK(!result.contains("failure"));
        CHECK(measured_download.at("line.me") == "http://127.0.0.1:9/x");
    }
}

TEST_CASE("control server: targets not started by the deadline say so; concurrency is bounded") {
    std::atomic<int> in_flight{0}, peak{0};
    auto slow_measure = [&](const Target&, const MeasureSettings&, std::chrono::steady_clock::time_point) {
        int now = ++in_flight;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        --in_flight;
        return Observations{};
    };
    auto s = guarded();
    s.deadline_ms = 150;
    s.target_concurrency = 2;
    RunningServer server(s, slow_measure);
    std::string body = R"({"targets": [{"host": "a.example", "protocol": "tls"}, {"host": "b.example", "protocol": "tls"},
                                       {"host": "c.example", "protocol": "tls"}, {"host": "d.example", "protocol": "tls"}]})";
    auto r = server.client().Post(control::kMeasurePath, auth(), body, "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto results = body_of(r)["results"];
    REQUIRE(results.size() == 4);
    CHECK(!results[0].contains("failure"));
    CHECK(!results[1].contains("failure"));
    CHECK(results[2]["failure"] == control::kDeadlineExceeded);
    CHECK(results[3]["failure"] == control::kDeadlineExceeded);
    CHECK(results[3]["target"]["host"] == "d.example");
    CHECK(peak.load() <= 2);
}

TEST_CASE("control client against the real server: answers, refusals, wrong token, nobody listening") {
    Listener listener;
    ControlServerSettings s;
    s.measure.allow_private = true;
    RunningServer server(s);
    ControlClientSettings c;
    c.url = server.url() + "/";
    c.token = kToken;
    c.timeout_ms = 10000;
    std::string seen_as;
    auto ok = query_control(c, tcp_target(listener.port()), &seen_as);
    CHECK(seen_as == "127.0.0.1");  // the address the control saw, for the probe to scrub
    REQUIRE(ok.size() == 1);
    CHECK(ok[0].requested);
    CHECK(!ok[0].failure);
    REQUIRE(ok[0].observations.tcp.size() == 1);
    CHECK(!ok[0].observations.tcp[0].failure);

    c.token = "wrong-token-0123456789";
    auto denied = query_control(c, tcp_target(listener.port()));
    REQUIRE(denied.size() == 1);
    CHECK(denied[0].failure == "control_http_401");

    RunningServer guarded_server(guarded());
    c.url = guarded_server.url();
    c.token = kToken;
    auto refused = query_control(c, tcp_target(listener.port()));
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].failure == "target_not_allowed");

    int dead_port = 0;
    {
        Listener closed;  // a port that was just free: nobody listens there once closed
        dead_port = closed.port();
    }
    c.url = "http://127.0.0.1:" + std::to_string(dead_port);
    auto unreachable = query_control(c, tcp_target(listener.port()));
    REQUIRE(unreachable.size() == 1);
    CHECK(unreachable[0].failure == "control_unreachable: connection_refused");
}

namespace {

// A throwaway CA and a certificate for 127.0.0.1 signed by it, made with the openssl CLI.
struct TestPki {
    std::filesystem::path dir;
    TestPki() {
        char tmpl[] = "/tmp/meoktong-control-tls-XXXXXX";
        dir = mkdtemp(tmpl);
        std::ofstream(dir / "ext.cnf") << "subjectAltName=IP:127.0.0.1\n";
        std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
        std::string cmd = "(cd " + dir.string() + " && openssl req -x509" + ec +
                          "-keyout ca.key -out ca.pem -days 2 -subj /CN=meoktong-test-ca && openssl req" + ec +
                          "-keyout key.pem -out req.csr -subj /CN=127.0.0.1 && openssl x509 -req -in req.csr"
                          " -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile ext.cnf)"
                          " >/dev/null 2>&1";
        REQUIRE(std::system(cmd.c_str()) == 0);
    }
    ~TestPki() { std::filesystem::remove_all(dir); }
    std::string path(const char* name) const { return (dir / name).string(); }
};

}  // namespace

TEST_CASE("control over TLS: the client verifies the server with ca_file") {
    TestPki pki;
    auto s = guarded();
    s.tls_cert = pki.path("cert.pem");
    s.tls_key = pki.path("key.pem");
    RunningServer server(s);
    ControlClientSettings c;
    c.url = server.url("https");
    c.token = kToken;
    c.ca_file = pki.path("ca.pem");
    auto verified = query_control(c, tcp_target(9));
    REQUIRE(verified.size() == 1);
    CHECK(verified[0].failure == "target_not_allowed");  // an answer from the control itself

    c.ca_file = "";  // the system's trust store does not know the test CA
    auto untrusted = query_control(c, tcp_target(9));
    REQUIRE(untrusted.size() == 1);
    CHECK(untrusted[0].failure == "control_unreachable: ssl_invalid_certificate");
}

TEST_CASE("control over TLS: bad certificate files are a one-line input error") {
    auto s = guarded();
    s.tls_cert = "/nonexistent/cert.pem";
    s.tls_key = "/nonexistent/key.pem";
    s.listen_host = "127.0.0.1";
    ControlServer server(s);
    CHECK_THROWS_AS(server.bind(), InputError);
}

namespace {

int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

// Sends `piece` repeatedly (pausing `gap` between sends) until the server
// closes the connection or `max_sends` is reached; true if the server closed it.
bool server_hangs_up(int fd, const std::string& piece, std::chrono::milliseconds gap, int max_sends) {
    for (int i = 0; i < max_sends; ++i) {
        if (send(fd, piece.data(), piece.size(), MSG_NOSIGNAL) < 0) return true;
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(gap.count())) == 1) {
            char buf[256];
            if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("control server: an endless stream of header lines is cut off, the server keeps serving") {
    auto s = guarded();
    s.max_body_bytes = 1024;
    RunningServer server(s);
    int fd = connect_loopback(server.port());
    std::string start = "GET /v1/health HTTP/1.1\r\nHost: x\r\n";
    REQUIRE(send(fd, start.data(), start.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(start.size()));
    std::string headers;
    for (int i = 0; i < 1000; ++i) headers += "X-Flood-" + std::to_string(i) + ": vvvvvvvvvvvvvvvvvvvv\r\n";
    CHECK(server_hangs_up(fd, headers, std::chrono::milliseconds(1), 2000));  // up to ~60 MB offered
    close(fd);
    auto health = server.client().Get(control::kHealthPath);
    REQUIRE(health);
    CHECK(health->status == 200);
}

TEST_CASE("control server: a client trickling its request is cut at the request timeout") {
    auto s = guarded();
    s.io_timeout_s = 1;
    s.request_timeout_s = 1;
    RunningServer server(s);
    int fd = connect_loopback(server.port());
    std::string start = "POST /v1/measure HTTP/1.1\r\nHost: x\r\n";
    REQUIRE(send(fd, start.data(), start.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(start.size()));
    CHECK(server_hangs_up(fd, "X", std::chrono::milliseconds(200), 100));  // gives up after ~20 s
    close(fd);
}

TEST_CASE("run: the address the control saw the probe come from is scrubbed (a probe behind NAT)") {
    // 127.0.0.1 is on no interface the probe scrubs (loopback is left out), so
    // only the control's client_address can teach the probe to remove it.
    ControlServerSettings s;
    s.measure.allow_private = true;
    RunningServer server(s, [](const Target&, const MeasureSettings&, std::chrono::steady_clock::time_point) {
        return Observations{};
    });
    auto echo_service = [](const Target&, SteadyTime) {  // an HTTP echo of the probe's public address
        Observations obs;
        HttpObservation h;
        h.title = "Your address is 127.0.0.1";
        h.headers = {{"X-Client-Ip", "127.0.0.1"}};
        obs.http.push_back(h);
        return obs;
    };
    RunSettings o;
    o.control_url = server.url();
    o.control_token = kToken;
    auto outcome = execute_run(tcp_target(9), o, echo_service, "run-nat");
    REQUIRE(outcome.records.size() == 1);
    const Record& r = outcome.records[0];
    CHECK(!r.control.failure);
    REQUIRE(r.observations.http.size() == 1);
    CHECK(r.observations.http[0].title == "Your address is [scrubbed]");
    CHECK(r.observations.http[0].headers.at(0).second == "[scrubbed]");

    RunSettings no_control;  // without the control nothing teaches it: the echo stays (what the test guards)
    auto alone = execute_run(tcp_target(9), no_control, echo_service, "run-alone");
    CHECK(alone.records.at(0).observations.http.at(0).title == "Your address is 127.0.0.1");
}

namespace {

// One TCP observation to 127.0.0.1:port: connected, or failed with `failure`.
Observations tcp_outcome(int port, std::optional<std::string> failure) {
    Observations obs;
    TcpObservation tcp;
    tcp.ip = "127.0.0.1";
    tcp.port = static_cast<uint16_t>(port);
    tcp.failure = std::move(failure);
    obs.tcp.push_back(tcp);
    return obs;
}

// A run of one target refused here every time, against a real control whose
// n-th measurement (1-based) is control_view(n); returns the record and how
// often the control measured.
std::pair<Record, int> refused_here_run(std::function<Observations(int)> control_view) {
    std::atomic<int> control_calls{0};
    ControlServerSettings s;
    s.measure.allow_private = true;
    RunningServer server(s, [&](const Target&, const MeasureSettings&, std::chrono::steady_clock::time_point) {
        return control_view(++control_calls);
    });
    RunSettings o;
    o.control_url = server.url();
    o.control_token = kToken;
    auto refused = [](const Target& t, SteadyTime) { return tcp_outcome(t.port, std::string(failure::kConnectionRefused)); };
    auto outcome = execute_run(tcp_target(9), o, refused, "run-sandwich");
    REQUIRE(outcome.records.size() == 1);
    return {outcome.records[0], control_calls.load()};
}

bool says(const Verdict& v, const std::string& text) {
    return std::any_of(v.evidence.begin(), v.evidence.end(), [&](const auto& e) { return e.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("run: retest before accusing, against a real control measured before and after the retest") {
    SUBCASE("the control connects both times: blocked, on both tries") {
        auto [r, calls] = refused_here_run([](int) { return tcp_outcome(9, std::nullopt); });
        CHECK(calls == 2);
        CHECK(r.tries == 2);
        REQUIRE(r.earlier_tries.size() == 1);
        CHECK(r.verdict.status == VerdictStatus::blocked);
        CHECK(r.verdict.method.value_or("") == "tcp_reset");
        CHECK(says(r.verdict, "the retest came out the same"));
    }
    SUBCASE("the control's view flaps (connects, then times out): inconclusive, never provider_down") {
        auto [r, calls] = refused_here_run([](int n) {
            return tcp_outcome(9, n == 1 ? std::nullopt : std::optional<std::string>(failure::kTimeout));
        });
        CHECK(calls == 2);
        CHECK(r.tries == 2);
        CHECK(r.earlier_tries.at(0).verdict.status == VerdictStatus::blocked);
        CHECK(r.verdict.status == VerdictStatus::inconclusive);
        CHECK(says(r.verdict, "the tries contradict each other"));
    }
    SUBCASE("the control fails after the retest (its measurement throws): no control, nothing accused") {
        auto [r, calls] = refused_here_run([](int n) {
            if (n > 1) throw std::runtime_error("the control's own network is gone");
            return tcp_outcome(9, std::nullopt);
        });
        CHECK(calls == 2);
        CHECK(r.tries == 2);
        CHECK(r.control.failure.has_value());
        CHECK(r.verdict.status == VerdictStatus::inconclusive);
    }
}
