// DNS over HTTPS over the real network on loopback (probe/net/doh.hpp through
// SystemNet and libcurl): an in-test cpp-httplib TLS server answering RFC 8484
// POSTs, and the failures a censor or a broken server cause, recorded as data.
#include <doctest/doctest.h>

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <span>
#include <thread>

#include "dns_packet_builder.hpp"
#include "meoktong/failure.hpp"
#include "probe/net/dns_message.hpp"
#include "probe/net/doh.hpp"
#include "probe/net/net.hpp"
#include "test_servers.hpp"

using namespace meoktong;
using namespace meoktong::testing;

namespace {

// Answers every POST to /dns-query with `status` and an A 192.0.2.1 (no AAAA)
// for the question asked; remembers the request's content type.
class DohServer {
public:
    explicit DohServer(int status = 200)
        : server_(TestPki::get().good.cert.c_str(), TestPki::get().good.key.c_str()) {
        server_.Post("/dns-query", [this, status](const httplib::Request& req, httplib::Response& res) {
            std::span<const uint8_t> query(reinterpret_cast<const uint8_t*>(req.body.data()), req.body.size());
            auto question = dns_question(query);
            int qtype = question ? query[question->type_class_at + 1] : 0;
            std::vector<TestAnswer> answers;
            if (qtype == 1) answers.push_back({1, "192.0.2.1", 60});
            auto body = build_response(0, dns_question_name(query).value_or(""), qtype, 0, answers);
            {
                std::lock_guard lock(mutex_);
                content_type_ = req.get_header_value("Content-Type");
            }
            res.status = status;
            res.set_content(std::string(body.begin(), body.end()), "application/dns-message");
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~DohServer() {
        server_.stop();
        thread_.join();
    }
    DohServer(const DohServer&) = delete;
    DohServer& operator=(const DohServer&) = delete;

    std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/dns-query"; }
    std::string content_type() {
        std::lock_guard lock(mutex_);
        return content_type_;
    }

private:
    httplib::SSLServer server_;
    int port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::string content_type_;
};

std::vector<DnsObservation> ask(const std::string& url, const std::string& ca_file = TestPki::get().ca_file) {
    SystemNet net;
    return doh::lookup(net, "line.me", {url}, ca_file, 1500, std::chrono::steady_clock::now());
}

}  // namespace

TEST_CASE("a DoH resolver over real TLS answers A and AAAA, recorded with transport doh") {
    DohServer server;
    auto obs = ask(server.url());
    REQUIRE(obs.size() == 2);
    CHECK(obs[0].transport == "doh");
    CHECK(obs[0].resolver == "127.0.0.1");
    CHECK(obs[0].resolver_address == server.url().substr(8, server.url().find('/', 8) - 8));
    CHECK_FALSE(obs[0].failure.has_value());
    REQUIRE(obs[0].answers.size() == 1);
    CHECK(obs[0].answers[0].value == "192.0.2.1");
    CHECK(obs[1].query_type == "AAAA");
    CHECK(obs[1].failure == std::optional<std::string>(failure::kDnsNoAnswer));
    CHECK(server.content_type() == "application/dns-message");
}

TEST_CASE("a DoH resolver's HTTP error status is http_request_failed") {
    DohServer server(403);
    auto obs = ask(server.url());
    REQUIRE(obs.size() == 2);
    CHECK(obs[0].failure == std::optional<std::string>("http_request_failed"));
    CHECK(obs[0].raw_error == "HTTP 403");
    CHECK(obs[0].answers.empty());
}

TEST_CASE("DoH transport failures are data: untrusted certificate, silence, refused, reset") {
    DohServer server;
    auto untrusted = ask(server.url(), TestPki::get().self_signed.cert);  // a trust store without the test CA
    CHECK(untrusted[0].failure == std::optional<std::string>(failure::kSslInvalidCertificate));
    CHECK(untrusted[0].rcode == -1);

    TcpTestServer silent(Behaviour::Silent);
    auto timed_out = ask("https://127.0.0.1:" + std::to_string(silent.port()) + "/dns-query");
    CHECK(timed_out[0].failure == std::optional<std::string>(failure::kTimeout));
    CHECK(timed_out[1].failure == std::optional<std::string>(failure::kTimeout));

    auto refused = ask("https://127.0.0.1:" + std::to_string(closed_port()) + "/dns-query");
    CHECK(refused[0].failure == std::optional<std::string>(failure::kConnectionRefused));

    TcpTestServer resetting(Behaviour::ResetAfterHello);
    auto reset = ask("https://127.0.0.1:" + std::to_string(resetting.port()) + "/dns-query");
    CHECK(reset[0].failure.has_value());
    CHECK(reset[0].answers.empty());
}
