// `meoktong run`'s target selection, the worker
// pool and record completion (with a fake measurement), the report file
// naming and the text table. No network.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "meoktong/failure.hpp"
#include "meoktong/record_json.hpp"
#include "meoktong/target.hpp"
#include "probe/lists/testlist.hpp"
#include "probe/run/report_writer.hpp"
#include "meoktong/time.hpp"
#include "probe/run/runner.hpp"
#include "probe/run/text_table.hpp"

using namespace meoktong;

TEST_CASE("--service with ad-hoc targets only is an error, not silently ignored") {
    RunSettings o;
    o.services = {"nosuchservice"};
    o.target_uris = {"tcp://127.0.0.1:9"};
    CHECK_THROWS_AS(select_targets(o, selected_lists(o)), InputError);
}

TEST_CASE("ad-hoc targets and --canary URIs are selected, canaries last and marked") {
    RunSettings o;
    o.target_uris = {"tls://line.me", "tls://line.me"};
    o.canary_uris = {"tls://example.com"};
    auto targets = select_targets(o, selected_lists(o));
    REQUIRE(targets.size() == 2);
    CHECK(targets[0].service == "adhoc");
    CHECK_FALSE(targets[0].canary);
    CHECK(targets[1].canary);
    CHECK(targets[1].service == "canary");
}

static size_t canaries_in(const std::vector<Target>& targets) {
    return static_cast<size_t>(std::count_if(targets.begin(), targets.end(), [](const Target& t) { return t.canary; }));
}

TEST_CASE("ad-hoc runs on public hosts borrow the built-in canaries; local targets and labs do not") {
    RunSettings o;
    o.target_uris = {"tls://line.me"};
    auto targets = select_targets(o, selected_lists(o));
    size_t builtin = load_list("messengers").canaries.size();
    REQUIRE(builtin > 0);
    CHECK(canaries_in(targets) == builtin);
    CHECK_FALSE(targets.front().canary);
    o.target_uris = {"tcp://127.0.0.1:9"};
    CHECK(canaries_in(select_targets(o, selected_lists(o))) == 0);
    o.target_uris = {"tls://line.me"};
    o.routable = {"10.77.0.0/16"};
    CHECK(canaries_in(select_targets(o, selected_lists(o))) == 0);
}

TEST_CASE("--canary replaces the lists' canaries") {
    RunSettings o;
    o.lists = {"messengers"};
    o.canary_uris = {"tls://canary.example"};
    auto targets = select_targets(o, selected_lists(o));
    REQUIRE(canaries_in(targets) == 1);
    CHECK(targets.back().host == "canary.example");
}

TEST_CASE("the pool measures every target once, never more than --concurrency at a time") {
    RunSettings o;
    o.concurrency = 3;
    o.retests = 0;  // the failing canary is not measured again here (see the canary retest test)
    o.vantage.label = "lab";
    std::vector<Target> targets;
    for (int i = 1; i <= 20; ++i) targets.push_back(parse_target_uri("tcp://192.0.2." + std::to_string(i) + ":443"));
    Target canary = parse_target_uri("tls://192.0.2.200");
    canary.canary = true;
    targets.push_back(canary);
    canary.host = "192.0.2.201";
    targets.push_back(canary);
    std::atomic<int> in_flight{0}, peak{0};
    std::mutex m;
    std::multiset<std::string> seen;
    MeasureFn fake = [&](const Target& t, SteadyTime) {
        int now = ++in_flight;
        for (int p = peak; now > p && !peak.compare_exchange_weak(p, now);) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        {
            std::lock_guard lock(m);
            seen.insert(t.host);
        }
        Observations obs;
        TlsObservation tls;
        if (t.host == "192.0.2.201") tls.failure = failure::kTimeout;
        obs.tls.push_back(tls);
        --in_flight;
        return obs;
    };
    auto out = execute_run(targets, o, fake, "run-1");
    REQUIRE(out.records.size() == targets.size());
    CHECK(seen.size() == targets.size());
    CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == targets.size());
    CHECK(peak.load() <= 3);
    std::set<std::string> ids;
    for (size_t i = 0; i < out.records.size(); ++i) {
        const Record& r = out.records[i];
        CHECK(r.target.host == targets[i].host);
        CHECK(r.run_id == "run-1");
        CHECK(r.vantage.label == "lab");
        CHECK(r.context.canaries_total == 2);
        CHECK(r.context.canaries_ok == 1);
        CHECK_FALSE(r.control.requested);
        CHECK(r.started_at.size() == 24);
        ids.insert(r.id);
    }
    CHECK(ids.size() == out.records.size());
}

// The observations of a verdict fixture (tests/data/verdicts/NAME.json).
static Observations fixture_observations(const std::string& name) {
    std::ifstream in(std::string(MEOKTONG_TEST_DATA) + "/verdicts/" + name + ".json");
    return nlohmann::json::parse(in).at("record").at("observations").get<Observations>();
}

TEST_CASE("retest before accusing: a blocked target is measured again; a transient failure is not published") {
    const Observations reset = fixture_observations("tls_sni_reset_no_control");
    Observations passed = reset;
    passed.tls[0].failure.reset();
    passed.tls[0].raw_error.clear();
    passed.tls[0].certificate_valid = true;
    passed.tls[0].peer_certificates = reset.tls[1].peer_certificates;
    passed.tls[0].peer_certificates[0].dns_names = {"line.me"};
    std::vector<Target> targets = {parse_target_uri("tls://line.me"), parse_target_uri("tls://line.me:8443"),
                                   parse_target_uri("tls://line.me:9443")};
    std::mutex m;
    std::map<int, int> tries;  // port -> times measured
    MeasureFn fake = [&](const Target& t, SteadyTime) {
        int n;
        {
            std::lock_guard lock(m);
            n = ++tries[t.port];
        }
        if (t.port == 443) return reset;                  // blocked every time: a censor
        if (t.port == 8443) return n == 1 ? reset : passed;  // blocked once: a lossy link
        return passed;                                     // never blocked: never retested
    };
    RunSettings o;
    o.routable = {"10.77.0.0/16"};  // the fixture's lab addresses
    auto out = execute_run(targets, o, fake, "run-1");
    REQUIRE(out.records.size() == 3);
    CHECK(tries == std::map<int, int>{{443, 2}, {8443, 2}, {9443, 1}});
    const Record& censored = out.records[0];
    CHECK(censored.tries == 2);
    REQUIRE(censored.earlier_tries.size() == 1);
    CHECK(censored.earlier_tries[0].verdict.status == VerdictStatus::blocked);
    CHECK(censored.verdict.status == VerdictStatus::blocked);
    CHECK(censored.verdict.method.value_or("") == "tls_sni_reset");
    const Record& transient = out.records[1];
    CHECK(transient.tries == 2);
    REQUIRE(transient.earlier_tries.size() == 1);
    CHECK(transient.earlier_tries[0].verdict.method.value_or("") == "tls_sni_reset");
    CHECK(transient.verdict.status == VerdictStatus::accessible);
    CHECK(transient.observations.tls[0].failure == std::nullopt);
    CHECK(out.records[2].tries == 1);
    CHECK(out.records[2].earlier_tries.empty());

    tries.clear();
    o.retests = 3;  // a censor is retested up to the limit; a recovered target no further
    out = execute_run(targets, o, fake, "run-2");
    CHECK(tries == std::map<int, int>{{443, 4}, {8443, 2}, {9443, 1}});
    CHECK(out.records[0].tries == 4);
    CHECK(out.records[0].earlier_tries.size() == 3);

    tries.clear();
    o.retests = 0;
    out = execute_run(targets, o, fake, "run-3");
    CHECK(tries == std::map<int, int>{{443, 1}, {8443, 1}, {9443, 1}});
    CHECK(out.records[1].verdict.status == VerdictStatus::blocked);
}

TEST_CASE("discovery: the endpoints a genuine app answer names are measured too, once, with their origin") {
    auto booking = [](bool genuine, std::vector<std::string> discovered) {
        Observations o;
        AppObservation a;
        a.protocol = "loco";
        a.transport = "tls";
        a.address = "10.77.16.5:443";
        a.genuine = genuine;
        if (!genuine) a.failure = "app_not_genuine";
        a.discovered = std::move(discovered);
        o.app.push_back(a);
        return o;
    };
    std::mutex m;
    std::vector<std::string> measured;
    auto run_with = [&](const Observations& answer) {
        measured.clear();
        MeasureFn fake = [&](const Target& t, SteadyTime) {
            std::lock_guard lock(m);
            measured.push_back(target_uri(t));
            return t.protocol == "loco" ? answer : Observations{};
        };
        std::vector<Target> targets = {parse_target_uri("loco://booking-loco.kakao.com:443"),
                                       parse_target_uri("tcp://ticket-loco.kakao.com:995")};
        for (auto& t : targets) t.service = "kakaotalk";
        RunSettings o;
        o.retests = 0;
        return execute_run(targets, o, fake, "run-d");
    };
    auto out = run_with(booking(true, {"ticket-loco.kakao.com:995", "ticket-loco.kakao.com:10009", "ticket-loco.kakao.com:10009"}));
    REQUIRE(out.records.size() == 3);  // the listed check-in endpoint is not measured twice
    const Record& found = out.records[2];
    CHECK(target_uri(found.target) == "tcp://ticket-loco.kakao.com:10009");
    CHECK(found.target.service == "kakaotalk");
    CHECK(found.target.role == "login");
    CHECK(found.target.discovered_from == "loco://booking-loco.kakao.com:443");
    CHECK(std::count(measured.begin(), measured.end(), "tcp://ticket-loco.kakao.com:10009") == 1);
    REQUIRE_FALSE(found.verdict.evidence.empty());
    CHECK(found.verdict.evidence.back().find("loco://booking-loco.kakao.com:443 named it") != std::string::npos);

    out = run_with(booking(false, {"ticket-loco.kakao.com:10009"}));  // an answer that is not genuine names nothing
    CHECK(out.records.size() == 2);
    CHECK(measured.size() == 2);
}

TEST_CASE("--max-runtime: a target not started is left out; a retest not started leaves the first try as it was") {
    const Observations reset = fixture_observations("tls_sni_reset_no_control");
    std::vector<Target> targets = {parse_target_uri("tls://line.me"), parse_target_uri("tls://line.me:8443"),
                                   parse_target_uri("tls://line.me:9443")};
    std::atomic<int> calls{0};
    MeasureFn fake = [&](const Target&, SteadyTime) {
        ++calls;
        return reset;
    };
    RunSettings o;
    o.routable = {"10.77.0.0/16"};
    o.concurrency = 1;
    o.out_of_time = [&] { return calls.load() >= 2; };  // time runs out after two measurements
    auto out = execute_run(targets, o, fake, "run-1");
    CHECK(calls.load() == 2);
    CHECK(out.not_started == 1);
    REQUIRE(out.records.size() == 2);
    for (const auto& r : out.records) {
        CHECK(r.tries == 1);
        CHECK(r.earlier_tries.empty());
        CHECK(r.verdict.status == VerdictStatus::blocked);  // the first try's, not an empty retest's
        CHECK_FALSE(r.observations.tls.empty());
    }
}

TEST_CASE("an unreached canary is measured again before the run counts its canaries; reached targets are counted") {
    std::vector<Target> targets = {parse_target_uri("tcp://192.0.2.1:443"), parse_target_uri("tcp://192.0.2.2:443")};
    Target canary = parse_target_uri("tcp://192.0.2.200:443");
    canary.canary = true;
    targets.push_back(canary);
    std::mutex m;
    std::map<std::string, int> tries;
    MeasureFn fake = [&](const Target& t, SteadyTime) {
        int n;
        {
            std::lock_guard lock(m);
            n = ++tries[t.host];
        }
        Observations obs;
        TcpObservation tcp;
        tcp.ip = t.host;
        tcp.port = t.port;
        if (t.host == "192.0.2.2" || (t.canary && n == 1)) tcp.failure = failure::kTimeout;  // the canary's first try is lost
        obs.tcp.push_back(tcp);
        return obs;
    };
    RunSettings o;
    auto out = execute_run(targets, o, fake, "run-1");
    CHECK(tries == std::map<std::string, int>{{"192.0.2.1", 1}, {"192.0.2.2", 1}, {"192.0.2.200", 2}});
    for (const auto& r : out.records) {
        CHECK(r.context.canaries_ok == 1);
        CHECK(r.context.targets_reached == 1);
    }
    CHECK(out.records[2].tries == 2);
    CHECK(out.records[2].earlier_tries.size() == 1);
}

TEST_CASE("canary reachability follows the target's protocol") {
    Observations obs;
    TcpObservation tcp;
    obs.tcp.push_back(tcp);
    CHECK(canary_reached(parse_target_uri("tcp://192.0.2.1:80"), obs));
    CHECK_FALSE(canary_reached(parse_target_uri("tls://192.0.2.1"), obs));
    TlsObservation neutral;
    neutral.purpose = "neutral_sni";
    obs.tls.push_back(neutral);
    CHECK_FALSE(canary_reached(parse_target_uri("tls://192.0.2.1"), obs));
    HttpObservation http;
    http.status = 200;
    obs.http.push_back(http);
    CHECK(canary_reached(parse_target_uri("https://192.0.2.1/"), obs));
}

TEST_CASE("an HTTPS canary whose handshake worked is reached even if its page timed out (a lossy link)") {
    Observations obs;
    TlsObservation tls;
    tls.purpose = "target";
    obs.tls.push_back(tls);
    HttpObservation page;
    page.failure = failure::kTimeout;
    obs.http.push_back(page);
    CHECK(canary_reached(parse_target_uri("https://192.0.2.1/"), obs));
    obs.tls[0].failure = failure::kTimeout;
    CHECK_FALSE(canary_reached(parse_target_uri("https://192.0.2.1/"), obs));
}

TEST_CASE("the run's canary download rate: the fastest complete or timed-out canary download, never an error page") {
    RunSettings o;
    o.concurrency = 1;
    std::vector<Target> targets = {parse_target_uri("tls://192.0.2.1")};
    for (const char* host : {"192.0.2.200", "192.0.2.201"}) {
        Target canary = parse_target_uri(std::string("https://") + host + "/");
        canary.canary = true;
        targets.push_back(canary);
    }
    MeasureFn fake = [](const Target& t, SteadyTime) {
        Observations obs;
        HttpObservation download;
        download.status = 200;
        download.body_length = 40000;
        if (t.host == "192.0.2.200") {  // timed out part-way: what it achieved is the link's rate
            download.failure = failure::kTimeout;
            download.throughput_kbps = 800;
        } else if (t.host == "192.0.2.201") {  // an error page is no rate at all
            download.status = 503;
            download.throughput_kbps = 90000;
        }
        obs.http.push_back(download);
        return obs;
    };
    auto out = execute_run(targets, o, fake, "run-1");
    REQUIRE(out.records.size() == 3);
    CHECK(out.records[0].context.canary_download_kbps == doctest::Approx(800));
}

TEST_CASE("uuids are version 4 and distinct; timestamps are ISO 8601 UTC with milliseconds") {
    auto a = new_uuid(), b = new_uuid();
    CHECK(a != b);
    CHECK(a.size() == 36);
    CHECK(a[14] == '4');
    CHECK(std::string("89ab").find(a[19]) != std::string::npos);
    auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795316400123LL));
    CHECK(iso_utc_ms(t) == "2026-11-22T03:00:00.123Z");
}

TEST_CASE("report paths: a directory gets a time/vantage/run name; unwritable places are refused") {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("meoktong-ut-" + std::to_string(::getpid()));
    auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1795316400));
    auto path = prepare_report_path((dir / "reports").string(), "seoul kt/1", "abcdef12-3456", t);
    CHECK(path == (dir / "reports" / "20261122T030000Z_seoul_kt_1_abcdef12.jsonl").string());
    CHECK(fs::is_directory(dir / "reports"));
    CHECK(prepare_report_path((dir / "one.jsonl").string(), "x", "r", t) == (dir / "one.jsonl").string());
    CHECK_THROWS_AS(prepare_report_path((dir / "missing" / "one.jsonl").string(), "x", "r", t), std::runtime_error);
    Record r;
    r.id = "x";
    write_report(path, {r, r});
    std::ifstream in(path);
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) lines += nlohmann::json::parse(line)["id"] == "x";
    CHECK(lines == 2);
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir / "reports")) files += e.is_regular_file();
    CHECK(files == 1);  // no temporary file left behind
    fs::remove_all(dir);
}

TEST_CASE("step summaries and the text table") {
    CHECK(step_summary({}) == "-");
    CHECK(step_summary({std::nullopt, std::nullopt}) == "ok");
    CHECK(step_summary({std::nullopt, std::string("connection_reset")}) == "connection_reset (1/2 ok)");
    CHECK(step_summary({std::string("generic_timeout_error")}) == "generic_timeout_error");
    Record r;
    r.target = parse_target_uri("tls://line.me");
    r.target.service = "line";
    TlsObservation reset;
    reset.failure = "connection_reset";
    TlsObservation neutral;
    neutral.purpose = "neutral_sni";
    r.observations.tls = {reset, neutral};
    r.verdict.status = VerdictStatus::blocked;
    r.verdict.method = "tls_sni_reset";
    auto table = render_table({r});
    CHECK(table.find("SERVICE") == 0);
    CHECK(table.find("tls://line.me:443") != std::string::npos);
    CHECK(table.find("connection_reset; neutral SNI ok") != std::string::npos);
    CHECK(table.find("blocked/tls_sni_reset") != std::string::npos);
}
