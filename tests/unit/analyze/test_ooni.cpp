// Reading OONI measurements (SPEC §8) from the real samples in
// ../shared/data/ooni-samples (never copied here): the records each test
// maps to and the verdicts derived by reading the samples by hand, OONI's
// known false alarms that must not become `blocked`, no probe IP anywhere,
// gzip and JSONL input, malformed units, and the export renderers with an
// OONI round trip. Skips with a message when the samples are absent.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/export.hpp"
#include "analysis/analyze/incident.hpp"
#include "analysis/analyze/ooni.hpp"
#include "meoktong/target.hpp"
#include "meoktong/files.hpp"
#include "meoktong/record_json.hpp"

using namespace meoktong;
using namespace meoktong::analyze;

namespace {

const std::filesystem::path kSamples = MEOKTONG_OONI_SAMPLES;

bool have_samples() {
    if (std::filesystem::is_directory(kSamples)) return true;
    MESSAGE("skipped: no OONI samples at " << kSamples.string());
    return false;
}

std::vector<Record> records_of(const std::string& name) {
    std::vector<Record> out;
    std::string why;
    REQUIRE_MESSAGE(read_ooni_measurement(read_file((kSamples / name).string()), out, why), why);
    return out;
}

const Record& find(const std::vector<Record>& records, const std::string& host, uint16_t port) {
    for (const auto& r : records)
        if (r.target.host == host && r.target.port == port) return r;
    FAIL("no record for " << host << ":" << port);
    return records.front();
}

int count_status(const std::vector<Record>& records, VerdictStatus s) {
    return int(std::count_if(records.begin(), records.end(), [&](const Record& r) { return r.verdict.status == s; }));
}

// The sample minified onto one line (JSONL), as OONI's API and S3 serve many.
std::string one_line(const std::string& name) { return json::parse(read_file((kSamples / name).string())).dump(); }

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/meoktong-ooni-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
    std::string write_gzip(const std::string& name, const std::string& text) const {
        std::string file = (path / name).string();
        gzFile gz = gzopen(file.c_str(), "wb");
        REQUIRE(gz != nullptr);
        REQUIRE(gzwrite(gz, text.data(), unsigned(text.size())) == int(text.size()));
        gzclose(gz);
        return file;
    }
};

}  // namespace

TEST_CASE("whatsapp: every endpoint, registration and web answer; web.whatsapp.com's 403 is not blocking") {
    if (!have_samples()) return;
    auto records = records_of("whatsapp.json");
    // e1..e16.whatsapp.net on 443 and 5222, web.whatsapp.com on 443 (TLS) and 80, v.whatsapp.net (TLS).
    CHECK(records.size() == 35);
    CHECK(count_status(records, VerdictStatus::accessible) == 35);
    const Record& web80 = find(records, "web.whatsapp.com", 80);
    CHECK(web80.target.protocol == "tcp");
    REQUIRE(web80.observations.http.size() == 1);
    CHECK(web80.observations.http[0].status == 403);
    const Record& web = find(records, "web.whatsapp.com", 443);
    CHECK(web.target.protocol == "tls");
    REQUIRE(web.observations.tls.size() == 1);
    CHECK(web.observations.tls[0].ip == "31.13.73.52");
    CHECK(web.observations.tls[0].certificate_valid);
    const Record& e7 = find(records, "e7.whatsapp.net", 5222);
    CHECK(e7.target.service == "whatsapp");
    CHECK(e7.observations.dns.size() == 2);  // OONI resolved e7 twice
    CHECK(!e7.observations.tcp.empty());
    CHECK(e7.source == "ooni");
    REQUIRE(e7.ooni);
    CHECK(e7.ooni->test_name == "whatsapp");
    CHECK(json::parse(e7.ooni->blocking_json)["whatsapp_web_status"] == "blocked");  // OONI's false alarm, kept beside ours
    CHECK(e7.vantage.cc == "IE");
    CHECK(e7.vantage.asn == "AS6830");
    CHECK(e7.started_at == "2022-12-02T12:58:49.000Z");
    CHECK(e7.run_id == "20221202T125848Z_whatsapp_IE_6830_n1_qXiNfqqAGfleHPLR");
    CHECK(e7.verdict.evidence.back().find("without a control vantage") != std::string::npos);
}

TEST_CASE("telegram: the data-centre addresses on ports 80 and 443 are TCP endpoints") {
    if (!have_samples()) return;
    auto records = records_of("telegram_nourl.json");
    const Record& dc = find(records, "149.154.167.51", 443);
    CHECK(dc.target.service == "telegram");
    CHECK(dc.target.protocol == "tcp");
    CHECK(dc.verdict.status == VerdictStatus::accessible);
    REQUIRE(dc.observations.tcp.size() == 1);
    CHECK(!dc.observations.tcp[0].failure);
    CHECK(dc.observations.http.size() == 1);  // OONI's POST, URL from its Host header
    CHECK(count_status(records, VerdictStatus::blocked) == 0);
    CHECK(count_status(records, VerdictStatus::accessible) == 12);  // the 12 DC address:port pairs
}

TEST_CASE("signal_022: all six endpoints work; sfu.voip.signal.org's 503 to GET / is not judged") {
    if (!have_samples()) return;
    auto records = records_of("signal_022.json");
    CHECK(records.size() == 6);
    CHECK(count_status(records, VerdictStatus::accessible) == 6);
    const Record& sfu = find(records, "sfu.voip.signal.org", 443);
    REQUIRE(sfu.observations.http.size() == 1);
    CHECK(sfu.observations.http[0].status == 503);
    CHECK(json::parse(sfu.ooni->blocking_json)["signal_backend_status"] == "ok");
    for (const auto& r : records) CHECK(r.target.host != "uptime.signal.org");  // resolved only (127.0.0.1 by design)
}

TEST_CASE("signal_2627 (a changed Signal CA) and signal_679 (a retired endpoint) are not blocked") {
    if (!have_samples()) return;
    auto ca = records_of("signal_2627.json");
    CHECK(count_status(ca, VerdictStatus::blocked) == 0);
    const Record& storage = find(ca, "storage.signal.org", 443);
    CHECK(storage.verdict.status == VerdictStatus::inconclusive);
    REQUIRE(storage.observations.tls.size() == 1);
    CHECK(storage.observations.tls[0].failure == std::optional<std::string>("ssl_unknown_authority"));
    CHECK(storage.observations.tls[0].ip == "172.217.17.147");  // from tcp_connect: OONI's old handshake names no address
    CHECK(find(ca, "api.directory.signal.org", 443).verdict.status == VerdictStatus::accessible);
    CHECK(json::parse(storage.ooni->blocking_json)["signal_backend_status"] == "blocked");

    auto retired = records_of("signal_679.json");
    CHECK(count_status(retired, VerdictStatus::blocked) == 0);
    const Record& directory = find(retired, "api.directory.signal.org", 443);
    CHECK(directory.verdict.status == VerdictStatus::inconclusive);
    REQUIRE(directory.observations.dns.size() == 2);
    CHECK(directory.observations.dns[0].failure == std::optional<std::string>("dns_no_answer"));
    CHECK(directory.observations.dns[0].raw_error == "android_dns_cache_no_data");
    CHECK(count_status(retired, VerdictStatus::accessible) == 5);
}

TEST_CASE("web_connectivity: Iran's 10.10.34.36 answer is DNS tampering, judged against OONI's control") {
    if (!have_samples()) return;
    auto records = records_of("web_connectivity_ir_fp.json");
    REQUIRE(records.size() == 1);
    const Record& r = records[0];
    CHECK(r.target.protocol == "https");
    CHECK(r.target.host == "www.facebook.com");
    CHECK(r.verdict.status == VerdictStatus::blocked);
    CHECK(r.verdict.method == std::optional<std::string>("dns_tampering"));
    CHECK(r.control.requested);
    REQUIRE(r.control.observations.dns.size() == 1);
    CHECK(r.control.observations.dns[0].answers[0].value == "157.240.192.35");
    CHECK(json::parse(r.ooni->blocking_json)["blocking"] == "dns");
}

TEST_CASE("web_connectivity: Indonesia's redirect to lamanlabuh.aduankonten.id is a blockpage, OONI said accessible") {
    if (!have_samples()) return;
    auto records = records_of("20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json");
    REQUIRE(records.size() == 1);
    const Record& r = records[0];
    CHECK(r.target.host == "archive.org");
    CHECK(r.vantage.cc == "ID");
    CHECK(r.verdict.status == VerdictStatus::blocked);
    CHECK(r.verdict.method == std::optional<std::string>("http_blockpage"));
    bool named = std::any_of(r.verdict.evidence.begin(), r.verdict.evidence.end(), [](const std::string& e) {
        return e.find("id.kominfo.lamanlabuh.location") != std::string::npos;
    });
    CHECK(named);
    CHECK(json::parse(r.ooni->blocking_json)["accessible"] == true);  // OONI's own keys, kept beside ours
}

TEST_CASE("web_connectivity: working sites are accessible, a control failure leaves a timeout undecided") {
    if (!have_samples()) return;
    auto ok = records_of("report1.json");
    REQUIRE(ok.size() == 1);
    CHECK(ok[0].verdict.status == VerdictStatus::accessible);
    CHECK(ok[0].target.host == "www.collegehumor.com");
    auto null_control = records_of("web_connectivity_null.json");
    REQUIRE(null_control.size() == 1);
    CHECK(null_control[0].control.failure == std::optional<std::string>("connection_refused"));
    CHECK(null_control[0].verdict.status == VerdictStatus::inconclusive);
}

TEST_CASE("facebook_messenger (ts-019): one TCP endpoint per connected host, OONI's facebook_* keys kept") {
    // Made from the spec's keys (the shared samples hold no facebook_messenger measurement):
    // seven hosts resolved, six connected on 443, edge-mqtt's connection reset.
    std::string fixture = std::string(MEOKTONG_TEST_DATA) + "/ooni/facebook_messenger.json";
    std::vector<Record> records;
    std::string why;
    REQUIRE_MESSAGE(read_ooni_measurement(read_file(fixture), records, why), why);
    REQUIRE(records.size() == 6);  // stun.fbsbx.com was only resolved: nothing connects to it over TCP
    for (const auto& r : records) {
        CHECK(r.source == "ooni");
        CHECK(r.target.service == "facebook_messenger");
        CHECK(r.target.port == 443);
        CHECK(r.vantage.cc == "KR");
        REQUIRE(r.ooni.has_value());
        CHECK(r.ooni->blocking_json.find("\"facebook_tcp_blocking\":true") != std::string::npos);
        CHECK(r.verdict.status != VerdictStatus::blocked);  // no control: a reset alone proves nothing
    }
    const Record& edge = find(records, "edge-mqtt.facebook.com", 443);
    REQUIRE(edge.observations.tcp.size() == 1);
    CHECK(edge.observations.tcp[0].failure == std::optional<std::string>("connection_reset"));
    CHECK(edge.verdict.status == VerdictStatus::inconclusive);
    CHECK(find(records, "b-api.facebook.com", 443).verdict.status == VerdictStatus::accessible);
    CHECK(count_status(records, VerdictStatus::accessible) == 5);
}

TEST_CASE("a base64 body (df-001, not UTF-8) is decoded before blockpage matching") {
    std::string fixture = std::string(MEOKTONG_TEST_DATA) + "/ooni/web_connectivity_base64_body.json";
    std::vector<Record> records;
    std::string why;
    REQUIRE_MESSAGE(read_ooni_measurement(read_file(fixture), records, why), why);
    REQUIRE(records.size() == 1);
    const Record& r = records[0];
    REQUIRE(r.observations.http.size() == 1);
    const HttpObservation& h = r.observations.http[0];
    CHECK(h.body_length == 240);
    CHECK(h.body_excerpt.find("\xEF\xBF\xBD") != std::string::npos);  // EUC-KR bytes, not UTF-8, as U+FFFD
    CHECK(h.body_excerpt.find("<iframe src=\"http://warning.or.kr/i1.html\"") != std::string::npos);
    CHECK(h.body_excerpt.find("charset=euc-kr") != std::string::npos);
    CHECK(r.verdict.status == VerdictStatus::blocked);
    CHECK(r.verdict.method == std::optional<std::string>("http_blockpage"));
}

TEST_CASE("base64 header values and the headers object of older probes are read") {
    if (!have_samples()) return;
    auto records = records_of("web_connectivity_b64_hdr.json");  // ooniprobe-android 1.1.4: "headers", base64 Location
    REQUIRE(records.size() == 1);
    REQUIRE(records[0].observations.http.size() == 1);
    const auto& headers = records[0].observations.http[0].headers;
    auto location = std::find_if(headers.begin(), headers.end(), [](const auto& h) { return h.first == "Location"; });
    REQUIRE(location != headers.end());
    CHECK(location->second.rfind("http://192.168.22.1/UserCheck/PortalMain?IID=", 0) == 0);
}

TEST_CASE("no probe IP survives: web_connectivity samples that carry one") {
    if (!have_samples()) return;
    for (const auto& [file, ip] : {std::pair{"web_connectivity_b64_hdr.json", "202.138.55.172"},
                                   std::pair{"web_connectivity_odd_hdr.json", "27.19.191.196"}}) {
        REQUIRE(read_file((kSamples / file).string()).find(ip) != std::string::npos);  // the sample has it
        for (const Record& r : records_of(file)) {
            CHECK(json(r).dump().find(ip) == std::string::npos);
            CHECK(ooni_measurement(r).find(ip) == std::string::npos);
            CHECK(csv_row(r).find(ip) == std::string::npos);
        }
    }
}

TEST_CASE("gzip JSONL of many measurements reads like the plain files") {
    if (!have_samples()) return;
    TempDir dir;
    std::string body = one_line("whatsapp.json") + "\n" + one_line("signal_022.json") + "\n" + one_line("web_connectivity_ir_fp.json") + "\n";
    std::string gz = dir.write_gzip("ooni.jsonl.gz", body);
    Aggregator agg(Options{});
    auto files = read_inputs({dir.path.string()}, agg);
    REQUIRE(files.size() == 1);
    CHECK(files[0].path == gz);
    CHECK(files[0].malformed == 0);
    CHECK(files[0].records == 35 + 6 + 1);
    Analysis a = build_analysis(agg, files);
    bool iran = false;
    for (const auto& i : a.incidents) {
        CHECK(i.service != "whatsapp");
        CHECK(i.service != "signal");
        iran = iran || (i.classification == "censorship" && i.country == "IR");
    }
    CHECK(iran);
}

TEST_CASE("malformed units are counted with their reason, the rest is read") {
    if (!have_samples()) return;
    TempDir dir;
    json dnscheck = json::parse(one_line("signal_022.json"));
    dnscheck["test_name"] = "dnscheck";
    json no_time = json::parse(one_line("signal_022.json"));
    no_time.erase("measurement_start_time");
    std::string file = dir.write("mixed.jsonl", one_line("signal_022.json") + "\n{\"test_name\": \"signal\", \"test_keys\": {\n" +
                                                    dnscheck.dump() + "\n" + no_time.dump() + "\n" + one_line("report1.json") + "\n");
    Aggregator agg(Options{});
    auto files = read_inputs({file}, agg);
    REQUIRE(files.size() == 1);
    CHECK(files[0].records == 6 + 1);
    CHECK(files[0].malformed == 3);
    REQUIRE(files[0].first_malformed.size() == 3);
    CHECK(files[0].first_malformed[0].first == 2);
    CHECK(files[0].first_malformed[0].second.rfind("not JSON", 0) == 0);
    CHECK(files[0].first_malformed[1].second.find("'dnscheck' is not read") != std::string::npos);
    CHECK(files[0].first_malformed[2].second.find("measurement_start_time") != std::string::npos);
}

TEST_CASE("a pretty-printed file is one document; a broken one falls back to lines") {
    if (!have_samples()) return;
    TempDir dir;
    std::string pretty = json::parse(one_line("signal_679.json")).dump(2);
    std::string good = dir.write("pretty.json", pretty);
    std::string broken = dir.write("broken.json", pretty.substr(0, pretty.size() / 2));
    Aggregator agg(Options{});
    auto files = read_inputs({good, broken}, agg);
    CHECK(files[0].records == 6);
    CHECK(files[0].malformed == 0);
    CHECK(files[1].records == 0);
    CHECK(files[1].malformed > 1);  // every line of the half document, each its own unit
}

TEST_CASE("export csv of a golden report: header, one row per record, RFC 4180 quoting") {
    std::string golden = std::string(MEOKTONG_TEST_DATA) + "/analyze/kr-sni/kr-seoul-kt.jsonl";
    std::vector<Record> records, all;
    std::string why;
    InputFile file;
    read_units(golden, [&](std::string_view unit, uint64_t) {
        REQUIRE_MESSAGE(unit_records(unit, records, why), why);
        all.insert(all.end(), records.begin(), records.end());
    }, file);
    REQUIRE(all.size() == 18);
    CHECK(csv_header() == "measured_at,cc,asn,service,host,port,protocol,status,method,confidence,evidence,source,id\n");
    std::string row = csv_row(all[0]);
    CHECK(row.rfind(all[0].started_at + ",KR,AS4766,", 0) == 0);
    CHECK(row.find(",meoktong," + all[0].id + "\n") != std::string::npos);
    Record quoted = all[0];
    quoted.verdict.evidence = {"a \"quoted\" sentence, with a comma\nand a line"};
    CHECK(csv_row(quoted).find(",\"a \"\"quoted\"\" sentence, with a comma\nand a line\",") != std::string::npos);
}

TEST_CASE("export ooni reads back as the records it came from") {
    std::string golden = std::string(MEOKTONG_TEST_DATA) + "/analyze/kr-sni/kr-seoul-kt.jsonl";
    std::vector<Record> records;
    std::string why;
    InputFile file;
    int checked = 0;
    read_units(golden, [&](std::string_view unit, uint64_t) {
        REQUIRE(unit_records(unit, records, why));
        const Record& original = records.at(0);
        std::string exported = ooni_measurement(original);
        json m = json::parse(exported);
        CHECK(m["probe_ip"] == "127.0.0.1");
        CHECK(m["test_name"] == "meoktong");
        CHECK(m["measurement_start_time"].get<std::string>().size() == 19);
        std::vector<Record> back;
        REQUIRE_MESSAGE(read_ooni_measurement(exported, back, why), why);
        REQUIRE(back.size() == 1);
        CHECK(back[0].id == original.id);
        CHECK(back[0].target.host == original.target.host);
        CHECK(back[0].verdict.status == original.verdict.status);
        CHECK(back[0].verdict.method == original.verdict.method);
        CHECK(back[0].vantage.asn == original.vantage.asn);
        CHECK(back[0].observations.tls.size() == original.observations.tls.size());
        ++checked;
    }, file);
    CHECK(checked == 18);
}

TEST_CASE("export ooni keeps what OONI has no test keys for: app exchanges and packet facts read back") {
    Record r;
    r.id = "00000000-0000-4000-8000-0000000000a1";
    r.run_id = "run-app";
    r.started_at = "2026-12-03T03:00:00.000Z";
    r.vantage.cc = "RU";
    r.vantage.asn = "AS12389";
    r.target = parse_target_uri("mtproto://149.154.167.51:443");
    AppObservation app;
    app.protocol = "mtproto";
    app.transport = "obfuscated";
    app.address = "149.154.167.51:443";
    app.genuine = true;
    r.observations.app.push_back(app);
    PacketObservation rst;
    rst.kind = "rst";
    rst.src = "149.154.167.51:443";
    rst.ip_ttl = 61;
    r.observations.packets.push_back(rst);
    json m = json::parse(ooni_measurement(r));
    CHECK_FALSE(m["test_keys"]["meoktong"]["observations"].contains("tcp"));  // OONI's own tcp_connect key has it
    std::vector<Record> back;
    std::string why;
    REQUIRE_MESSAGE(read_ooni_measurement(m.dump(), back, why), why);
    REQUIRE(back.size() == 1);
    REQUIRE(back[0].observations.app.size() == 1);
    CHECK(back[0].observations.app[0].transport == "obfuscated");
    CHECK(back[0].observations.app[0].genuine == std::optional<bool>(true));
    REQUIRE(back[0].observations.packets.size() == 1);
    CHECK(back[0].observations.packets[0].ip_ttl == 61);
}
