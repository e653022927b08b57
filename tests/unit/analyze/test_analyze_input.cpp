// meoktong analyze's input side: the SAX report-line reader, UTC times,
// malformed lines counted (never fatal), filters, bounded memory per cell,
// and escaping of hostile report text in Markdown and HTML.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/incident.hpp"
#include "analysis/analyze/render.hpp"
#include "meoktong/target.hpp"

using namespace meoktong::analyze;
using nlohmann::json;

namespace {

json sample_record() {
    return json::parse(R"({
      "schema": "meoktong.measurement/v1", "id": "m-1", "run_id": "r-1",
      "vantage": {"label": "seoul-kt-1", "cc": "KR", "asn": "AS4766"},
      "started_at": "2026-11-22T03:00:00.123Z", "runtime_ms": 812,
      "target": {"service": "line", "host": "line.me", "port": 443, "protocol": "tls", "extra": {"a": [1, {"b": 2}]}},
      "observations": {"dns": [{"failure": null}], "tcp": [], "tls": [{"failure": "connection_reset"}], "http": [], "packets": []},
      "control": {"requested": true, "failure": null,
                  "observations": {"dns": [{"failure": null}], "tcp": [{"failure": null}], "tls": [{"failure": null}], "http": []}},
      "verdict": {"status": "blocked", "method": "tls_sni_reset", "confidence": 0.9,
                  "evidence": ["a reset followed the ClientHello", "second sentence"]}
    })");
}

std::string line_of(const json& j) { return j.dump(); }

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/meoktong-analyze-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

}  // namespace

TEST_CASE("the SAX reader keeps the fields analysis needs") {
    ReportLine r;
    std::string why;
    REQUIRE(read_report_line(line_of(sample_record()), r, why));
    CHECK(r.id == "m-1");
    CHECK(r.vantage_label == "seoul-kt-1");
    CHECK(r.cc == "KR");
    CHECK(r.asn == "AS4766");
    CHECK(r.service == "line");
    CHECK(r.host == "line.me");
    CHECK(r.port == 443);
    CHECK(r.protocol == "tls");
    CHECK(r.verdict == meoktong::VerdictStatus::blocked);
    CHECK(r.method == "tls_sni_reset");
    CHECK(r.confidence == doctest::Approx(0.9));
    CHECK(r.first_evidence == "a reset followed the ClientHello");
    CHECK(r.control_view() == ControlView::saw_target);
    CHECK(r.started_ms == *parse_utc_time("2026-11-22T03:00:00.123Z"));
}

TEST_CASE("what the control saw: its deepest step decides") {
    json j = sample_record();
    ReportLine r;
    std::string why;
    j["control"]["observations"]["tls"][0]["failure"] = "generic_timeout_error";
    REQUIRE(read_report_line(line_of(j), r, why));
    CHECK(r.control_view() == ControlView::failed);
    j["control"]["observations"]["http"] = json::array({{{"failure", nullptr}, {"status", 503}}});
    REQUIRE(read_report_line(line_of(j), r, why));
    CHECK(r.control_view() == ControlView::failed);
    j["control"]["observations"]["http"][0]["status"] = 200;
    REQUIRE(read_report_line(line_of(j), r, why));
    CHECK(r.control_view() == ControlView::saw_target);
    j["control"]["failure"] = "control_unreachable";
    REQUIRE(read_report_line(line_of(j), r, why));
    CHECK(r.control_view() == ControlView::none);
}

TEST_CASE("lines that are not usable records are refused with a reason") {
    ReportLine r;
    std::string why;
    CHECK_FALSE(read_report_line("not json", r, why));
    CHECK(why.rfind("not JSON", 0) == 0);
    CHECK_FALSE(read_report_line("[1, 2]", r, why));
    CHECK_FALSE(read_report_line("42", r, why));
    CHECK_FALSE(read_report_line(R"({"verdict": {"status": "blocked"}})", r, why));
    json j = sample_record();
    j["verdict"]["status"] = "on_fire";
    CHECK_FALSE(read_report_line(line_of(j), r, why));
    CHECK(why == "unknown verdict.status");
    j = sample_record();
    j["started_at"] = "yesterday";
    CHECK_FALSE(read_report_line(line_of(j), r, why));
    std::string truncated = line_of(sample_record());
    truncated.resize(truncated.size() / 2);
    CHECK_FALSE(read_report_line(truncated, r, why));
    CHECK_FALSE(read_report_line(line_of(sample_record()) + " trailing", r, why));
}

TEST_CASE("UTC times in and out") {
    CHECK(parse_utc_time("1970-01-01") == 0);
    CHECK(parse_utc_time("1970-01-01T00:01") == 60000);
    CHECK(parse_utc_time("1970-01-01T00:00:01.5Z") == 1500);
    CHECK(parse_utc_time("1970-01-01T09:00:00+09:00") == 0);
    CHECK(parse_utc_time("2014-07-02T03:00:00Z") == parse_utc_time("2014-07-02 03:00"));
    CHECK_FALSE(parse_utc_time("2014-13-02"));
    CHECK_FALSE(parse_utc_time("2014-07-02T25:00"));
    CHECK_FALSE(parse_utc_time("2014-07-02Tnoon"));
    CHECK_FALSE(parse_utc_time(""));
    CHECK(iso_time(*parse_utc_time("2022-10-15T06:30:05.999Z")) == "2022-10-15T06:30:05Z");
    CHECK(display_time(*parse_utc_time("2022-10-15T06:30:05Z")) == "2022-10-15 06:30 UTC");
}

TEST_CASE("malformed lines are counted per file with their line numbers, never fatal") {
    TempDir dir;
    std::string good = line_of(sample_record());
    dir.write("a.jsonl", good + "\n{broken\n\n" + good + "\n[]\n" + good.substr(0, 40));  // last line unterminated
    dir.write("notes.txt", "not a report\n");
    Aggregator agg(Options{});
    auto files = read_inputs({dir.path.string()}, agg);
    REQUIRE(files.size() == 1);  // only *.jsonl inside a directory
    CHECK(files[0].records == 2);
    CHECK(files[0].malformed == 3);
    REQUIRE(files[0].first_malformed.size() == 3);
    CHECK(files[0].first_malformed[0].first == 2);
    CHECK(files[0].first_malformed[1].first == 5);
    CHECK(files[0].first_malformed[2].first == 6);
    Analysis a = build_analysis(agg, std::move(files));
    json out = json::parse(render_json(a));
    CHECK(out["inputs"]["malformed"] == 3);
    CHECK(out["inputs"]["records"] == 2);
    CHECK(out["inputs"]["files"][0]["malformed_lines"][0]["line"] == 2);
    CHECK(render_markdown(a).find("3 malformed lines") != std::string::npos);
}

TEST_CASE("an unreadable path is a one-line input error") {
    Aggregator agg(Options{});
    CHECK_THROWS_AS(read_inputs({"/nonexistent/reports.jsonl"}, agg), meoktong::InputError);
}

TEST_CASE("memory grows with cells, not with records: repeated records share one cell") {
    Aggregator agg(Options{});
    InputFile file;
    json j = sample_record();
    for (int i = 0; i < 500; ++i) {
        j["id"] = "m-" + std::to_string(i);
        agg.add_line(line_of(j), uint64_t(i + 1), file);
    }
    CHECK(file.records == 500);
    REQUIRE(agg.cells().size() == 1);
    const Cell& cell = agg.cells().begin()->second;
    CHECK(cell.statuses[int(meoktong::VerdictStatus::blocked)] == 500);
    CHECK(cell.examples.size() <= kFailingExamples + kWorkingExamples);
}

TEST_CASE("filters: time range and service") {
    Options options;
    options.from_ms = parse_utc_time("2026-11-22T02:00");
    options.to_ms = parse_utc_time("2026-11-22T03:00");
    options.services = {"line"};
    Aggregator agg(options);
    InputFile file;
    json j = sample_record();
    agg.add_line(line_of(j), 1, file);  // 03:00:00.123: after --to
    j["started_at"] = "2026-11-22T02:30:00Z";
    agg.add_line(line_of(j), 2, file);
    j["target"]["service"] = "whatsapp";
    agg.add_line(line_of(j), 3, file);
    CHECK(file.records == 1);
    CHECK(file.filtered_out == 2);
}

TEST_CASE("hostile text from reports is escaped in Markdown and HTML") {
    Options options;
    Aggregator agg(options);
    InputFile file;
    json j = sample_record();
    j["target"]["service"] = "<script>alert(1)</script>";
    j["vantage"]["label"] = "\"><img src=x onerror=alert(2)>";
    j["verdict"]["evidence"] = {"</td><script>alert(3)</script> [link](javascript:alert(4))"};
    j["id"] = "<b>id</b>";
    // Enough vantages for an incident: blocked here, working in JP.
    agg.add_line(line_of(j), 1, file);
    json ok = sample_record();
    ok["vantage"] = {{"label", "jp"}, {"cc", "JP"}, {"asn", "AS2497"}};
    ok["target"]["service"] = j["target"]["service"];
    ok["verdict"] = {{"status", "accessible"}, {"evidence", json::array()}};
    agg.add_line(line_of(ok), 2, file);
    Analysis a = build_analysis(agg, {file});
    REQUIRE(a.incidents.size() == 1);
    std::string html = render_html(a), md = render_markdown(a);
    for (const std::string& out : {html, md}) {
        CHECK(out.find("<script>") == std::string::npos);
        CHECK(out.find("<img") == std::string::npos);
    }
    CHECK(html.find("<b>id") == std::string::npos);
    CHECK(md.find("<b>id") == md.find("`<b>id</b>`") + 1);  // only inside a code span, where it is literal text
    CHECK(md.find("[link](") == std::string::npos);         // no link can be made
    CHECK(html.find("&lt;script&gt;alert(1)") != std::string::npos);
    CHECK(json::parse(render_json(a))["incidents"][0]["service"] == "<script>alert(1)</script>");
}
