// DNS over HTTPS (probe/net/doh.hpp) without network: the POST it builds (the
// c-ares wire query with id 0, the RFC 8484 content type), how a reply maps
// onto a DnsObservation and the failure vocabulary, URL checking, and a
// lookup over a scripted Net.
#include <doctest/doctest.h>

#include <functional>
#include <mutex>

#include "../../loopback/dns_packet_builder.hpp"
#include "meoktong/failure.hpp"
#include "probe/net/dns.hpp"
#include "probe/net/doh.hpp"
#include "probe/net/failure_map.hpp"

using namespace meoktong;
using meoktong::testing::build_response;

namespace {

const std::string kUrl = "https://dns.example.net/dns-query";

PostRequest request_for(const std::string& host, int qtype) {
    auto request = doh::query_request(kUrl, host, qtype, "/tmp/ca.pem", 1234);
    REQUIRE(request.has_value());
    return *request;
}

PostReply reply_with(std::vector<unsigned char> body, int status = 200) {
    PostReply reply;
    reply.t0_ms = 1, reply.t_ms = 9;
    reply.status = status;
    reply.server_address = "203.0.113.53:443";
    reply.content_type = "application/dns-message";
    reply.body.assign(body.begin(), body.end());
    return reply;
}

// A Net whose only working primitive is the POST, answered by `server`.
class PostOnlyNet : public Net {
public:
    std::function<PostReply(const PostRequest&)> server;
    std::vector<std::string> urls;
    std::mutex mutex;

    PostReply https_post(const PostRequest& request, SteadyTime) override {
        {
            std::lock_guard lock(mutex);
            urls.push_back(request.url);
        }
        return server(request);
    }
    std::vector<DnsObservation> dns_lookup(const std::string&, const std::vector<ResolverSpec>&, int, int,
                                           SteadyTime) override {
        return {};
    }
    TcpResult tcp_connect(const std::string&, uint16_t, int, SteadyTime) override { return {}; }
    TlsObservation tls_handshake(Connection&, const TlsRequest&, SteadyTime) override { return {}; }
    HttpObservation http_get(const HttpRequest&, SteadyTime) override { return {}; }
    AppReply stream_exchange(Connection&, const AppExchange&, SteadyTime) override { return {}; }
    AppReply datagram_exchange(const std::string&, uint16_t, const AppExchange&, SteadyTime) override { return {}; }
    TlsExchangeResult tls_exchange(Connection&, const TlsRequest&, const AppExchange&, SteadyTime) override {
        return {};
    }
};

}  // namespace

TEST_CASE("a DoH query is the c-ares wire query with id 0, POSTed as application/dns-message") {
    PostRequest r = request_for("web.whatsapp.com", dns::kTypeA);
    CHECK(r.url == kUrl);
    CHECK(r.content_type == "application/dns-message");
    CHECK(r.ca_file == "/tmp/ca.pem");
    CHECK(r.timeout_ms == 1234);
    auto udp = dns::encode_query("web.whatsapp.com", dns::kTypeA, 0);
    REQUIRE(udp.has_value());
    CHECK(r.body == std::vector<uint8_t>(udp->begin(), udp->end()));
    REQUIRE(r.body.size() > 12);
    CHECK(r.body[0] == 0);
    CHECK(r.body[1] == 0);
    CHECK(dns_question_name(r.body) == std::optional<std::string>("web.whatsapp.com"));
    CHECK(request_for("web.whatsapp.com", dns::kTypeAAAA).body != r.body);
}

TEST_CASE("a DoH answer becomes a DnsObservation like a UDP resolver's, transport doh, named by the URL's host") {
    PostRequest r = request_for("line.me", dns::kTypeA);
    auto obs = doh::read_reply(kUrl, "line.me", r, dns::kTypeA,
                               reply_with(build_response(0, "line.me", 1, 0, {{1, "147.92.1.1", 300}})));
    CHECK(obs.resolver == "dns.example.net");
    CHECK(obs.resolver_address == "203.0.113.53:443");
    CHECK(obs.transport == "doh");
    CHECK(obs.hostname == "line.me");
    CHECK(obs.query_type == "A");
    CHECK_FALSE(obs.failure.has_value());
    CHECK(obs.rcode == 0);
    REQUIRE(obs.answers.size() == 1);
    CHECK(obs.answers[0].value == "147.92.1.1");
    REQUIRE(obs.responses.size() == 1);
    CHECK(obs.responses[0].ip_ttl == -1);
    CHECK(obs.t0_ms == 1);
    CHECK(obs.t_ms == 9);
}

TEST_CASE("DoH rcodes map like UDP ones: NXDOMAIN, no address") {
    PostRequest r = request_for("line.me", dns::kTypeA);
    auto nx = doh::read_reply(kUrl, "line.me", r, dns::kTypeA, reply_with(build_response(0, "line.me", 1, 3, {})));
    CHECK(nx.failure == std::optional<std::string>(failure::kDnsNxdomain));
    CHECK(nx.rcode == 3);
    auto empty = doh::read_reply(kUrl, "line.me", r, dns::kTypeA, reply_with(build_response(0, "line.me", 1, 0, {})));
    CHECK(empty.failure == std::optional<std::string>(failure::kDnsNoAnswer));
}

TEST_CASE("DoH failures: the transport's, an HTTP status, not a DNS message, an answer to another question") {
    PostRequest r = request_for("line.me", dns::kTypeA);
    PostReply timed_out;
    timed_out.failure = failure::kTimeout;
    timed_out.raw_error = "Connection timed out after 5000 milliseconds";
    auto t = doh::read_reply(kUrl, "line.me", r, dns::kTypeA, timed_out);
    CHECK(t.failure == std::optional<std::string>(failure::kTimeout));
    CHECK(t.raw_error == timed_out.raw_error);
    CHECK(t.rcode == -1);
    CHECK(t.transport == "doh");

    auto forbidden = doh::read_reply(kUrl, "line.me", r, dns::kTypeA,
                                     reply_with(build_response(0, "line.me", 1, 0, {{1, "147.92.1.1", 300}}), 403));
    CHECK(forbidden.failure == std::optional<std::string>("http_request_failed"));
    CHECK(forbidden.raw_error == "HTTP 403");
    CHECK(forbidden.answers.empty());

    std::string page = "<html>blocked</html>";
    PostReply html = reply_with({page.begin(), page.end()});
    html.content_type = "text/html; charset=utf-8";
    auto bogus = doh::read_reply(kUrl, "line.me", r, dns::kTypeA, html);
    CHECK(bogus.failure == std::optional<std::string>(failure::kDnsBogusReply));
    CHECK(bogus.raw_error == "not a DNS answer to the query (20 bytes, text/html)");
    CHECK(bogus.rcode == -1);

    auto other = doh::read_reply(kUrl, "line.me", r, dns::kTypeA,
                                 reply_with(build_response(0, "kakao.com", 1, 0, {{1, "10.0.0.1", 300}})));
    CHECK(other.failure == std::optional<std::string>(failure::kDnsBogusReply));
    CHECK(other.answers.empty());
    auto wrong_id = doh::read_reply(kUrl, "line.me", r, dns::kTypeA,
                                    reply_with(build_response(7, "line.me", 1, 0, {{1, "147.92.1.1", 300}})));
    CHECK(wrong_id.failure == std::optional<std::string>(failure::kDnsBogusReply));
}

TEST_CASE("the DoH HTTP status maps onto the failure vocabulary") {
    CHECK(failure::from_doh_status(200).empty());
    CHECK(failure::from_doh_status(403) == "http_request_failed");
    CHECK(failure::from_doh_status(502) == "http_request_failed");
}

TEST_CASE("DoH URLs: https with a host only; the host names the resolver") {
    CHECK(doh::url_host("https://dns.example.net/dns-query") == std::optional<std::string>("dns.example.net"));
    CHECK(doh::url_host("https://10.77.4.3/dns-query") == std::optional<std::string>("10.77.4.3"));
    CHECK(doh::url_host("https://dns.example.net:8443/q") == std::optional<std::string>("dns.example.net"));
    CHECK_FALSE(doh::url_host("http://dns.example.net/dns-query").has_value());
    CHECK_FALSE(doh::url_host("dns.example.net").has_value());
    CHECK_FALSE(doh::url_host("https://").has_value());
    CHECK_FALSE(doh::url_host("ftp://dns.example.net/").has_value());
    CHECK_FALSE(doh::url_host("").has_value());
}

TEST_CASE("a DoH lookup asks every URL for A and AAAA, in order per URL") {
    PostOnlyNet net;
    net.server = [](const PostRequest& request) {
        auto question = dns_question(request.body);
        if (!question) return PostReply{};
        bool aaaa = request.body[question->type_class_at + 1] == 28;
        if (request.url.find("blocked") != std::string::npos) {
            PostReply reset;
            reset.failure = failure::kConnectionReset;
            return reset;
        }
        return reply_with(aaaa ? build_response(0, "line.me", 28, 0, {{28, "2001:db8::1", 60}})
                               : build_response(0, "line.me", 1, 0, {{1, "147.92.1.1", 60}}));
    };
    auto obs = doh::lookup(net, "line.me", {kUrl, "https://blocked.example/dns-query"}, "", 500,
                           std::chrono::steady_clock::now());
    REQUIRE(obs.size() == 4);
    CHECK(net.urls.size() == 4);
    CHECK(obs[0].query_type == "A");
    CHECK(obs[0].answers.at(0).value == "147.92.1.1");
    CHECK(obs[1].query_type == "AAAA");
    CHECK(obs[1].answers.at(0).value == "2001:db8::1");
    CHECK(obs[2].resolver == "blocked.example");
    CHECK(obs[2].failure == std::optional<std::string>(failure::kConnectionReset));
    CHECK(obs[3].failure == std::optional<std::string>(failure::kConnectionReset));
}
