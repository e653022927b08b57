// Report naming and retention: keeps N days / N MB, never today's report,
// never a file outside the naming scheme.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "probe/run/report_writer.hpp"
#include "probe/ops/retention.hpp"

using namespace meoktong;
namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

// 2026-11-22T15:00:00Z
const system_clock::time_point kNow = system_clock::from_time_t(1795359600);

fs::path fresh_dir() {
    fs::path dir = fs::temp_directory_path() / ("meoktong-retention-test-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string write_fake_report(const fs::path& dir, system_clock::time_point started, size_t bytes,
                         const std::string& run_id) {
    std::string name = report_file_name(started, "seoul-kt-1", run_id);
    std::ofstream(dir / name) << std::string(bytes, 'x');
    return name;
}

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

}  // namespace

TEST_CASE("report names sort by time, then vantage, and parse back") {
    std::string name = report_file_name(kNow, "seoul kt_1", "2b1c0a6e-1f2d-4c3b-9a8e-0123456789ab");
    CHECK(name == "20261122T150000Z_seoul_kt_1_2b1c0a6e.jsonl");
    auto parsed = parse_report_file_name(name);
    REQUIRE(parsed);
    CHECK(parsed->day == "20261122");
    CHECK(parsed->vantage == "seoul_kt_1");
    CHECK(parsed->run_id == "2b1c0a6e");
    CHECK(parsed->started == kNow);
    CHECK(report_file_name(kNow - hours(1), "z", "r") < report_file_name(kNow, "a", "r"));
    CHECK(report_file_name(kNow, "", "") == "20261122T150000Z_probe_run.jsonl");
}

TEST_CASE("names outside the scheme are not reports") {
    const char* others[] = {
        "20261122T150000Z_seoul_run.jsonl.tmp",  ".20261122T150000Z_seoul_run.jsonl.tmp",
        "20261122T150000Z_seoul_run.json",       "notes.jsonl",
        "20261322T150000Z_seoul_run.jsonl",      "20261122T250000Z_seoul_run.jsonl",
        "20261131T150000Z_seoul_run.jsonl",      "20261122T150000_seoul_run.jsonl",
        "20261122T150000Z_seoul.jsonl",          "20261122T150000Z__run.jsonl",
        "20261122T150000Z_se/oul_run.jsonl",     ".meoktong.lock",
    };
    for (const char* name : others) {
        CAPTURE(name);
        CHECK(!parse_report_file_name(name));
    }
}

TEST_CASE("days: old reports go, recent ones and other files stay") {
    auto dir = fresh_dir();
    auto old1 = write_fake_report(dir, kNow - hours(24 * 10), 10, "a");
    auto old2 = write_fake_report(dir, kNow - hours(24 * 8), 10, "b");
    auto recent = write_fake_report(dir, kNow - hours(24 * 2), 10, "c");
    auto today = write_fake_report(dir, kNow - hours(1), 10, "d");
    std::ofstream(dir / ".meoktong.lock") << "1";
    std::ofstream(dir / (old1 + ".tmp")) << "partial";   // temp file of a run: untouched
    std::ofstream(dir / "operator-notes.jsonl") << "{}";
    fs::create_directories(dir / "upload" / "pending");
    std::ofstream(dir / "upload" / "pending" / old1) << "queued";

    auto result = apply_retention(dir.string(), {7, std::nullopt}, kNow);
    CHECK(result.removed.size() == 2);
    CHECK(result.errors.empty());
    auto left = names_in(dir);
    CHECK(left == std::set<std::string>{recent, today, ".meoktong.lock", old1 + ".tmp", "operator-notes.jsonl",
                                        "upload"});
    CHECK(fs::exists(dir / "upload" / "pending" / old1));
    CHECK(result.kept_bytes == 20);
    (void)old2;
    fs::remove_all(dir);
}

TEST_CASE("megabytes: the oldest go first until the rest fits") {
    auto dir = fresh_dir();
    const size_t mb = 1024 * 1024;
    auto a = write_fake_report(dir, kNow - hours(24 * 3), mb, "a");
    auto b = write_fake_report(dir, kNow - hours(24 * 2), mb, "b");
    auto c = write_fake_report(dir, kNow - hours(24 * 1), mb, "c");
    auto result = apply_retention(dir.string(), {std::nullopt, 2}, kNow);
    CHECK(result.removed == std::vector<std::string>{(dir / a).string()});
    CHECK(names_in(dir) == std::set<std::string>{b, c});
    CHECK(result.kept_bytes == static_cast<int64_t>(2 * mb));
    fs::remove_all(dir);
}

TEST_CASE("today's reports are never deleted, even over the size limit") {
    auto dir = fresh_dir();
    const size_t mb = 1024 * 1024;
    auto yesterday = write_fake_report(dir, kNow - hours(20), mb, "y");   // 2026-11-21T19:00Z
    auto morning = write_fake_report(dir, kNow - hours(14), mb, "m");     // 2026-11-22T01:00Z
    auto now = write_fake_report(dir, kNow, 2 * mb, "n");
    auto result = apply_retention(dir.string(), {1, 1}, kNow);
    CHECK(names_in(dir) == std::set<std::string>{morning, now});
    CHECK(result.removed.size() == 1);
    (void)yesterday;
    fs::remove_all(dir);
}

TEST_CASE("an empty policy deletes nothing") {
    auto dir = fresh_dir();
    write_fake_report(dir, kNow - hours(24 * 400), 10, "a");
    auto result = apply_retention(dir.string(), {}, kNow);
    CHECK(result.removed.empty());
    CHECK(names_in(dir).size() == 1);
    fs::remove_all(dir);
}

TEST_CASE("the naming scheme is the one the report writer uses") {
    auto dir = fresh_dir();
    const char* labels[] = {"seoul-kt-1", "Seoul KT/1", "", "a_b.c"};
    for (const char* label : labels) {
        CAPTURE(label);
        std::string path = prepare_report_path(dir.string(), label, "0f1e2d3c-aaaa-4bbb-8ccc-dddddddddddd", kNow);
        std::string name = fs::path(path).filename().string();
        CHECK(name == report_file_name(kNow, label, "0f1e2d3c-aaaa-4bbb-8ccc-dddddddddddd"));
        CHECK(parse_report_file_name(name).has_value());
    }
    fs::remove_all(dir);
}

TEST_CASE("stale temp files of killed runs go; fresh ones and other hidden files stay") {
    auto dir = fresh_dir();
    std::string report = report_file_name(kNow, "v", "r");
    fs::path stale = dir / ("." + report + ".tmp-AbC123");
    fs::path fresh = dir / ("." + report + ".tmp-XyZ789");
    std::ofstream(stale) << "{\"partial";
    std::ofstream(fresh) << "{\"partial";
    std::ofstream(dir / ".meoktong.lock") << "1";
    std::ofstream(dir / ".notes.tmp-1") << "operator file";
    auto file_now = fs::file_time_type::clock::now();
    fs::last_write_time(stale, file_now - hours(3));
    fs::last_write_time(dir / ".meoktong.lock", file_now - hours(3));
    fs::last_write_time(dir / ".notes.tmp-1", file_now - hours(3));
    auto removed = remove_stale_temp_files(dir.string(), system_clock::now(), hours(1));
    CHECK(removed == std::vector<std::string>{stale.string()});
    CHECK(names_in(dir) == std::set<std::string>{fresh.filename().string(), ".meoktong.lock", ".notes.tmp-1"});
    fs::remove_all(dir);
}
