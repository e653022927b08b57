// OONI measurements end to end through the meoktong binary (SPEC §8): the
// real samples of ../shared/data/ooni-samples are analysed (one censorship
// incident, Iran's DNS tampering of www.facebook.com; none for WhatsApp or
// Signal, whose OONI false alarms stay OONI's), imported into SQLite and
// analysed from there, exported as CSV and as OONI measurements that analyze
// reads back; bad usage of export is one line and exit 2. Skips with a
// message when the samples are absent.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include "binary_run.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

using meoktong::testing::BinaryRun;
using meoktong::testing::run_binary;

namespace {

const fs::path kSamples = fs::path(MEOKTONG_SOURCE_DIR) / ".." / "shared" / "data" / "ooni-samples";


struct Scratch {
    fs::path dir;
    Scratch() {
        char tmpl[] = "/tmp/meoktong-ooni-e2e-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
    }
    ~Scratch() { fs::remove_all(dir); }
};

// The incidents of `analyze --format json` output, as "classification service country".
std::vector<std::string> incidents_of(const std::string& analysis) {
    std::vector<std::string> out;
    json doc = json::parse(analysis);
    for (const auto& i : doc["incidents"])
        out.push_back(i["classification"].get<std::string>() + " " + i["service"].get<std::string>() + " " +
                      (i["country"].is_string() ? i["country"].get<std::string>() : std::string("-")));
    std::sort(out.begin(), out.end());
    return out;
}

bool has(const std::vector<std::string>& list, const std::string& prefix) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
}

}  // namespace

TEST_CASE("analyze, store import, export: the OONI samples through the binary") {
    if (!fs::is_directory(kSamples)) {
        MESSAGE("skipped: no OONI samples at " << kSamples.string());
        return;
    }
    Scratch s;
    BinaryRun files = run_binary("analyze " + kSamples.string() + " --format json", s.dir);
    REQUIRE_MESSAGE(files.status == 0, files.err);
    CHECK(files.err.find("74 measurements from 13 files, 0 malformed lines") != std::string::npos);
    auto incidents = incidents_of(files.out);
    CHECK(has(incidents, "censorship www.facebook.com IR"));
    CHECK(!has(incidents, "censorship whatsapp"));
    CHECK(!has(incidents, "censorship signal"));
    CHECK(!has(incidents, "provider_outage signal"));

    std::string store = "sqlite:" + (s.dir / "store.db").string();
    BinaryRun imported = run_binary("store import " + kSamples.string() + " --store " + store, s.dir);
    REQUIRE_MESSAGE(imported.status == 0, imported.err);
    // report1.json and report1blocked.json are one measurement (the same id): stored once.
    CHECK(imported.out.find("13 files: 12 reports stored (73 records), 1 already stored, 0 not reports") != std::string::npos);
    BinaryRun stored = run_binary("analyze --store " + store + " --format json", s.dir);
    REQUIRE_MESSAGE(stored.status == 0, stored.err);
    CHECK(has(incidents_of(stored.out), "censorship www.facebook.com IR"));

    BinaryRun csv = run_binary("export " + kSamples.string() + " --format csv --out " + (s.dir / "out.csv").string(), s.dir);
    REQUIRE_MESSAGE(csv.status == 0, csv.err);
    std::ifstream rows(s.dir / "out.csv");
    std::string header, row;
    std::getline(rows, header);
    CHECK(header == "measured_at,cc,asn,service,host,port,protocol,status,method,confidence,evidence,source,id");
    int count = 0, blocked = 0;
    while (std::getline(rows, row)) {
        ++count;
        blocked += row.find(",blocked,dns_tampering,") != std::string::npos;
        CHECK(row.find(",ooni,") != std::string::npos);
    }
    CHECK(count == 74);
    CHECK(blocked == 1);

    fs::path exported = s.dir / "ooni.jsonl";
    BinaryRun ooni = run_binary("export " + kSamples.string() + " --format ooni --out " + exported.string(), s.dir);
    REQUIRE_MESSAGE(ooni.status == 0, ooni.err);
    BinaryRun back = run_binary("analyze " + exported.string() + " --format json", s.dir);
    REQUIRE_MESSAGE(back.status == 0, back.err);
    CHECK(back.err.find("74 measurements from 1 files, 0 malformed lines") != std::string::npos);
    CHECK(incidents_of(back.out) == incidents);
}

TEST_CASE("export: bad usage and unreadable input are one line and exit 2") {
    Scratch s;
    for (const std::string& args : {std::string("export ") + s.dir.string(), std::string("export --format csv"),
                                    std::string("export ") + s.dir.string() + " --format xml",
                                    std::string("export /nonexistent/meoktong --format csv")}) {
        CAPTURE(args);
        BinaryRun r = run_binary(args, s.dir);
        CHECK(r.status == 2);
        CHECK(r.out.empty());
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
}
