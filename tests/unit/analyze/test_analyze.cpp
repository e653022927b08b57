// meoktong analyze on the replayed events of SPEC §1 (tests/data/analyze/,
// made by scripts/gen-reports --scenario): each must yield the right incident
// classification, scope, onset and end in JSON, and its headline in Markdown
// and HTML.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/incident.hpp"
#include "analysis/analyze/render.hpp"

using namespace meoktong::analyze;
using nlohmann::json;

namespace {

Analysis analyze_fixture(const std::string& name, int window_minutes = 15) {
    Options options;
    options.window_minutes = window_minutes;
    Aggregator agg(options);
    auto files = read_inputs({std::string(MEOKTONG_TEST_DATA) + "/analyze/" + name}, agg);
    return build_analysis(agg, std::move(files));
}

json incidents_of(const Analysis& a) { return json::parse(render_json(a)).at("incidents"); }

std::vector<std::string> strings(const json& j) { return j.get<std::vector<std::string>>(); }

// The headline must reach the newsroom and the browser too.
void check_headlines_rendered(const Analysis& a) {
    std::string md = render_markdown(a), html = render_html(a);
    for (const Incident& inc : a.incidents) {
        CHECK(md.find(inc.headline) != std::string::npos);
        CHECK(html.find(inc.headline) != std::string::npos);
        CHECK(html.find("id=\"" + inc.id + "\"") != std::string::npos);
    }
}

}  // namespace

TEST_CASE("China 2014: LINE and KakaoTalk blocked across three Chinese networks is national censorship") {
    Analysis a = analyze_fixture("china2014");
    json incidents = incidents_of(a);
    REQUIRE(incidents.size() == 2);
    std::set<std::string> services;
    for (const json& inc : incidents) {
        services.insert(inc["service"]);
        CHECK(inc["classification"] == "censorship");
        CHECK(inc["scope"] == "national");
        CHECK(inc["country"] == "CN");
        CHECK(inc["onset"].get<std::string>().rfind("2014-07-02T04:00:", 0) == 0);
        CHECK(inc["ongoing"] == true);
        CHECK(inc["end"].is_null());
        CHECK(strings(inc["networks"]) == std::vector<std::string>{"AS4134", "AS4837", "AS9808"});
        CHECK(strings(inc["working_countries"]) == std::vector<std::string>{"JP", "KR"});
        CHECK(inc["methods"].contains("dns_injection"));
        CHECK(inc["methods"].contains("tls_sni_reset"));
        CHECK(inc["controls"]["saw_target"].get<int>() > 0);
        CHECK(inc["controls"]["failed"] == 0);
        CHECK(inc["endpoints"].size() == 2);
        CHECK(inc["confidence"].get<double>() >= 0.7);
        CHECK(inc["evidence"][0]["measurements"].size() > 0);
    }
    CHECK(services == std::set<std::string>{"kakaotalk", "line"});
    CHECK(a.incidents[0].summary.find("while it worked from JP and KR") != std::string::npos);
    check_headlines_rendered(a);
}

TEST_CASE("Kakao 2022 fire: KakaoTalk and Daum down from every country, controls too, is a provider outage") {
    Analysis a = analyze_fixture("kakao2022");
    json incidents = incidents_of(a);
    REQUIRE(incidents.size() == 2);
    std::set<std::string> services;
    for (const json& inc : incidents) {
        services.insert(inc["service"]);
        CHECK(inc["classification"] == "provider_outage");
        CHECK(inc["scope"] == "service");
        CHECK(inc["country"].is_null());
        CHECK(inc["onset"].get<std::string>().rfind("2022-10-15T06:30:", 0) == 0);
        CHECK(inc["end"].get<std::string>().rfind("2022-10-15T16:30:", 0) == 0);
        CHECK(inc["ongoing"] == false);
        CHECK(strings(inc["countries"]) == std::vector<std::string>{"JP", "KR", "US"});
        CHECK(inc["controls"]["failed"].get<int>() > 0);
        CHECK(inc["controls"]["saw_target"] == 0);
        CHECK(inc["endpoints_unaffected"].empty());
    }
    CHECK(services == std::set<std::string>{"daum", "kakaotalk"});  // LINE kept working: no incident
    check_headlines_rendered(a);
}

TEST_CASE("2024-style outage of one KakaoTalk endpoint is that endpoint's provider outage only") {
    Analysis a = analyze_fixture("kakao2024");
    json incidents = incidents_of(a);
    REQUIRE(incidents.size() == 1);
    const json& inc = incidents[0];
    CHECK(inc["classification"] == "provider_outage");
    CHECK(inc["scope"] == "endpoint");
    CHECK(inc["service"] == "kakaotalk");
    CHECK(strings(inc["endpoints"]) == std::vector<std::string>{"https://katalk.kakao.com:443"});
    CHECK(strings(inc["endpoints_unaffected"]) ==
          std::vector<std::string>{"tcp://ticket-loco.kakao.com:995", "tls://booking-loco.kakao.com:443"});
    CHECK(inc["onset"].get<std::string>().rfind("2024-05-13T05:00:", 0) == 0);
    CHECK(inc["end"].get<std::string>().rfind("2024-05-13T05:30:", 0) == 0);
    CHECK(inc["duration_minutes"] == 30);
    check_headlines_rendered(a);
}

TEST_CASE("Korean SNI filtering of one site on one ISP is ISP-level censorship") {
    Analysis a = analyze_fixture("kr-sni");
    json incidents = incidents_of(a);
    REQUIRE(incidents.size() == 1);
    const json& inc = incidents[0];
    CHECK(inc["classification"] == "censorship");
    CHECK(inc["scope"] == "isp");
    CHECK(inc["country"] == "KR");
    CHECK(strings(inc["networks"]) == std::vector<std::string>{"AS4766"});
    CHECK(inc["dominant_method"] == "tls_sni_reset");
    CHECK(inc["onset"] == "2021-03-01T01:00:00Z");
    CHECK(inc["ongoing"] == true);
    check_headlines_rendered(a);
}

TEST_CASE("one vantage's uplink down is a local failure, not an incident of the services") {
    Analysis a = analyze_fixture("local");
    json incidents = incidents_of(a);
    REQUIRE(incidents.size() == 1);
    const json& inc = incidents[0];
    CHECK(inc["classification"] == "local");
    CHECK(inc["scope"] == "vantage");
    CHECK(inc["service"].is_null());
    REQUIRE(inc["vantages"].size() == 1);
    CHECK(inc["vantages"][0]["label"] == "kr-busan-skb");
    CHECK(inc["onset"] == "2023-06-10T02:00:00Z");
    CHECK(inc["end"].get<std::string>().rfind("2023-06-10T03:00:", 0) == 0);
    check_headlines_rendered(a);
}

TEST_CASE("a wider window does not change the China 2014 classification") {
    Analysis a = analyze_fixture("china2014", 60);
    REQUIRE(a.incidents.size() == 2);
    for (const Incident& inc : a.incidents) {
        CHECK(inc.classification == "censorship");
        CHECK(inc.scope == "national");
    }
}

TEST_CASE("timelines: one row per vantage, failing windows coloured by status") {
    Analysis a = analyze_fixture("kakao2024");
    auto kakao = std::find_if(a.services.begin(), a.services.end(), [](const ServiceTimeline& s) { return s.service == "kakaotalk"; });
    REQUIRE(kakao != a.services.end());
    CHECK(kakao->rows.size() == 3);
    CHECK(kakao->column_minutes == 15);
    // 04:30 .. 06:00 is 7 windows; 05:00-05:30 (windows 2 and 3) one endpoint of three failed.
    REQUIRE(kakao->columns == 7);
    for (const TimelineRow& row : kakao->rows) {
        CHECK(row.cells[0] == "accessible");
        CHECK(row.cells[2] == "partial");
        CHECK(row.cells[3] == "partial");
        CHECK(row.cells[4] == "accessible");
    }
    std::string html = render_html(a);
    CHECK(html.find("<svg") != std::string::npos);
    CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // the SVG namespace is the only URL
}

TEST_CASE("an incident whose vantages stopped measuring years before the data ends is not ongoing") {
    // china2014 and kakao2024 in one analysis, as a store holding both replays: LINE's gd2.line.naver.jp was
    // measured in 2014 only, KakaoTalk's endpoints again in 2024 (not from CN). Neither CN incident is ongoing
    // at the end of the data (2024-05-13); each was still failing when CN was last measured.
    Aggregator agg(Options{});
    std::string data = std::string(MEOKTONG_TEST_DATA) + "/analyze/";
    Analysis a = build_analysis(agg, read_inputs({data + "china2014", data + "kakao2024"}, agg));
    size_t in_cn = 0;
    for (const Incident& inc : a.incidents) {
        if (inc.country != "CN") continue;
        ++in_cn;
        CAPTURE(inc.service);
        CHECK(inc.classification == "censorship");
        CHECK_FALSE(inc.ongoing);
        CHECK_FALSE(inc.end_ms.has_value());
        CHECK(iso_time(inc.last_failure_ms).rfind("2014-07-03T12:00:", 0) == 0);
        CHECK(inc.summary.find("still failing when last measured (2014-07-03 12:00 UTC") != std::string::npos);
    }
    CHECK(in_cn == 2);
    // Each timeline row says when its vantage last measured the service, and the state then.
    auto line = std::find_if(a.services.begin(), a.services.end(), [](const ServiceTimeline& s) { return s.service == "line"; });
    REQUIRE(line != a.services.end());
    for (const TimelineRow& row : line->rows) {
        CAPTURE(row.vantage.label);
        CHECK(iso_time(row.last_measured_ms).rfind("2014-07-03T12:00:", 0) == 0);
        CHECK(row.last_state == (row.vantage.cc == "CN" ? "blocked" : "accessible"));
    }
}
