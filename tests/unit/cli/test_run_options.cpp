// `meoktong run`'s command line (cli/run_options.hpp): every option into its
// typed value, bad input as one-line errors, and the merge over the config
// file into RunSettings (the command line wins, no text round trip). No network.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/run_options.hpp"
#include "meoktong/target.hpp"

using namespace meoktong;

namespace {

RunSettings settings_of(const Args& args, const RunConfig& file = {}) {
    RunCommandLine cl = parse_run_command_line(args);
    return run_settings(merge_options(file, cl.values), cl);
}

}  // namespace

TEST_CASE("run options are parsed, in both --opt value and --opt=value forms") {
    auto o = settings_of({"--target", "tls://line.me", "--target=tcp://1.2.3.4:5222", "--resolver", "8.8.8.8",
                          "--timeout-ms=1500", "--concurrency", "64", "--vantage", "seoul-1", "--routable",
                          "10.0.0.0/8", "--format", "json", "--capture", "eth0", "--canary", "tls://www.example.com",
                          "--out", "x.jsonl", "--service", "line", "--control", "https://ctl.example",
                          "--control-token", "tok"});
    CHECK(o.target_uris.size() == 2);
    CHECK(o.measure.resolvers == std::vector<std::string>{"8.8.8.8"});
    CHECK(o.measure.timeout_ms == 1500);
    CHECK(o.concurrency == 64);
    CHECK(o.vantage.label == "seoul-1");
    CHECK(o.routable == std::vector<std::string>{"10.0.0.0/8"});
    CHECK(o.measure.routable.size() == 1);
    CHECK(o.format == "json");
    CHECK(o.capture == "eth0");
    CHECK(o.canary_uris.size() == 1);
    CHECK(o.out == "x.jsonl");
    CHECK(o.services == std::vector<std::string>{"line"});
    CHECK(o.control_url == "https://ctl.example");
    CHECK(o.control_token == "tok");

    auto defaults = settings_of({});
    CHECK(defaults.vantage.label == "unnamed");
    CHECK(defaults.concurrency == 16);
    CHECK(defaults.out == "reports/");
    CHECK(defaults.format == "text");
    CHECK(defaults.capture == "off");
}

TEST_CASE("--doh is repeatable, checked as an https:// URL, and in the usage text") {
    auto o = settings_of({"--doh", "https://dns.example/dns-query", "--doh=https://10.0.0.53/q"});
    CHECK(o.measure.doh == std::vector<std::string>{"https://dns.example/dns-query", "https://10.0.0.53/q"});
    CHECK(settings_of({}).measure.doh.empty());
    CHECK_THROWS_WITH_AS(parse_run_command_line({"--doh", "http://dns.example/dns-query"}),
                         "bad --doh 'http://dns.example/dns-query': expected an https:// URL, e.g. https://dns.example/dns-query",
                         InputError);
    CHECK(std::string(kRunUsage).find("--doh URL") != std::string::npos);
}

TEST_CASE("--strict is a flag that makes Citizen Lab lists refuse unusable rows") {
    CHECK(settings_of({"--strict", "--list", "ru.csv"}).strict_lists);
    CHECK_FALSE(settings_of({"--list", "ru.csv"}).strict_lists);
    CHECK_THROWS_AS(parse_run_command_line({"--strict=yes"}), InputError);
    CHECK(std::string(kRunUsage).find("--strict") != std::string::npos);
}

TEST_CASE("--help wins over a bad option") {
    CHECK(parse_run_command_line({"--help"}).help);
    CHECK(parse_run_command_line({"--timeout-ms", "abc", "--help"}).help);
    CHECK_FALSE(parse_run_command_line({}).help);
}

TEST_CASE("--cc and --asn are normalised on the command line as in the config") {
    RunCommandLine cl = parse_run_command_line({"--cc", "kr", "--asn", "AS04766"});
    CHECK(cl.values.cc == "KR");
    CHECK(cl.values.asn == "AS4766");
    CHECK(parse_run_command_line({"--asn=4766"}).values.asn == "AS4766");
    CHECK(parse_run_command_line({"--asn", "4294967295"}).values.asn == "AS4294967295");
    CHECK_THROWS_WITH_AS(parse_run_command_line({"--asn", "4294967296"}), doctest::Contains("bad --asn"), InputError);
}

TEST_CASE("the options of unattended operation are typed too") {
    RunCommandLine cl = parse_run_command_line(
        {"--config", "/etc/m.json", "--max-runtime=20m", "--vantage", "--config", "--geoip-db", "a.mmdb",
         "--geoip-db", "b.mmdb", "--upload", "https://c.example/up", "--log", "syslog", "--retention-days", "30",
         "--retention-mb=500"});
    CHECK(cl.config_path == "/etc/m.json");
    CHECK(cl.values.vantage == "--config");  // the value of --vantage, not an option
    CHECK(cl.values.max_runtime_s == 1200);
    CHECK(cl.values.geoip_db == std::vector<std::string>{"a.mmdb", "b.mmdb"});
    CHECK(cl.values.upload_url == "https://c.example/up");
    CHECK(cl.values.log == "syslog");
    CHECK(cl.values.retention_days == 30);
    CHECK(cl.values.retention_mb == 500);

    CHECK_THROWS_WITH_AS(parse_run_command_line({"--max-runtime", "soon"}), doctest::Contains("bad --max-runtime"),
                         InputError);
    CHECK_THROWS_WITH_AS(parse_run_command_line({"--max-runtime", "8d"}), doctest::Contains("bad --max-runtime"),
                         InputError);
    CHECK_THROWS_WITH_AS(parse_run_command_line({"--retention-days", "0"}),
                         doctest::Contains("bad --retention-days '0'"), InputError);
    CHECK_THROWS_WITH_AS(parse_run_command_line({"--upload", "http://192.0.2.1/"}), doctest::Contains("bad --upload"),
                         InputError);
    CHECK_THROWS_WITH_AS(parse_run_command_line({"--log", "file"}), doctest::Contains("bad --log"), InputError);
    CHECK_THROWS_WITH_AS(parse_run_command_line({"--config"}), doctest::Contains("needs a value"), InputError);
}

TEST_CASE("an unknown option is named as unknown, even last on the line") {
    for (const Args& args : {Args{"--bogus"}, Args{"--out", "x.jsonl", "--bogus"}, Args{"--bogus=1"}}) {
        CAPTURE(args.back());
        CHECK_THROWS_WITH_AS(parse_run_command_line(args), doctest::Contains("unknown option '--bogus' for run"),
                             InputError);
    }
}

TEST_CASE("bad run options are one-line InputErrors") {
    std::vector<Args> bad = {{"--bogus"},
                             {"stray"},
                             {"--target"},
                             {"--target", "ftp://x"},
                             {"--resolver", "dns.google"},
                             {"--doh", "dns.example"},
                             {"--timeout-ms", "0"},
                             {"--timeout-ms", "abc"},
                             {"--timeout-ms", " 5"},
                             {"--concurrency", "100000"},
                             {"--concurrency", "+5"},
                             {"--cc", "KOR"},
                             {"--asn", "ASX"},
                             {"--routable", "10.0.0.0/33"},
                             {"--format", "xml"},
                             {"--capture", "bad iface"},
                             {"--ca-file", "/nonexistent/ca.pem"},
                             {"--control", "ftp://x"},
                             {"--out="}};
    for (const auto& args : bad) {
        CAPTURE(args[0]);
        try {
            settings_of(args);
            FAIL("accepted");
        } catch (const InputError& e) {
            std::string msg = e.what();
            CHECK_FALSE(msg.empty());
            CHECK(msg.find('\n') == std::string::npos);
        }
    }
}

TEST_CASE("the config fills in only what the command line does not give") {
    RunConfig file = parse_config(R"({"lists": ["messengers", "kr"], "out": "/var/lib/meoktong/reports",
        "vantage": {"label": "seoul-1", "cc": "KR"}, "control": {"url": "https://ctl.example", "token": "tok-1234"},
        "concurrency": 8, "timeout_ms": 3000, "resolvers": ["8.8.8.8"], "capture": "auto"})", "test");
    RunSettings from_file = settings_of({}, file);
    CHECK(from_file.lists == std::vector<std::string>{"messengers", "kr"});
    CHECK(from_file.out == "/var/lib/meoktong/reports");
    CHECK(from_file.vantage.label == "seoul-1");
    CHECK(from_file.vantage.cc == "ZZ");  // cc/asn: resolve_vantage orders them with GeoIP
    CHECK(from_file.control_url == "https://ctl.example");
    CHECK(from_file.control_token == "tok-1234");
    CHECK(from_file.concurrency == 8);
    CHECK(from_file.measure.timeout_ms == 3000);
    CHECK(from_file.measure.resolvers == std::vector<std::string>{"8.8.8.8"});
    CHECK(from_file.capture == "auto");

    RunSettings over = settings_of({"--target", "tls://127.0.0.1:1", "--out=/tmp/r", "--control-token", "cli",
                                    "--timeout-ms", "100", "--resolver", "1.1.1.1"},
                                   file);
    CHECK(over.lists.empty());  // --target without --list drops the config's lists
    CHECK(over.out == "/tmp/r");
    CHECK(over.control_token == "cli");
    CHECK(over.measure.timeout_ms == 100);
    CHECK(over.measure.resolvers == std::vector<std::string>{"1.1.1.1"});
    CHECK(over.concurrency == 8);

    RunSettings both = settings_of({"--target", "tls://127.0.0.1:1", "--list", "cn"}, file);
    CHECK(both.lists == std::vector<std::string>{"cn"});
}

TEST_CASE("a control token file from the config is read; an unreadable trust store is refused") {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("meoktong-run-options-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "token") << "file-token\n";
    RunConfig file;
    file.control_token_file = (dir / "token").string();
    CHECK(settings_of({}, file).control_token == "file-token");
    CHECK(settings_of({"--control-token", "cli"}, file).control_token == "cli");
    file.ca_file = (dir / "absent.pem").string();
    CHECK_THROWS_WITH_AS(settings_of({}, file), doctest::Contains("bad --ca-file"), InputError);
    fs::remove_all(dir);
}
