// End to end: the built `meoktong run` against loopback servers writes a
// SPEC §4 record; bad input and an unwritable --out fail cleanly.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "binary_run.hpp"
#include "test_servers.hpp"

using namespace meoktong::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {


BinaryRun run_meoktong(const std::string& args, const fs::path& scratch) { return run_binary("run " + args, scratch); }

struct Scratch {
    fs::path dir;
    Scratch() {
        char tmpl[] = "/tmp/meoktong-e2e-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
    }
    ~Scratch() { fs::remove_all(dir); }
};

}  // namespace

TEST_CASE("meoktong run writes one SPEC-conformant JSONL record per target") {
    Scratch scratch;
    TcpTestServer ok(Behaviour::TlsOk, TestPki::get().good);
    TcpTestServer reset(Behaviour::ResetAfterHello);
    fs::path report = scratch.dir / "report.jsonl";
    std::string args = "--target tls://127.0.0.1:" + std::to_string(ok.port()) + " --target tls://127.0.0.1:" +
                       std::to_string(reset.port()) + " --ca-file " + TestPki::get().ca_file + " --out " +
                       report.string() + " --format json --timeout-ms 2000 --vantage lab-1 --cc kr --asn 4766";
    BinaryRun r = run_meoktong(args, scratch.dir);
    CHECK_MESSAGE(r.status == 0, r.err);
    BinaryRun version = run_binary("--version", scratch.dir);
    REQUIRE(version.status == 0);
    std::ifstream in(report);
    std::vector<json> records;
    for (std::string line; std::getline(in, line);) records.push_back(json::parse(line));
    REQUIRE(records.size() == 2);
    for (const auto& rec : records) {
        for (const char* key : {"schema", "id", "run_id", "software", "vantage", "started_at", "runtime_ms",
                                "target", "observations", "control", "verdict"})
            CHECK_MESSAGE(rec.contains(key), key);
        CHECK(rec["schema"] == "meoktong.measurement/v1");
        CHECK(rec["software"]["name"] == "meoktong");
        for (const char* key : {"version", "commit", "build_date"}) {
            REQUIRE_MESSAGE(rec["software"].contains(key), key);
            CHECK_MESSAGE(version.out.find(rec["software"][key].get<std::string>()) != std::string::npos,
                          key << " is not in --version's '" << version.out << "'");
        }
        CHECK(rec["vantage"] == json{{"label", "lab-1"}, {"cc", "KR"}, {"asn", "AS4766"}});
        CHECK(rec["run_id"] == records[0]["run_id"]);
        CHECK(rec["started_at"].get<std::string>().back() == 'Z');
        for (const char* kind : {"dns", "tcp", "tls", "http", "packets"}) CHECK(rec["observations"].contains(kind));
        CHECK(rec["verdict"].contains("status"));
        CHECK(rec["control"]["requested"] == false);
    }
    CHECK(records[0]["id"] != records[1]["id"]);
    const json& good = records[0]["observations"];
    CHECK(good["tcp"][0]["failure"].is_null());
    CHECK(good["tls"][0]["failure"].is_null());
    CHECK(good["tls"][0]["certificate_valid"] == true);
    CHECK(good["tls"][0]["peer_certificates"][0]["issuer"] == "CN=meoktong test CA");
    const json& bad = records[1]["observations"];
    CHECK(bad["tls"][0]["failure"] == "connection_reset");
    CHECK(bad["tls"][1]["purpose"] == "neutral_sni");
    // --format json prints the same records on stdout
    std::istringstream out(r.out);
    int lines = 0;
    for (std::string line; std::getline(out, line);) lines += json::parse(line)["schema"] == "meoktong.measurement/v1";
    CHECK(lines == 2);
}

TEST_CASE("meoktong run into a directory names the report by time, vantage and run") {
    Scratch scratch;
    TcpTestServer ok(Behaviour::TlsOk, TestPki::get().good);
    fs::path dir = scratch.dir / "reports";
    BinaryRun r = run_meoktong("--target tls://127.0.0.1:" + std::to_string(ok.port()) + " --ca-file " +
                                TestPki::get().ca_file + " --out " + dir.string() + " --vantage seoul-kt",
                            scratch.dir);
    CHECK_MESSAGE(r.status == 0, r.err);
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (name != ".meoktong.lock") names.push_back(name);  // the run lock lives beside the reports
    }
    REQUIRE(names.size() == 1);
    CHECK(names[0].find("Z_seoul-kt_") == 15);
    CHECK(names[0].size() == std::string("20261122T030000Z_seoul-kt_abcdef12.jsonl").size());
    CHECK(r.out.find("SERVICE") != std::string::npos);  // the text table
}

TEST_CASE("an unwritable --out fails with exit 1 before measuring; bad input exits 2; nothing is written") {
    Scratch scratch;
    TcpTestServer ok(Behaviour::TlsOk, TestPki::get().good);
    std::string target = " --target tls://127.0.0.1:" + std::to_string(ok.port());
    BinaryRun unwritable = run_meoktong(target + " --out /proc/meoktong-nope/r.jsonl", scratch.dir);
    CHECK(unwritable.status == 1);
    CHECK(unwritable.err.find("cannot write report") != std::string::npos);
    CHECK(std::count(unwritable.err.begin(), unwritable.err.end(), '\n') == 1);
    CHECK(ok.accepted() == 0);

    fs::path report = scratch.dir / "never.jsonl";
    for (const std::string& bad : {std::string(" --target tls://bad host"), std::string(" --bogus"),
                                   std::string(" --concurrency 0"), target + " --format xml"}) {
        BinaryRun r = run_meoktong(bad + " --out " + report.string(), scratch.dir);
        CHECK_MESSAGE(r.status == 2, bad);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
    CHECK_FALSE(fs::exists(report));
    CHECK(ok.accepted() == 0);
}

TEST_CASE("bad usage of any command is one line on stderr and exit 2; --help wins and exits 0") {
    Scratch scratch;
    for (const char* bad : {"", "frobnicate", "control", "control stop", "control serve --bogus", "lists --bogus",
                            "lists messengers kr", "analyze --bogus", "run --out x.jsonl --bogus"}) {
        BinaryRun r = run_binary(bad, scratch.dir);
        CHECK_MESSAGE(r.status == 2, "'" << bad << "': " << r.err);
        CHECK_MESSAGE(std::count(r.err.begin(), r.err.end(), '\n') == 1, "'" << bad << "': " << r.err);
        CHECK(r.out.empty());
    }
    for (const char* help : {"run --timeout-ms abc --help", "control serve --listen nowhere --help", "lists --help",
                             "analyze --help", "--help"}) {
        BinaryRun r = run_binary(help, scratch.dir);
        CHECK_MESSAGE(r.status == 0, "'" << help << "': " << r.err);
        CHECK_MESSAGE(r.out.find("--help") != std::string::npos, "'" << help << "' does not list --help");
        CHECK(r.err.empty());
    }
}

TEST_CASE("meoktong --version prints the version, the git commit and the build date") {
    Scratch scratch;
    BinaryRun r = run_binary("--version", scratch.dir);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    std::istringstream lines(r.out);
    std::string name_version, commit, built;
    std::getline(lines, name_version);
    std::getline(lines, commit);
    std::getline(lines, built);
    CHECK(name_version.rfind("meoktong ", 0) == 0);
    CHECK(name_version.size() > std::string("meoktong ").size());
    CHECK(commit.rfind("commit ", 0) == 0);
    CHECK(commit.size() > std::string("commit ").size());
    CHECK(built.rfind("built ", 0) == 0);
    CHECK(built.size() == std::string("built YYYY-MM-DDTHH:MM:SSZ").size());
}

TEST_CASE("meoktong run --format text prints each service's outcome after the table") {
    Scratch scratch;
    TcpTestServer chat(Behaviour::HttpOk);
    uint16_t closed = closed_port();
    fs::path list = scratch.dir / "demo.json";
    std::ofstream(list) << R"({"schema": "meoktong.testlist/v1", "name": "demo", "version": "2026-12-02", "services": [
      {"name": "demo", "display_name": "Demo Chat", "targets": [
        {"host": "127.0.0.1", "port": )" << chat.port() << R"(, "protocol": "tcp", "role": "messaging", "sources": ["observed: test"]},
        {"host": "127.0.0.1", "port": )" << closed << R"(, "protocol": "tcp", "role": "media", "required": false, "sources": ["observed: test"]}]},
      {"name": "gone", "targets": [
        {"host": "127.0.0.1", "port": )" << closed << R"(, "protocol": "tls", "role": "messaging", "sources": ["observed: test"]}]}]})";
    BinaryRun r = run_meoktong("--list " + list.string() + " --out " + (scratch.dir / "report.jsonl").string() +
                                " --format text --timeout-ms 2000",
                            scratch.dir);
    CHECK_MESSAGE(r.status == 0, r.err);
    auto table = r.out.find("SERVICE");
    auto services = r.out.find("\nservices:\n");
    REQUIRE(table != std::string::npos);
    REQUIRE(services != std::string::npos);
    CHECK(table < services);
    CHECK(r.out.find("Demo Chat: reachable; media endpoint", services) != std::string::npos);
    CHECK(r.out.find("gone: inconclusive", services) != std::string::npos);
    CHECK(services < r.out.find(" targets, canaries "));
}
