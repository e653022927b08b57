// The collector's status page and Atom feed from a hand-made analysis: the
// state per country and service, everything from reports escaped, an entry
// per incident start and end with stable ids.
#include <doctest/doctest.h>

#include "probe/collector/live_view.hpp"

using namespace meoktong;

namespace {

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
    analyze::Incident i;
    i.service = "line";
    i.classification = "censorship";
    i.scope = "national";
    i.country = "CN";
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

}  // namespace

TEST_CASE("status page: the state now per country and service, escaped") {
    std::string page = collector::render_status_page(one_censorship_incident(true));
    CHECK(page.find("blocked (tls_sni_reset)") != std::string::npos);
    CHECK(page.find("<td>CN</td><td>KakaoTalk</td><td class=\"state no_data\">no data</td>") != std::string::npos);
    CHECK(page.find("<td>KR</td><td>LINE</td><td class=\"state accessible\">accessible</td>") != std::string::npos);
    CHECK(page.find("LINE &lt;blocked&gt; in CN &amp; &quot;more&quot;") != std::string::npos);
    CHECK(page.find("<script") == std::string::npos);
    CHECK(page.find("cn-beijing-ct") == std::string::npos);  // no vantage label of its own making
    CHECK(page.find("still failing at the last measurement") != std::string::npos);
    // Its bar on the timeline of the last days: onset at a third of the span, ongoing to its end; dated with the year.
    CHECK(count(page, "<div class=\"track\"") == 1);
    CHECK(page.find("style=\"left:33.3%;width:66.7%\"") != std::string::npos);
    CHECK(page.find("<div class=\"axis\"><span>2023-11-14 22:13 UTC</span>") != std::string::npos);
}

TEST_CASE("Atom feed: a start entry per incident and an end entry once it ended") {
    std::string ongoing = collector::render_atom_feed(one_censorship_incident(true));
    CHECK(count(ongoing, "<entry>") == 1);
    CHECK(ongoing.find("<id>urn:meoktong:incident:line:censorship:national:CN:1700000300000:start</id>") !=
          std::string::npos);
    std::string ended = collector::render_atom_feed(one_censorship_incident(false));
    CHECK(count(ended, "<entry>") == 2);
    CHECK(ended.find(":end</id>") < ended.find(":start</id>"));  // newest first
    CHECK(ended.find("&lt;script&gt;") != std::string::npos);
    CHECK(ended.find("<script") == std::string::npos);
}
