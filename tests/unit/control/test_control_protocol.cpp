// Control protocol wire format: request validation (server side) and reply
// validation (client side) on hand-written and hostile JSON. No network.
#include <doctest/doctest.h>

#include <string>

#include "probe/control/protocol.hpp"

using namespace meoktong;
using namespace meoktong::control;

namespace {

Target make_target(const std::string& host, uint16_t port, const std::string& protocol) {
    Target t;
    t.host = host;
    t.port = port;
    t.protocol = protocol;
    return t;
}

std::string reply_with(const std::string& result) { return R"({"results": [)" + result + "]}"; }

const std::string kGoodResult =
    R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"},
        "observations": {"dns": [{"hostname": "line.me", "query_type": "A", "failure": null, "rcode": 0,
                                  "answers": [{"type": "A", "value": "147.92.1.1", "ttl": 60}]}],
                         "tcp": [{"ip": "147.92.1.1", "port": 443, "failure": null, "t0_ms": 1.5, "t_ms": 20}],
                         "tls": [], "http": []}})";

}  // namespace

TEST_CASE("request: a valid batch becomes targets with defaults filled in") {
    auto r = parse_measure_request(
        R"({"targets": [{"host": "LINE.me", "protocol": "tls"},
                        {"host": "web.whatsapp.com", "port": 8443, "protocol": "https", "path": "/a?b=1"},
                        {"host": "2001:db8::1", "port": 5222, "protocol": "tcp"},
                        {"host": "kakao.com", "protocol": "dns"}]})",
        10);
    REQUIRE(r.ok());
    REQUIRE(r.targets.size() == 4);
    CHECK(r.targets[0].host == "line.me");
    CHECK(r.targets[0].port == 443);
    CHECK(r.targets[1].path == "/a?b=1");
    CHECK(r.targets[1].port == 8443);
    CHECK(r.targets[2].host == "2001:db8::1");
    CHECK(r.targets[3].port == 0);
}

TEST_CASE("request: malformed bodies are 400 with a one-line reason") {
    const char* bad[] = {
        "",
        "not json",
        "[]",
        R"({"targets": {}})",
        R"({"targets": []})",
        R"({"targets": [1]})",
        R"({"targets": [{"host": "a.b", "protocol": "gopher", "port": 70}]})",
        R"({"targets": [{"host": "a b", "protocol": "tls"}]})",
        R"({"targets": [{"host": "a.b/c", "protocol": "tls"}]})",
        R"({"targets": [{"host": "", "protocol": "tls"}]})",
        R"({"targets": [{"host": 5, "protocol": "tls"}]})",
        R"({"targets": [{"host": "a.b", "protocol": "tcp"}]})",
        R"({"targets": [{"host": "a.b", "protocol": "tcp", "port": 70000}]})",
        R"({"targets": [{"host": "a.b", "protocol": "tcp", "port": -1}]})",
        R"({"targets": [{"host": "a.b", "protocol": "tcp", "port": 443.5}]})",
        R"({"targets": [{"host": "a.b", "protocol": "tcp", "port": "443"}]})",
        R"({"targets": [{"host": "a.b", "protocol": "dns", "port": 53}]})",
        R"({"targets": [{"host": "a.b", "protocol": "tls", "path": "/x"}]})",
        R"({"targets": [{"host": "a.b", "protocol": "https", "path": "no-slash"}]})",
        R"({"targets": [{"host": "a.b", "protocol": "https", "path": "/a b"}]})",
    };
    for (const char* body : bad) {
        CAPTURE(body);
        auto r = parse_measure_request(body, 10);
        CHECK(r.status == 400);
        CHECK(!r.error.empty());
        CHECK(r.error.find('\n') == std::string::npos);
        CHECK(r.targets.empty());
    }
}

TEST_CASE("request: the error names the offending entry") {
    auto r = parse_measure_request(R"({"targets": [{"host": "a.b", "protocol": "tls"}, {"host": "x", "protocol": 1}]})", 10);
    CHECK(r.status == 400);
    CHECK(r.error.rfind("targets[1]:", 0) == 0);
}

TEST_CASE("request: more targets than the limit is 413") {
    std::string body = R"({"targets": [)";
    for (int i = 0; i < 11; ++i) body += std::string(i ? "," : "") + R"({"host": "a.b", "protocol": "tls"})";
    body += "]}";
    CHECK(parse_measure_request(body, 11).ok());
    auto r = parse_measure_request(body, 10);
    CHECK(r.status == 413);
}

TEST_CASE("request: deep nesting is refused without recursion") {
    std::string deep(100000, '[');
    CHECK(!json_depth_within(deep));
    CHECK(parse_measure_request(deep, 10).status == 400);
    CHECK(json_depth_within("[[[]]]", 3));
    CHECK(!json_depth_within("[[[[]]]]", 3));
}

TEST_CASE("request body built by the client parses back to the same targets") {
    std::vector<Target> targets = {make_target("line.me", 443, "tls"), make_target("kakao.com", 0, "dns"),
                                   make_target("web.whatsapp.com", 443, "https")};
    targets[2].path = "/login";
    auto r = parse_measure_request(measure_request_body(targets), 10);
    REQUIRE(r.ok());
    REQUIRE(r.targets.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        CHECK(r.targets[i].host == targets[i].host);
        CHECK(r.targets[i].port == targets[i].port);
        CHECK(r.targets[i].protocol == targets[i].protocol);
    }
    CHECK(r.targets[2].path == "/login");
}

TEST_CASE("reply built by the server parses back on the client") {
    ServerResult ok;
    ok.target = make_target("line.me", 443, "tls");
    TcpObservation tcp;
    tcp.ip = "147.92.1.1";
    tcp.port = 443;
    tcp.failure = "connection_reset";
    ok.observations.tcp.push_back(tcp);
    ServerResult refused;
    refused.target = make_target("10.0.0.1", 443, "tls");
    refused.failure = "target_not_allowed";
    auto results = parse_measure_reply(measure_reply_body({ok, refused}), {ok.target, refused.target});
    REQUIRE(results.size() == 2);
    CHECK(results[0].requested);
    CHECK(!results[0].failure);
    REQUIRE(results[0].observations.tcp.size() == 1);
    CHECK(results[0].observations.tcp[0].failure == "connection_reset");
    CHECK(results[1].failure == "target_not_allowed");
}

TEST_CASE("reply: the client address the control saw is handed back for scrubbing, never kept in a result") {
    ServerResult ok;
    ok.target = make_target("line.me", 443, "tls");
    std::string seen;
    auto results = parse_measure_reply(measure_reply_body({ok}, "203.0.113.9"), {ok.target}, &seen);
    CHECK(seen == "203.0.113.9");
    REQUIRE(results.size() == 1);
    CHECK(!results[0].failure);
    CHECK(measure_reply_body({ok}).find("client_address") == std::string::npos);
    for (const char* odd : {R"("not an address")", "42", R"("203.0.113.9; rm -rf")"}) {
        CAPTURE(odd);
        std::string body = reply_with(kGoodResult);
        body.insert(body.rfind('}'), std::string(R"(, "client_address": )") + odd);
        std::string kept = "unchanged";
        CHECK(!parse_measure_reply(body, {make_target("line.me", 443, "tls")}, &kept).at(0).failure);
        CHECK(kept == "unchanged");
    }
}

TEST_CASE("reply: a well-formed answer is believed") {
    auto results = parse_measure_reply(reply_with(kGoodResult), {make_target("line.me", 443, "tls")});
    REQUIRE(results.size() == 1);
    CHECK(!results[0].failure);
    REQUIRE(results[0].observations.dns.size() == 1);
    CHECK(results[0].observations.dns[0].answers.at(0).value == "147.92.1.1");
    CHECK(results[0].observations.tcp.at(0).t0_ms == doctest::Approx(1.5));
}

TEST_CASE("reply: hostile or broken answers fail every result with control_bad_reply") {
    std::vector<Target> one = {make_target("line.me", 443, "tls")};
    const std::string bad[] = {
        "",
        "<html>oops</html>",
        "[]",
        R"({"results": 1})",
        R"({"result": []})",
        reply_with(""),
        reply_with(kGoodResult + "," + kGoodResult),
        reply_with("7"),
        reply_with(R"({"target": {"host": "evil.example", "port": 443, "protocol": "tls"}, "observations": {}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 80, "protocol": "tls"}, "observations": {}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tcp"}, "observations": {}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"}, "observations": []})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"},
                       "observations": {"tcp": [{"port": 1e30}]}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"},
                       "observations": {"dns": [{"rcode": 1e300}]}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"},
                       "observations": {"dns": [{"answers": [{"ttl": -1}]}]}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"},
                       "observations": {"tcp": [{"ip": 5}]}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"},
                       "observations": {"tls": "x"}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"},
                       "observations": {"http": [{"headers": [["a", 1]]}]}})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"}, "observations": {},
                       "failure": 3})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"}, "observations": {},
                       "failure": "line one\nline two"})"),
        reply_with(R"({"target": {"host": "line.me", "port": 443, "protocol": "tls"}, "observations": {},
                       "failure": ")" + std::string(500, 'x') + "\"}"),
        std::string(5000, '[') + std::string(5000, ']'),
    };
    for (const auto& body : bad) {
        CAPTURE(body);
        auto results = parse_measure_reply(body, one);
        REQUIRE(results.size() == 1);
        CHECK(results[0].requested);
        REQUIRE(results[0].failure);
        CHECK(results[0].failure->rfind(kBadReplyPrefix, 0) == 0);
        CHECK(results[0].observations.tcp.empty());
    }
}

TEST_CASE("reply: wrong result count names both numbers") {
    auto results = parse_measure_reply(reply_with(kGoodResult),
                                       {make_target("line.me", 443, "tls"), make_target("line.me", 443, "tls")});
    REQUIRE(results.size() == 2);
    CHECK(results[1].failure == std::string(kBadReplyPrefix) + "1 results for 2 targets");
}

TEST_CASE("reply: packets from a control are dropped, failure strings pass through") {
    auto body = reply_with(R"({"target": {"host": "LINE.ME", "port": 443, "protocol": "tls"},
                              "observations": {"packets": [{"kind": "rst"}]}, "failure": "control_deadline_exceeded"})");
    auto results = parse_measure_reply(body, {make_target("line.me", 443, "tls")});
    REQUIRE(results.size() == 1);
    CHECK(results[0].failure == "control_deadline_exceeded");
    CHECK(results[0].observations.packets.empty());
}

TEST_CASE("failed_results") {
    auto r = failed_results(3, "control_http_401");
    REQUIRE(r.size() == 3);
    CHECK(r[2].requested);
    CHECK(r[2].failure == "control_http_401");
}

TEST_CASE("download_url: client request and server reply carry it both ways") {
    Target download = make_target("web.whatsapp.com", 443, "https");
    download.download_url = "https://web.whatsapp.com/download/lab.bin";
    Target plain = make_target("line.me", 443, "tls");
    auto body = measure_request_body({download, plain});
    CHECK(body.find("\"download_url\":\"https://web.whatsapp.com/download/lab.bin\"") != std::string::npos);
    auto request = parse_measure_request(body, 10);
    REQUIRE(request.ok());
    REQUIRE(request.targets.size() == 2);
    CHECK(request.targets[0].download_url == download.download_url);
    CHECK(request.targets[1].download_url.empty());

    ServerResult measured;
    measured.target = request.targets[0];
    HttpObservation http;
    http.url = download.download_url;
    http.throughput_kbps = 16000;
    measured.observations.http.push_back(http);
    ServerResult other;
    other.target = request.targets[1];
    auto reply = measure_reply_body({measured, other});
    CHECK(json::parse(reply)["results"][0]["target"]["download_url"] == download.download_url);
    CHECK(!json::parse(reply)["results"][1]["target"].contains("download_url"));
    auto results = parse_measure_reply(reply, {download, plain});
    REQUIRE(results.size() == 2);
    CHECK(!results[0].failure);
    REQUIRE(results[0].observations.http.size() == 1);
    CHECK(results[0].observations.http[0].throughput_kbps == doctest::Approx(16000));
    CHECK(!results[1].failure);
}

TEST_CASE("download_url: the request refuses anything but a bounded http(s) URL") {
    auto with_download = [](const std::string& download_url_json) {
        return parse_measure_request(
            R"({"targets": [{"host": "web.whatsapp.com", "protocol": "https", "download_url": )" + download_url_json +
                "}]}",
            10);
    };
    CHECK(with_download(R"("http://web.whatsapp.com:8080/x.bin")").ok());
    CHECK(with_download("null").ok());
    CHECK(with_download("null").targets.at(0).download_url.empty());
    std::string long_url = "https://web.whatsapp.com/" + std::string(kMaxDownloadUrlLength, 'a');
    for (const std::string& bad : {std::string("42"), std::string(R"("")"), std::string(R"("ftp://web.whatsapp.com/x")"),
                                  std::string(R"("tls://web.whatsapp.com:443")"), std::string(R"("/download/lab.bin")"),
                                  std::string(R"("https://web.whatsapp.com/a b")"),
                                  std::string(R"("https://web.whatsapp.com@127.0.0.1/")"),
                                  std::string(R"("https://[::1/")"), std::string(R"("https://\u00e9.example/")"),
                                  "\"" + long_url + "\""}) {
        CAPTURE(bad);
        auto r = with_download(bad);
        CHECK(r.status == 400);
        CHECK(r.error.find("targets[0]: download_url") == 0);
    }
}

TEST_CASE("download_url_host: the host the download would be fetched from") {
    CHECK(download_url_host("https://WEB.whatsapp.com/x") == "web.whatsapp.com");
    CHECK(download_url_host("http://[::1]:8080/x") == "::1");
    CHECK(!download_url_host("http://127.1/x"));  // a legacy IPv4 spelling is neither a name nor an address
    CHECK(!download_url_host("ftp://example.com/x"));
    CHECK(!download_url_host("https://user@example.com/x"));
}

TEST_CASE("download_url: an echoed download_url must be the one asked for") {
    Target asked = make_target("web.whatsapp.com", 443, "https");
    asked.download_url = "https://web.whatsapp.com/download/lab.bin";
    auto result = [](const std::string& extra) {
        return reply_with(R"({"target": {"host": "web.whatsapp.com", "port": 443, "protocol": "https")" + extra +
                          R"(}, "observations": {}})");
    };
    CHECK(!parse_measure_reply(result(R"(, "download_url": "https://web.whatsapp.com/download/lab.bin")"), {asked})
               .at(0)
               .failure);
    CHECK(!parse_measure_reply(result(""), {asked}).at(0).failure);  // a control that predates download_url
    CHECK(parse_measure_reply(result(R"(, "download_url": "https://other.example/x")"), {asked}).at(0).failure ==
          std::string(kBadReplyPrefix) + "results[0]: a result's target does not match the request");
    CHECK(parse_measure_reply(result(R"(, "download_url": 7)"), {asked}).at(0).failure.has_value());
}

TEST_CASE("download_url: a URL the server would refuse is left out of the request, not sent") {
    Target t = make_target("web.whatsapp.com", 443, "https");
    t.download_url = "https://web.whatsapp.com/a b";
    auto body = measure_request_body({t});
    CHECK(body.find("download_url") == std::string::npos);
    CHECK(parse_measure_request(body, 10).ok());
}
