// The probe's control client against hostile control servers (httplib test
// servers on 127.0.0.1): garbage, errors, endless and huge bodies, byte-by-byte
// answers, wrong result counts, a connection cut mid-reply. Each must end in
// a failure string on every result, within the client's deadline, no crash.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "probe/control/client.hpp"
#include "probe/control/protocol.hpp"

using namespace meoktong;

namespace {

// An httplib server on a random 127.0.0.1 port answering POST /v1/measure with `handler`.
class HostileServer {
public:
    explicit HostileServer(httplib::Server::Handler handler) {
        server_.Post(control::kMeasurePath, [this, handler](const httplib::Request& req, httplib::Response& res) {
            ++requests;
            handler(req, res);
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        REQUIRE(port_ > 0);
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~HostileServer() {
        server_.stop();
        thread_.join();
    }
    ControlClientSettings client_settings() const {
        ControlClientSettings c;
        c.url = "http://127.0.0.1:" + std::to_string(port_);
        c.token = "hostile-test-token-0123456789";
        c.timeout_ms = 5000;
        return c;
    }

    std::atomic<int> requests{0};

private:
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
};

std::vector<Target> two_targets() {
    Target a, b;
    a.host = "line.me";
    a.port = 443;
    a.protocol = "tls";
    b.host = "kakao.com";
    b.protocol = "dns";
    return {a, b};
}

void check_all_failed(const std::vector<ControlResult>& results, const std::string& expected) {
    REQUIRE(results.size() == 2);
    for (const auto& r : results) {
        CHECK(r.requested);
        CHECK(r.failure == expected);
        CHECK(r.observations.dns.empty());
    }
}

void check_all_failed_with_prefix(const std::vector<ControlResult>& results, const std::string& prefix) {
    REQUIRE(results.size() == 2);
    for (const auto& r : results) {
        REQUIRE(r.failure);
        CHECK(r.failure->rfind(prefix, 0) == 0);
    }
}

}  // namespace

TEST_CASE("control client: the request carries the token and the targets") {
    std::string authorization, body;
    HostileServer server([&](const httplib::Request& req, httplib::Response& res) {
        authorization = req.get_header_value("Authorization");
        body = req.body;
        res.set_content(R"({"results": []})", "application/json");
    });
    query_control(server.client_settings(), two_targets());
    CHECK(authorization == "Bearer hostile-test-token-0123456789");
    auto parsed = control::parse_measure_request(body, 10);
    REQUIRE(parsed.ok());
    REQUIRE(parsed.targets.size() == 2);
    CHECK(parsed.targets[0].host == "line.me");
    CHECK(parsed.targets[1].protocol == "dns");
}

TEST_CASE("control client: garbage with status 200") {
    HostileServer server([](const httplib::Request&, httplib::Response& res) {
        res.set_content("<html>\x01\x02 not json", "text/html");
    });
    check_all_failed(query_control(server.client_settings(), two_targets()), "control_bad_reply: not JSON");
}

TEST_CASE("control client: HTTP errors and redirects become control_http_N") {
    HostileServer error([](const httplib::Request&, httplib::Response& res) {
        res.status = 500;
        res.set_content(R"({"results": []})", "application/json");
    });
    check_all_failed(query_control(error.client_settings(), two_targets()), "control_http_500");
    HostileServer redirect([](const httplib::Request&, httplib::Response& res) {
        res.set_redirect("http://127.0.0.1:1/v1/measure");  // loopback: even a client that followed stays local
    });
    check_all_failed(query_control(redirect.client_settings(), two_targets()), "control_http_302");
}

TEST_CASE("control client: wrong result count") {
    HostileServer server([](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"results": []})", "application/json");
    });
    check_all_failed(query_control(server.client_settings(), two_targets()),
                     "control_bad_reply: 0 results for 2 targets");
}

TEST_CASE("control client: a reply over the cap is cut off, with or without Content-Length") {
    HostileServer sized([](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(4 << 20, ' '), "application/json");
    });
    auto settings = sized.client_settings();
    settings.max_reply_bytes = 1 << 20;
    check_all_failed(query_control(settings, two_targets()), "control_reply_too_large");

    HostileServer endless([](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
            static const std::string chunk(64 << 10, '[');
            return sink.write(chunk.data(), chunk.size());  // forever, until the client hangs up
        });
    });
    settings = endless.client_settings();
    settings.max_reply_bytes = 1 << 20;
    check_all_failed(query_control(settings, two_targets()), "control_reply_too_large");
}

TEST_CASE("control client: a byte-by-byte reply ends at the client's deadline") {
    std::atomic<bool> stopping{false};  // outlives the server: its worker may still be trickling
    HostileServer trickle([&stopping](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider("application/json", [&stopping](size_t, httplib::DataSink& sink) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            return !stopping && sink.write("{", 1);
        });
    });
    auto settings = trickle.client_settings();
    settings.timeout_ms = 500;
    check_all_failed(query_control(settings, two_targets()), "control_unreachable: generic_timeout_error");
    stopping = true;
}

TEST_CASE("control client: a connection cut mid-reply") {
    HostileServer server([](const httplib::Request&, httplib::Response& res) {
        res.set_content_provider(1000, "application/json", [](size_t offset, size_t, httplib::DataSink& sink) {
            if (offset > 0) return false;  // promised 1000 bytes, sends 10, hangs up
            return sink.write(R"({"results")", 10);
        });
    });
    check_all_failed_with_prefix(query_control(server.client_settings(), two_targets()), control::kUnreachablePrefix);
}

TEST_CASE("control client: no targets, no request; a token that would break the header is refused") {
    HostileServer server([](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"results": []})", "application/json");
    });
    CHECK(query_control(server.client_settings(), {}).empty());
    auto settings = server.client_settings();
    settings.token = "abc\r\nX-Injected: 1";
    check_all_failed(query_control(settings, two_targets()), "control_unreachable: invalid_token");
    CHECK(server.requests == 0);
}
