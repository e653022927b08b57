// The verdict engine on the JSON fixtures of tests/data/verdicts/ (one case per
// file: a record and the expected status, method, deciding rule and evidence),
// plus properties that hold across all of them: every rule is exercised,
// removing the control never invents a verdict, evidence never leaks local addresses.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "meoktong/record_json.hpp"
#include "analysis/verdict/verdict.hpp"
#include "analysis/verdict/verdict_engine.hpp"

using namespace meoktong;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    std::string name;
    json doc;
    Record record;
};

const std::string kDataDir = MEOKTONG_TEST_DATA;

const FingerprintSet& fingerprints() {
    static const FingerprintSet set = load_fingerprints(kDataDir + "/../../testlists/blockpages.json");
    return set;
}

std::vector<Fixture> load_fixtures() {
    std::vector<Fixture> out;
    for (const auto& entry : fs::directory_iterator(kDataDir + "/verdicts")) {
        if (entry.path().extension() != ".json") continue;
        std::ifstream in(entry.path());
        Fixture f{entry.path().stem().string(), json::parse(in), {}};
        f.record = f.doc.at("record").get<Record>();
        out.push_back(std::move(f));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

const std::vector<Fixture>& fixtures() {
    static const std::vector<Fixture> all = load_fixtures();
    return all;
}

std::string joined(const Verdict& v) {
    std::string s;
    for (const auto& e : v.evidence) s += "  | " + e + "\n";
    return s;
}

bool control_usable(const Record& r) {
    const auto& o = r.control.observations;
    bool any = !o.dns.empty() || !o.tcp.empty() || !o.tls.empty() || !o.http.empty() || !o.app.empty();
    return any && !r.control.failure;
}

Record without_control(Record r) {
    r.control = ControlResult{};
    return r;
}

}  // namespace

TEST_CASE("verdict fixtures: status, method, deciding rule, evidence, confidence") {
    REQUIRE(fixtures().size() >= 40);
    for (const auto& f : fixtures()) {
        CAPTURE(f.name);
        const json& e = f.doc.at("expect");
        Verdict v = verdict::decide(f.record, fingerprints());
        std::string evidence = joined(v);
        CAPTURE(evidence);
        CHECK(verdict_status_name(v.status) == e.at("status").get<std::string>());
        if (e.at("method").is_null())
            CHECK_FALSE(v.method.has_value());
        else
            CHECK(v.method.value_or("(none)") == e.at("method").get<std::string>());
        CHECK(verdict::deciding_rule(f.record, fingerprints()) == e.at("rule").get<std::string>());
        for (const auto& want : e.at("evidence")) {
            std::string text = want.get<std::string>();
            bool found = std::any_of(v.evidence.begin(), v.evidence.end(), [&](const auto& s) { return s.find(text) != std::string::npos; });
            CHECK_MESSAGE(found, "missing evidence: " << text);
        }
        if (e.contains("min_confidence")) CHECK(v.confidence >= e["min_confidence"].get<double>());
        if (e.contains("max_confidence")) CHECK(v.confidence <= e["max_confidence"].get<double>());
    }
}

TEST_CASE("verdict invariants hold on every fixture") {
    for (const auto& f : fixtures()) {
        CAPTURE(f.name);
        Verdict v = verdict::decide(f.record, fingerprints());
        CHECK(v.confidence >= 0.0);
        CHECK(v.confidence <= 1.0);
        CHECK_FALSE(v.evidence.empty());
        bool judged = v.status == VerdictStatus::blocked || v.status == VerdictStatus::provider_down;
        CHECK(v.method.has_value() == judged);
        if (v.status == VerdictStatus::inconclusive) CHECK(v.confidence == 0.0);
        if (v.status != VerdictStatus::accessible && !control_usable(f.record)) {
            bool says = std::any_of(v.evidence.begin(), v.evidence.end(),
                                    [](const auto& s) { return s.find("no control vantage was available") != std::string::npos; });
            CHECK_MESSAGE(says, "a verdict without control must say so");
        }
        // The fixtures' system resolver is 192.168.1.1: a local address that must never reach the evidence.
        for (const auto& s : v.evidence) CHECK(s.find("192.168.1.1") == std::string::npos);
    }
}

TEST_CASE("every rule of the table decides at least one fixture") {
    std::set<std::string> used;
    for (const auto& f : fixtures()) used.insert(verdict::deciding_rule(f.record, fingerprints()));
    for (const auto& rule : verdict::rules()) {
        std::string name = rule.name;
        CAPTURE(name);
        CHECK(used.count(name) == 1);
    }
}

TEST_CASE("without the control, no new blocked or provider_down: kept (weaker), or inconclusive") {
    int weakened = 0;
    for (const auto& f : fixtures()) {
        if (!control_usable(f.record)) continue;
        CAPTURE(f.name);
        Verdict with = verdict::decide(f.record, fingerprints());
        Verdict alone = verdict::decide(without_control(f.record), fingerprints());
        CAPTURE(joined(alone));
        if (auto it = f.doc.at("expect").find("without_control"); it != f.doc.at("expect").end()) {
            CHECK(verdict_status_name(alone.status) == it->at("status").get<std::string>());  // documented in the fixture
            continue;
        }
        if (alone.status != VerdictStatus::blocked && alone.status != VerdictStatus::provider_down) continue;
        CHECK(alone.status == with.status);
        CHECK(alone.method == with.method);
        CHECK(alone.confidence < with.confidence);
        ++weakened;
    }
    CHECK(weakened >= 3);  // the in-band rules (injection, bogon, SNI differential...) stand alone
}

TEST_CASE("rule table: unique names, statuses and methods from SPEC §2") {
    const std::set<std::string> statuses = {"accessible", "blocked", "provider_down", "local_failure", "inconclusive"};
    const std::set<std::string> blocked = {"dns_injection", "dns_tampering", "dns_nxdomain",  "dns_blackhole",
                                           "tcp_reset",     "tcp_blackhole", "tls_sni_reset", "tls_sni_blackhole",
                                           "tls_mitm",      "http_blockpage", "throttling",  "stall",        "app_reset",
                                           "app_blackhole", "app_tampering", "udp_blackhole"};
    const std::set<std::string> provider = {"dns_servfail", "dns_nxdomain", "tcp_refused", "tcp_timeout",
                                            "tls_failure",  "http_error",   "app_error"};
    std::set<std::string> names;
    for (const auto& r : verdict::rules()) {
        std::string name = r.name;
        CAPTURE(name);
        CHECK(names.insert(r.name).second);
        std::string status = verdict_status_name(r.status);
        CHECK(statuses.count(status) == 1);
        if (status == "blocked") CHECK((r.method && blocked.count(r.method)));
        if (status == "provider_down") CHECK((r.method && provider.count(r.method)));
        if (status != "blocked" && status != "provider_down") CHECK(r.method == nullptr);
    }
    CHECK(std::string(verdict::rules().back().name) == "undecided");
}

TEST_CASE("decide_verdict finds the built-in fingerprints by itself") {
    for (const auto& f : fixtures()) {
        if (f.name != "http_blockpage_kr_no_control") continue;
        Verdict v = decide_verdict(f.record);
        CHECK(v.status == VerdictStatus::blocked);
        CHECK(v.method == std::optional<std::string>("http_blockpage"));
        return;
    }
    FAIL("fixture http_blockpage_kr_no_control is missing");
}

TEST_CASE("packet evidence raises the confidence of a control-based verdict") {
    for (const auto& f : fixtures()) {
        if (f.name != "tcp_reset_with_control") continue;
        Record r = f.record;
        Verdict plain = verdict::decide(r, fingerprints());
        PacketObservation synack, rst;
        synack.kind = "syn_ack", synack.src = "147.92.1.1:443", synack.ip_ttl = 52;
        rst.kind = "rst", rst.src = "147.92.1.1:443", rst.ip_ttl = 61;
        r.observations.packets = {synack, rst};
        Verdict with_packets = verdict::decide(r, fingerprints());
        CHECK(with_packets.status == VerdictStatus::blocked);
        CHECK(with_packets.method == std::optional<std::string>("tcp_reset"));
        CHECK(with_packets.confidence >= plain.confidence);
        return;
    }
    FAIL("fixture tcp_reset_with_control is missing");
}

TEST_CASE("captured DNS answers with different IP TTLs corroborate a blocked verdict, quoted") {
    for (const auto& f : fixtures()) {
        if (f.name != "tcp_reset_with_control") continue;
        Record r = f.record;
        Verdict plain = verdict::decide(r, fingerprints());
        PacketObservation first, second;
        first.kind = second.kind = "dns_response";
        first.src = second.src = "198.51.100.53:53";
        first.dns_id = 7, first.ip_ttl = 47;
        second.dns_id = 8, second.ip_ttl = 52;
        r.observations.packets = {first, second};
        Verdict with_packets = verdict::decide(r, fingerprints());
        CHECK(with_packets.status == plain.status);
        CHECK(with_packets.confidence > plain.confidence);
        CHECK(joined(with_packets).find("DNS answers from 198.51.100.53:53 arrived with different IP TTLs: 47") !=
              std::string::npos);
        return;
    }
    FAIL("fixture tcp_reset_with_control is missing");
}

TEST_CASE("docs/verdicts.md lists every rule in table order, with its from-packets column") {
    std::ifstream in(kDataDir + "/../../docs/verdicts.md");
    REQUIRE(in.good());
    std::vector<std::string> documented;
    std::string line;
    while (std::getline(in, line)) {
        // table rows look like: | 12 | `forged_rst_in_tls` | ...
        auto tick = line.find("| `");
        if (line.rfind("| ", 0) != 0 || tick == std::string::npos) continue;
        auto end = line.find('`', tick + 3);
        bool from_packets = line.size() >= 6 && line.compare(line.size() - 6, 6, " yes |") == 0;  // the last column
        documented.push_back(line.substr(tick + 3, end - tick - 3) + (from_packets ? " (from packets)" : ""));
    }
    std::vector<std::string> table;
    for (const auto& r : verdict::rules()) table.push_back(std::string(r.name) + (r.from_packets ? " (from packets)" : ""));
    CHECK(documented == table);
}
