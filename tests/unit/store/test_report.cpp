// Reading an uploaded report body: every line through analyze's reader, the
// first bad line named, limits, blank lines, CRLF, NUL bytes, deep JSON.
#include <doctest/doctest.h>

#include <string>

#include "probe/store/report.hpp"

using namespace meoktong::store;

namespace {

std::string record(const std::string& id, const std::string& run_id = "run-1") {
    return R"({"id":")" + id + R"(","run_id":")" + run_id +
           R"(","started_at":"2026-03-01T10:00:00.000Z","vantage":{"label":"kr-1","cc":"KR","asn":"AS4766"},)"
           R"("target":{"service":"line","host":"line.me","protocol":"tls","port":443},)"
           R"("verdict":{"status":"blocked","method":"tls_sni_reset","confidence":0.9,"evidence":["reset"]}})";
}

}  // namespace

TEST_CASE("a report of good lines is read whole, with the first record's run_id") {
    std::string body = record("a") + "\n\n" + record("b", "run-2") + "\r\n";
    Report r;
    auto problem = read_report(body, r);
    REQUIRE_FALSE(problem);
    REQUIRE(r.records.size() == 2);
    CHECK(r.run_id == "run-1");
    CHECK(r.records[0].line_no == 1);
    CHECK(r.records[1].line_no == 3);  // the blank line counts
    CHECK(r.records[1].line.back() == '}');  // "\r" dropped
    CHECK(r.records[0].fields.service == "line");
    CHECK(r.records[0].fields.cc == "KR");
    CHECK(r.records[1].fields.run_id == "run-2");
    CHECK(r.run_ids == std::vector<std::string>{"run-1", "run-2"});
}

TEST_CASE("every distinct run_id of a report is listed once, first seen first, empty ones left out") {
    std::string body = record("a", "run-b") + "\n" + record("b", "") + "\n" + record("c", "run-a") + "\n" +
                       record("d", "run-b") + "\n";
    Report r;
    REQUIRE_FALSE(read_report(body, r));
    CHECK(r.run_id == "run-b");
    CHECK(r.run_ids == std::vector<std::string>{"run-b", "run-a"});
}

TEST_CASE("the first bad line is named and nothing is kept") {
    std::string body = record("a") + "\n" + record("b") + "\n{\"id\":\"c\"}\n" + "not json\n";
    Report r;
    auto problem = read_report(body, r);
    REQUIRE(problem);
    CHECK(problem->line_no == 3);
    CHECK(problem->describe() == "line 3: no verdict.status");
    CHECK_FALSE(problem->too_large);
    CHECK(r.records.empty());
}

TEST_CASE("an empty body, NUL bytes and deep JSON are refused, never a crash") {
    Report r;
    auto empty = read_report("\n \n", r);
    REQUIRE(empty);
    CHECK(empty->describe() == "no records");

    std::string with_nul = record("a");
    with_nul.insert(10, 1, '\0');
    auto nul = read_report(with_nul, r);
    REQUIRE(nul);
    CHECK(nul->describe().rfind("line 1: not JSON", 0) == 0);

    std::string deep(200000, '[');
    auto too_deep = read_report(deep, r);
    REQUIRE(too_deep);
    CHECK(too_deep->line_no == 1);
}

TEST_CASE("more than kMaxReportRecords records is too large") {
    std::string line = record("a") + "\n";
    std::string body;
    body.reserve(line.size() * (kMaxReportRecords + 1));
    for (size_t i = 0; i <= kMaxReportRecords; ++i) body += line;
    Report r;
    auto problem = read_report(body, r);
    REQUIRE(problem);
    CHECK(problem->too_large);
    CHECK(problem->describe() == "more than 100000 records");
}
