// Record serialisation against a golden file (tests/data/golden/record_full.json):
// every SPEC §4 key, every observation type, and a lossless round trip.
// MEOKTONG_UPDATE_GOLDEN=1 rewrites the golden file after a deliberate change.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "meoktong/record_json.hpp"

using namespace meoktong;

namespace {

const std::string kGolden = std::string(MEOKTONG_TEST_DATA) + "/golden/record_full.json";

Record full_record() {
    Record r;
    r.id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    r.run_id = "16fd2706-8baf-433b-82eb-8c7fada847da";
    r.software_version = "0.1.0";  // fixed, not this build's provenance, so the golden file stays put
    r.software_commit = "0123456789ab";
    r.software_build_date = "2026-11-22T00:00:00Z";
    r.vantage.label = "seoul-kt-1";
    r.vantage.cc = "KR";
    r.vantage.asn = "AS4766";
    r.started_at = "2026-11-22T03:00:00.123Z";
    r.runtime_ms = 812;
    r.target.service = "line";
    r.target.host = "line.me";
    r.target.port = 443;
    r.target.protocol = "https";
    r.target.role = "web";
    r.target.cert_names = {"line.me"};
    DnsObservation d;
    d.t0_ms = 0.5;
    d.t_ms = 3.25;
    d.resolver = "system";
    d.resolver_address = "192.0.2.53:53";
    d.hostname = "line.me";
    d.query_type = "A";
    d.rcode = 0;
    d.answers = {{"A", "10.10.34.35", 60}};
    DnsResponse injected, real;
    injected.t_ms = 3.25;
    injected.rcode = 0;
    injected.ip_ttl = 47;
    injected.answers = {{"A", "10.10.34.35", 60}};
    real.t_ms = 48.5;
    real.rcode = 0;
    real.ip_ttl = 52;
    real.answers = {{"A", "147.92.1.2", 300}};
    d.responses = {injected, real};
    r.observations.dns.push_back(d);
    TcpObservation t;
    t.t0_ms = 50;
    t.t_ms = 51.5;
    t.ip = "147.92.1.2";
    t.port = 443;
    r.observations.tcp.push_back(t);
    TlsObservation s;
    s.t0_ms = 51.5;
    s.t_ms = 60;
    s.ip = "147.92.1.2";
    s.port = 443;
    s.sni = "line.me";
    s.failure = "connection_reset";
    s.raw_error = "ECONNRESET";
    r.observations.tls.push_back(s);
    s.sni = "example.org";
    s.purpose = "neutral_sni";
    s.failure.reset();
    s.raw_error = "";
    s.tls_version = "TLSv1.3";
    s.cipher = "TLS_AES_128_GCM_SHA256";
    CertificateInfo cert;
    cert.subject = "CN=line.me";
    cert.issuer = "CN=Test CA";
    cert.not_before = "2026-01-01T00:00:00Z";
    cert.not_after = "2027-01-01T00:00:00Z";
    cert.dns_names = {"line.me", "*.line.me"};
    cert.sha256 = "00ff";
    s.peer_certificates = {cert};
    r.observations.tls.push_back(s);
    HttpObservation h;
    h.t0_ms = 61;
    h.t_ms = 70;
    h.url = "https://line.me/";
    h.ip = "147.92.1.2";
    h.port = 443;
    h.status = 200;
    h.headers = {{"Content-Type", "text/html"}};
    h.body_length = 1234;
    h.body_sha256 = "ab";
    h.title = "LINE";
    h.body_excerpt = "<title>LINE</title>";
    h.throughput_kbps = 512.5;
    r.observations.http.push_back(h);
    AppObservation a;
    a.t0_ms = 71;
    a.t_ms = 80;
    a.protocol = "mtproto";
    a.transport = "intermediate";
    a.address = "149.154.167.51:443";
    a.failure = "connection_reset";
    a.raw_error = "ECONNRESET";
    r.observations.app.push_back(a);
    a.transport = "obfuscated";
    a.failure.reset();
    a.raw_error = "";
    a.genuine = true;
    r.observations.app.push_back(a);
    PacketObservation p;
    p.t_ms = 3.2;
    p.kind = "dns_response";
    p.src = "192.0.2.53:53";
    p.ip_ttl = 47;
    p.ip_id = 4321;
    p.detail = "A 10.10.34.35";
    r.observations.packets.push_back(p);
    r.control.requested = true;
    r.control.failure = "generic_timeout_error";
    r.context.canaries_total = 3;
    r.context.canaries_ok = 2;
    r.context.routable = {"10.0.0.0/8"};
    r.context.list_rows_skipped = 1;
    r.verdict.status = VerdictStatus::blocked;
    r.verdict.method = "tls_sni_reset";
    r.verdict.confidence = 0.9;
    r.verdict.evidence = {"the handshake with SNI line.me was reset; the neutral SNI worked"};
    r.tries = 2;
    EarlierTry earlier;
    earlier.started_at = "2026-11-22T02:59:50.000Z";
    earlier.runtime_ms = 5004;
    earlier.verdict = r.verdict;
    r.earlier_tries.push_back(earlier);
    return r;
}

json read_golden() {
    std::ifstream in(kGolden);
    REQUIRE_MESSAGE(in.good(), "missing golden file " << kGolden);
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

}  // namespace

TEST_CASE("a full record serialises exactly as the golden file") {
    json actual = full_record();
    if (const char* update = std::getenv("MEOKTONG_UPDATE_GOLDEN"); update != nullptr && std::string(update) == "1") {
        std::ofstream(kGolden) << actual.dump(2) << "\n";
    }
    json golden = read_golden();
    CHECK_MESSAGE(actual == golden, "differences: " << json::diff(golden, actual).dump());
}

TEST_CASE("the golden record carries every key of SPEC section 4") {
    json g = read_golden();
    for (const char* key : {"schema", "id", "run_id", "software", "vantage", "started_at", "runtime_ms", "target",
                            "observations", "control", "verdict"})
        CHECK_MESSAGE(g.contains(key), key);
    CHECK(g["schema"] == "meoktong.measurement/v1");
    for (const char* key : {"dns", "tcp", "tls", "http", "app", "packets"}) CHECK(g["observations"].contains(key));
    for (const char* key : {"dns", "tcp", "tls", "http", "app"}) CHECK(g["control"]["observations"].contains(key));
    for (const auto& kind : {"dns", "tcp", "tls", "http", "app", "packets"}) {
        REQUIRE_FALSE(g["observations"][kind].empty());
        for (const auto& o : g["observations"][kind]) {
            CHECK(o.contains("t0_ms"));
            CHECK(o.contains("t_ms"));
            CHECK(o.contains("failure"));
        }
    }
    for (const auto& o : g["observations"]["app"])  // SPEC §7
        for (const char* key : {"protocol", "address", "genuine"}) CHECK_MESSAGE(o.contains(key), key);
    CHECK(g["observations"]["app"][0]["genuine"].is_null());
    CHECK(g["observations"]["app"][1]["genuine"] == true);
    CHECK(g["verdict"]["method"] == "tls_sni_reset");
    for (const char* key : {"name", "version", "commit", "build_date"}) CHECK_MESSAGE(g["software"].contains(key), key);
}

TEST_CASE("a new record carries this build's provenance") {
    json j = Record{};
    CHECK(j["software"]["name"] == "meoktong");
    CHECK(j["software"]["version"] == kSoftwareVersion);
    CHECK(j["software"]["commit"] == kSoftwareCommit);
    CHECK(j["software"]["build_date"] == kSoftwareBuildDate);
    CHECK_FALSE(std::string(kSoftwareCommit).empty());
    CHECK(std::string(kSoftwareBuildDate).size() == 20);  // YYYY-MM-DDTHH:MM:SSZ
}

TEST_CASE("a record survives a JSON round trip") {
    json first = full_record();
    Record back = first.get<Record>();
    json second = back;
    CHECK(first == second);
}

TEST_CASE("a record written before retests has made one try") {
    json j = full_record();
    j.erase("tries");
    j.erase("earlier_tries");
    Record r = j.get<Record>();
    CHECK(r.tries == 1);
    CHECK(r.earlier_tries.empty());
}

TEST_CASE("a DNS observation's transport: doh read back, udp when a record written before it has none") {
    json j = full_record();
    j["observations"]["dns"][0]["transport"] = "doh";
    CHECK(j.get<Record>().observations.dns[0].transport == "doh");
    j["observations"]["dns"][0].erase("transport");
    CHECK(j.get<Record>().observations.dns[0].transport == "udp");
}

TEST_CASE("numbers that do not fit their field make a record malformed, never undefined") {
    json j = full_record();
    SUBCASE("a huge float in an int field") { j["observations"]["dns"][0]["rcode"] = 2.88889e+116; }
    SUBCASE("a negative port") { j["target"]["port"] = -1; }
    SUBCASE("a port above 65535") { j["target"]["port"] = 70000; }
    SUBCASE("an integer above int64 in runtime_ms") { j["runtime_ms"] = 18446744073709551615ULL; }
    SUBCASE("a float ttl beyond uint32") { j["observations"]["dns"][0]["answers"][0]["ttl"] = 5e9; }
    SUBCASE("no try at all") { j["tries"] = 0; }
    SUBCASE("more earlier tries than tries") { j["tries"] = 1; }
    CHECK_THROWS_AS(j.get<Record>(), json::exception);
}

TEST_CASE("in-range numbers are read, a float into an integer field truncates") {
    json j = full_record();
    j["target"]["port"] = 443.0;
    j["observations"]["dns"][0]["rcode"] = -1;
    Record r = j.get<Record>();
    CHECK(r.target.port == 443);
    CHECK(r.observations.dns[0].rcode == -1);
}

TEST_CASE("verdict statuses: one name each, read back; any other text makes a record malformed") {
    for (int i = 0; i < kVerdictStatusCount; ++i) {
        auto status = VerdictStatus(i);
        CHECK(parse_verdict_status(verdict_status_name(status)) == status);
        Verdict v;
        v.status = status;
        CHECK(json(v)["status"] == verdict_status_name(status));
        CHECK(json(v).get<Verdict>().status == status);
    }
    CHECK(std::string(verdict_status_name(VerdictStatus::provider_down)) == "provider_down");
    CHECK_FALSE(parse_verdict_status("Blocked"));
    CHECK_FALSE(parse_verdict_status(""));
    json j = full_record();
    j["verdict"]["status"] = "censored";
    CHECK_THROWS_AS(j.get<Record>(), json::exception);
}
