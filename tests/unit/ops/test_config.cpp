// Config file: every key read and validated, one-line errors naming file and
// key, and the command line overriding the file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "meoktong/target.hpp"
#include "probe/ops/config.hpp"

using namespace meoktong;

namespace {

std::string error_of(const std::string& text) {
    try {
        parse_config(text, "/etc/meoktong/config.json");
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a full config is read into RunConfig") {
    auto o = parse_config(R"({
      "comment": "probe in Seoul",
      "lists": ["messengers", "kr"], "services": "kakaotalk",
      "resolvers": ["8.8.8.8", "1.1.1.1:5353", "[2001:db8::1]:53"],
      "routable": ["10.0.0.0/8"],
      "control": {"url": "https://ctl.example.org:8443", "token_file": "/etc/meoktong/token"},
      "vantage": {"label": "seoul-kt-1", "cc": "kr", "asn": 4766},
      "out": "/var/lib/meoktong/reports", "capture": "auto", "ca_file": "/etc/ssl/ca.pem",
      "retention": {"days": 30, "megabytes": 500},
      "upload": {"url": "https://collector.example.org/v1/reports", "token": "up-secret"},
      "geoip_db": ["/usr/share/GeoIP/GeoLite2-Country.mmdb", "/usr/share/GeoIP/GeoLite2-ASN.mmdb"],
      "max_runtime": "20m", "concurrency": 16, "timeout_ms": 4000, "log": "syslog"
    })", "test");
    CHECK(o.lists == std::vector<std::string>{"messengers", "kr"});
    CHECK(o.services == std::vector<std::string>{"kakaotalk"});
    CHECK(o.resolvers.size() == 3);
    CHECK(o.routable == std::vector<std::string>{"10.0.0.0/8"});
    CHECK(o.control_url == "https://ctl.example.org:8443");
    CHECK(!o.control_token);
    CHECK(o.control_token_file == "/etc/meoktong/token");
    CHECK(o.vantage == "seoul-kt-1");
    CHECK(o.cc == "KR");
    CHECK(o.asn == "AS4766");
    CHECK(o.out == "/var/lib/meoktong/reports");
    CHECK(o.capture == "auto");
    CHECK(o.ca_file == "/etc/ssl/ca.pem");
    CHECK(o.retention_days == 30);
    CHECK(o.retention_mb == 500);
    CHECK(o.upload_url == "https://collector.example.org/v1/reports");
    CHECK(o.upload_token == "up-secret");
    CHECK(o.geoip_db.size() == 2);
    CHECK(o.max_runtime_s == 1200);
    CHECK(o.concurrency == 16);
    CHECK(o.timeout_ms == 4000);
    CHECK(o.log == "syslog");
}

TEST_CASE("canaries from the config, replaced as a whole by --canary") {
    auto file = parse_config(R"({"canaries": ["tls://canary.example", "tcp://192.0.2.1:443"]})", "test");
    CHECK(file.canaries == std::vector<std::string>{"tls://canary.example", "tcp://192.0.2.1:443"});
    RunConfig cli;
    CHECK(merge_options(file, cli).canaries.size() == 2);
    cli.canaries = {"tls://mine.example"};
    CHECK(merge_options(file, cli).canaries == std::vector<std::string>{"tls://mine.example"});
}

TEST_CASE("DoH resolvers from the config, replaced as a whole by --doh") {
    auto file = parse_config(R"({"doh": ["https://dns.example/dns-query", "https://10.0.0.53/q"]})", "test");
    CHECK(file.doh == std::vector<std::string>{"https://dns.example/dns-query", "https://10.0.0.53/q"});
    auto one = parse_config(R"({"doh": "https://dns.example/dns-query"})", "test");
    CHECK(one.doh.size() == 1);
    RunConfig cli;
    CHECK(merge_options(file, cli).doh.size() == 2);
    cli.doh = {"https://mine.example/dns-query"};
    CHECK(merge_options(file, cli).doh == std::vector<std::string>{"https://mine.example/dns-query"});
}

TEST_CASE("an empty object is a valid config with nothing set") {
    auto o = parse_config("{}", "test");
    CHECK(o.lists.empty());
    CHECK(!o.out);
    CHECK(!o.max_runtime_s);
}

TEST_CASE("errors are one line and name the file and the key") {
    struct Case {
        const char* text;
        const char* needle;
    };
    const Case cases[] = {
        {R"({"retention": {"days": 0}})", "key 'retention.days': must be an integer from 1"},
        {R"({"retention": {"dayz": 3}})", "key 'retention.dayz': unknown key"},
        {R"({"concurency": 3})", "key 'concurency': unknown key"},
        {R"({"concurrency": "8"})", "key 'concurrency': must be an integer"},
        {R"({"concurrency": 99999999999999999999})", "key 'concurrency'"},
        {R"({"timeout_ms": -5})", "key 'timeout_ms'"},
        {R"({"vantage": {"cc": "KOR"}})", "key 'vantage.cc': bad country code 'KOR'"},
        {R"({"vantage": {"asn": "ASX"}})", "key 'vantage.asn': bad ASN"},
        {R"({"vantage": "seoul"})", "key 'vantage': must be an object"},
        {R"({"control": {"url": "ftp://x"}})", "key 'control.url'"},
        {R"({"control": {"token": "a", "token_file": "/b"}})", "key 'control': give either token or token_file"},
        {R"({"upload": {"url": "http://collector.example.org/"}})", "key 'upload.url': plain http://"},
        {R"({"upload": {"url": "http://127.evil.example/"}})", "key 'upload.url': plain http://"},
        {R"({"resolvers": ["8.8.8.8:99999"]})", "key 'resolvers': '8.8.8.8:99999' is not IP or IP:PORT"},
        {R"({"resolvers": ["dns.google"]})", "key 'resolvers'"},
        {R"({"doh": ["http://dns.example/dns-query"]})", "key 'doh': 'http://dns.example/dns-query' is not an https:// URL"},
        {R"({"doh": ["dns.example"]})", "key 'doh'"},
        {R"({"routable": ["10.0.0.0/33"]})", "key 'routable'"},
        {R"({"canaries": ["ftp://x"]})", "key 'canaries'"},
        {R"({"lists": [1]})", "key 'lists[0]': must be a string"},
        {R"({"lists": [""]})", "key 'lists[0]': must not be empty"},
        {R"({"out": "a\nb"})", "key 'out': must be one line"},
        {R"({"capture": "eth0; rm -rf /"})", "key 'capture'"},
        {R"({"log": "file"})", "key 'log': must be stderr or syslog"},
        {R"({"max_runtime": "20 minutes"})", "key 'max_runtime': bad duration"},
        {R"({"max_runtime": 0})", "key 'max_runtime'"},
        {R"([1, 2])", "must be a JSON object"},
        {R"({"lists": )", "not valid JSON"},
        {R"({"timeout_ms": 6666e01615})", "not valid JSON"},  // found by fuzz_config
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        std::string err = error_of(c.text);
        CHECK(err.find("config /etc/meoktong/config.json") == 0);
        CHECK(err.find(c.needle) != std::string::npos);
        CHECK(err.find('\n') == std::string::npos);
    }
}

TEST_CASE("plain http upload is allowed to a loopback collector only") {
    CHECK_NOTHROW(check_upload_url("http://127.0.0.1:8080/up", "x"));
    CHECK_NOTHROW(check_upload_url("http://[::1]:8080/up", "x"));
    CHECK_NOTHROW(check_upload_url("http://localhost/up", "x"));
    CHECK_NOTHROW(check_upload_url("https://collector.example.org/up", "x"));
    CHECK_THROWS_AS(check_upload_url("http://10.0.0.1/up", "x"), InputError);
    CHECK_THROWS_AS(check_upload_url("http://user@127.0.0.1.example.org/", "x"), InputError);
    CHECK_THROWS_AS(check_upload_url("collector.example.org", "x"), InputError);
}

TEST_CASE("an OONI collector is named ooni+URL, with the same https/loopback rule") {
    CHECK_NOTHROW(check_upload_url("ooni+https://ams-pg.ooni.org/", "x"));
    CHECK_NOTHROW(check_upload_url("ooni+http://127.0.0.1:8080", "x"));
    CHECK_THROWS_AS(check_upload_url("ooni+http://collector.example.org/", "x"), InputError);
    CHECK_THROWS_AS(check_upload_url("ooni+", "x"), InputError);
    CHECK_THROWS_AS(check_upload_url("ooni:https://collector.example.org/", "x"), InputError);
    CHECK(parse_config(R"({"upload": {"url": "ooni+https://ams-pg.ooni.org/"}})", "test").upload_url ==
          "ooni+https://ams-pg.ooni.org/");
}

TEST_CASE("durations, country codes and ASNs in the config go through the core parsers") {
    auto read = [](const std::string& text) { return parse_config(text, "test"); };
    CHECK(read(R"({"max_runtime": "90"})").max_runtime_s == 90);
    CHECK(read(R"({"max_runtime": "2h"})").max_runtime_s == 7200);
    CHECK(read(R"({"max_runtime": "7d"})").max_runtime_s == 7 * 86400);
    CHECK(read(R"({"vantage": {"cc": "kr"}})").cc == "KR");
    CHECK(read(R"({"vantage": {"asn": "as4766"}})").asn == "AS4766");
    CHECK(read(R"({"vantage": {"asn": "AS04766"}})").asn == "AS4766");
    CHECK(read(R"({"vantage": {"asn": 4294967295}})").asn == "AS4294967295");
    for (const char* bad : {R"({"max_runtime": " 5m"})", R"({"max_runtime": "8d"})", R"({"max_runtime": "0s"})",
                            R"({"max_runtime": "-5"})", R"({"vantage": {"cc": " kr"}})",
                            R"({"vantage": {"cc": "K1"}})", R"({"vantage": {"asn": "AS"}})",
                            R"({"vantage": {"asn": " 4766"}})", R"({"vantage": {"asn": "AS4294967296"}})",
                            R"({"vantage": {"asn": 4294967296}})", R"({"resolvers": ["8.8.8.8: 53"]})",
                            R"({"resolvers": ["8.8.8.8:+53"]})"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(read(bad), InputError);
    }
}

TEST_CASE("the command line overrides the config") {
    RunConfig config = parse_config(R"({
      "lists": ["messengers", "kr"], "out": "/var/lib/meoktong", "concurrency": 8,
      "control": {"url": "https://ctl.example.org", "token_file": "/etc/meoktong/token"},
      "retention": {"days": 30}, "vantage": {"label": "seoul-1", "cc": "KR"}})", "test");
    RunConfig cli;
    cli.lists = {"cn"};
    cli.concurrency = 2;
    cli.control_token = "cli-token";
    cli.retention_mb = 100;
    auto m = merge_options(config, cli);
    CHECK(m.lists == std::vector<std::string>{"cn"});
    CHECK(m.concurrency == 2);
    CHECK(m.out == "/var/lib/meoktong");
    CHECK(m.control_url == "https://ctl.example.org");
    CHECK(m.control_token == "cli-token");
    CHECK(!m.control_token_file);
    CHECK(m.retention_days == 30);
    CHECK(m.retention_mb == 100);
    CHECK(m.vantage == "seoul-1");
    CHECK(m.cc == "KR");

    auto unchanged = merge_options(config, RunConfig{});
    CHECK(unchanged.lists == config.lists);
    CHECK(unchanged.control_token_file == "/etc/meoktong/token");
}

TEST_CASE("config files and token files on disk") {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("meoktong-config-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "token") << "  s3cret-token \nsecond line\n";
    std::ofstream(dir / "config.json") << R"({"control": {"url": "https://c.example", "token_file": ")"
                                        << (dir / "token").string() << R"("}})";
    auto o = load_run_config((dir / "config.json").string());
    CHECK(resolve_control_token(o) == "s3cret-token");

    std::ofstream(dir / "empty-token") << "\n";
    RunConfig empty;
    empty.control_token_file = (dir / "empty-token").string();
    CHECK_THROWS_WITH_AS(resolve_control_token(empty), doctest::Contains("is empty"), InputError);
    RunConfig missing;
    missing.control_token_file = (dir / "nope").string();
    CHECK_THROWS_WITH_AS(resolve_control_token(missing), doctest::Contains("cannot be read"), InputError);
    CHECK(!resolve_control_token(RunConfig{}));
    CHECK_THROWS_WITH_AS(load_run_config((dir / "absent.json").string()),
                         doctest::Contains("absent.json: cannot be read"), InputError);
    fs::remove_all(dir);
}
