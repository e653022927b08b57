// The collector's status page and Atom feed from a hand-made analysis: the
// state per country and service, everything from reports escaped, an entry
// per incident start and end with stable ids.
#include <doctest/doctest.h>

#include "probe/collector/live_view.hpp"

using namespace meoktong;

namespace {

// A national censorship incident of LINE in CN, times and texts left to the caller.
analyze::Incident line_censored_in_cn() {
    analyze::Incident i;
    i.service = "line";
    i.classification = "censorship";
    i.scope = "national";
    i.country = "CN";
    return i;
}

analyze::Analysis one_censorship_incident(bool ongoing) {
    analyze::Analysis a;
    a.totals.records = 40;
    a.first_record_ms = 1'700'000'000'000;
    a.last_record_ms = 1'700'000'900'000;
    analyze::ServiceTimeline line;
    line.service = "line";
    line.rows.push_back({{"cn-beijing-ct", "CN", "AS4134"}, {"accessible", "blocked"}, 1'700'000'900'000, "blocked"});
    line.rows.push_back({{"kr-seoul-kt", "KR", "AS4766"}, {"accessible", "accessible"}, 1'700'000'900'000, "accessible"});
    a.services.push_back(line);
    analyze::ServiceTimeline kakao;
    kakao.service = "kakaotalk";
    kakao.rows.push_back({{"kr-seoul-kt", "KR", "AS4766"}, {"", "accessible"}, 1'700'000'900'000, "accessible"});
    a.services.push_back(kakao);
    analyze::Incident i = line_censored_in_cn();
    i.onset_ms = 1'700'000'300'000;
    i.last_failure_ms = 1'700'000'900'000;
    i.ongoing = ongoing;
    if (!ongoing) i.end_ms = 1'700'000'950'000;
    i.dominant_method = "tls_sni_reset";
    i.headline = "LINE <blocked> in CN & \"more\"";
    i.evidence.push_back({"a reset after the ClientHello <script>alert(1)</script>", {}});
    a.incidents.push_back(i);
    return a;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// 2014 and 2024 in one store, as the SPEC §1 replays are: LINE blocked in CN
// when CN was last measured (2014-07-03), KR measured until 2024-05-13 06:00.
analyze::Analysis years_apart(bool ongoing_as_analyze_said) {
    analyze::Analysis a;
    a.totals.records = 400;
    a.first_record_ms = *analyze::parse_utc_time("2014-07-01T12:00Z");
    a.last_record_ms = *analyze::parse_utc_time("2024-05-13T06:00Z");
    analyze::ServiceTimeline line;
    line.service = "line";
    line.rows.push_back({{"cn-beijing-ct", "CN", "AS4134"}, {"blocked", ""}, *analyze::parse_utc_time("2014-07-03T12:00Z"), "blocked"});
    line.rows.push_back({{"kr-seoul-kt", "KR", "AS4766"}, {"accessible", "accessible"}, *a.last_record_ms, "accessible"});
    a.services.push_back(line);
    analyze::Incident old = line_censored_in_cn();
    old.countries = {"CN"};
    old.onset_ms = *analyze::parse_utc_time("2014-07-02T04:00Z");
    old.last_failure_ms = *analyze::parse_utc_time("2014-07-03T12:00Z");
    old.ongoing = ongoing_as_analyze_said;
    old.dominant_method = "dns_injection";
    old.headline = "LINE blocked in CN";
    a.incidents.push_back(old);
    return a;
}

}  // namespace

TEST_CASE("status page: the state now per country and service, escaped") {
    std::string page = collector::render_status_page(one_censorship_incident(true));
    CHECK(page.find("blocked (tls_sni_reset)") != std::string::npos);
    CHECK(page.find("<td>CN</td><td>KakaoTalk</td><td class=\"state no_data\">no data</td>") != std::string::npos);
    CHECK(page.find("<td>KR</td><td>LINE</td><td class=\"state accessible\">accessible</td>") != std::string::npos);
    CHECK(page.find("LINE &lt;blocked&gt; in CN &amp; &quot;more&quot;") != std::string::npos);
    CHECK(page.find("<script") == std::string::npos);
    CHECK(page.find("cn-beijing-ct") == std::string::npos);  // no vantage label of its own making
    CHECK(page.find("<td class=\"state blocked\">blocked (tls_sni_reset)</td>") != std::string::npos);
    CHECK(page.find("and still blocked at the last measurement, 2023-11-14 22:28 UTC") != std::string::npos);
    // Its bar on the timeline of the last days: onset at a third of the span, ongoing to its end; dated with the year.
    CHECK(count(page, "<div class=\"track\"") == 1);
    CHECK(page.find("style=\"left:33.3%;width:66.7%\"") != std::string::npos);
    CHECK(page.find("<div class=\"axis\"><span>2023-11-14 22:13 UTC</span>") != std::string::npos);
}

TEST_CASE("status page: a state measured years before the newest measurement is not now") {
    for (bool ongoing : {false, true}) {
        CAPTURE(ongoing);
        std::string page = collector::render_status_page(years_apart(ongoing));
        CHECK(page.find("<td>CN</td><td>LINE</td><td class=\"state stale\">last measured 2014-07-03 12:00 UTC: "
                        "blocked (dns_injection)</td><td>2014-07-02 04:00 UTC</td>") != std::string::npos);
        CHECK(page.find("state blocked") == std::string::npos);
        CHECK(page.find("<td>KR</td><td>LINE</td><td class=\"state accessible\">accessible</td>") != std::string::npos);
        CHECK(page.find("As of the newest measurement here, 2024-05-13 06:00 UTC.") != std::string::npos);
        CHECK(page.find("<article") == std::string::npos);  // not among the last 7 days' incidents
    }
}

TEST_CASE("status page: a bar ends at the incident's last measurement, and says whether it was still failing") {
    analyze::Analysis a = years_apart(false);
    analyze::Incident recent = a.incidents.front();
    recent.onset_ms = *a.last_record_ms - int64_t(3) * 24 * 3'600'000;       // 4/7 of the span
    recent.last_failure_ms = *a.last_record_ms - int64_t(1) * 24 * 3'600'000;  // 6/7 of it: then CN was no longer measured
    recent.headline = "LINE blocked in CN again";
    a.incidents.push_back(recent);
    std::string page = collector::render_status_page(a);
    CHECK(count(page, "<article") == 1);
    CHECK(page.find("style=\"left:57.1%;width:28.6%\"") != std::string::npos);
    CHECK(page.find("and still blocked when last measured, 2024-05-12 06:00 UTC") != std::string::npos);
    // Ongoing as analyze says (failing within its 6 hours of the end): the bar still ends at the last failure.
    a.incidents.back().ongoing = true;
    a.incidents.back().last_failure_ms = *a.last_record_ms - 3'600'000;
    page = collector::render_status_page(a);
    CHECK(page.find("style=\"left:57.1%;width:42.3%\"") != std::string::npos);
    CHECK(page.find("and still blocked at the last measurement, 2024-05-13 05:00 UTC") != std::string::npos);
}

TEST_CASE("Atom feed: a start entry per incident and an end entry once it ended") {
    std::string ongoing = collector::render_atom_feed(one_censorship_incident(true));
    CHECK(count(ongoing, "<entry>") == 1);
    CHECK(ongoing.find("<id>urn:meoktong:incident:line:censorship:national:CN:1700000300000:start</id>") !=
          std::string::npos);
    CHECK(ongoing.find("Not seen ending: still blocked at the last measurement, ") != std::string::npos);
    std::string ended = collector::render_atom_feed(one_censorship_incident(false));
    CHECK(count(ended, "<entry>") == 2);
    CHECK(ended.find("Not seen ending") == std::string::npos);
    CHECK(ended.find(":end</id>") < ended.find(":start</id>"));  // newest first
    CHECK(ended.find("&lt;script&gt;") != std::string::npos);
    CHECK(ended.find("<script") == std::string::npos);
}
