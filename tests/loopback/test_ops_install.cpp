// scripts/install-timer into a staging root (--root): the binary, lists,
// config (never overwritten), service and timer with a randomised delay,
// the cron line, and --uninstall keeping the config; the units checked by
// systemd-analyze and the service's command run as the unit would run it.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "probe/ops/config.hpp"
#include "privileges.hpp"
#include "test_servers.hpp"

namespace fs = std::filesystem;

namespace {

struct Shell {
    int status = -1;
    std::string out;
};

Shell sh(const std::string& command) {
    Shell r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
    int rc = ::pclose(p);
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return r;
}

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const std::string kScript = std::string(MEOKTONG_SOURCE_DIR) + "/scripts/install-timer";

}  // namespace

TEST_CASE("ops: install-timer installs into a staging root and uninstalls") {
    char tmpl[] = "/tmp/meoktong-install-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    fs::path root = tmpl;
    std::string install = kScript + " --root " + root.string() + " --binary " + MEOKTONG_BINARY;

    Shell first = sh(install);
    REQUIRE_MESSAGE(first.status == 0, first.out);
    CHECK(fs::exists(root / "usr/local/bin/meoktong"));
    CHECK(fs::exists(root / "usr/local/share/meoktong/testlists/messengers.json"));
    std::string service = slurp(root / "etc/systemd/system/meoktong.service");
    std::string timer = slurp(root / "etc/systemd/system/meoktong.timer");
    CHECK(service.find("ExecStart=/usr/local/bin/meoktong run --config /etc/meoktong/config.json") != std::string::npos);
    CHECK(service.find("User=meoktong") != std::string::npos);
    CHECK(timer.find("RandomizedDelaySec=15min") != std::string::npos);
    CHECK(timer.find("OnCalendar=hourly") != std::string::npos);
    CHECK(first.out.find("0 * * * * meoktong sleep $(shuf -i 0-900 -n 1); /usr/local/bin/meoktong run") !=
          std::string::npos);

    // The default config is valid for the binary's own parser.
    fs::path config = root / "etc/meoktong/config.json";
    auto parsed = meoktong::load_config(config.string());
    CHECK(parsed.out == "/var/lib/meoktong/reports");
    CHECK(parsed.max_runtime_s == 1200);

    // A second install keeps the operator's config.
    std::ofstream(config) << R"({"vantage": {"label": "mine"}})";
    Shell second = sh(install + " --on-calendar '*:0/30' --randomized-delay 5min");
    REQUIRE_MESSAGE(second.status == 0, second.out);
    CHECK(slurp(config) == R"({"vantage": {"label": "mine"}})");
    CHECK(slurp(root / "etc/systemd/system/meoktong.timer").find("RandomizedDelaySec=5min") != std::string::npos);

    Shell removed = sh(kScript + " --root " + root.string() + " --uninstall");
    REQUIRE_MESSAGE(removed.status == 0, removed.out);
    CHECK(!fs::exists(root / "usr/local/bin/meoktong"));
    CHECK(!fs::exists(root / "etc/systemd/system/meoktong.timer"));
    CHECK(!fs::exists(root / "usr/local/share/meoktong/testlists"));
    CHECK(fs::exists(config));

    CHECK(sh(kScript + " --bogus").status == 2);
    CHECK(sh(kScript + " --root " + root.string() + " --binary /nonexistent/meoktong").status == 2);
    CHECK(sh(kScript + " --user 'bad user'").status == 2);
    fs::remove_all(root);
}

namespace {

// The unit file with its absolute paths moved into the staging root, so that
// systemd can check the ExecStart binary exists.
fs::path staged_unit(const fs::path& root, const std::string& name, const fs::path& dir) {
    std::string unit = slurp(root / "etc/systemd/system" / name);
    for (const std::string from : {"/usr/local/bin/meoktong", "/etc/meoktong/config.json"}) {
        for (auto at = unit.find(from); at != std::string::npos; at = unit.find(from, at + 1)) {
            unit.replace(at, from.size(), root.string() + from);
            at += root.string().size();
        }
    }
    std::ofstream(dir / name) << unit;
    return dir / name;
}

// The service's ExecStart words (after "ExecStart=").
std::string exec_start(const fs::path& unit) {
    std::string text = slurp(unit);
    auto at = text.find("ExecStart=");
    REQUIRE(at != std::string::npos);
    return text.substr(at + 10, text.find('\n', at) - at - 10);
}

}  // namespace

TEST_CASE("ops: the installed units pass systemd's checks; the service command runs unprivileged with CAP_NET_RAW") {
    if (sh("command -v systemd-analyze && command -v setpriv").status != 0 || ::geteuid() != 0) {
        meoktong::testing::cannot_run_here("needs root, systemd-analyze and setpriv (scripts/setup --test)");
        return;
    }
    char tmpl[] = "/tmp/meoktong-units-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    fs::path root = tmpl;
    fs::permissions(root, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    Shell install = sh(kScript + " --root " + root.string() + " --binary " + MEOKTONG_BINARY);
    REQUIRE_MESSAGE(install.status == 0, install.out);
    fs::create_directories(root / "units");
    fs::path service = staged_unit(root, "meoktong.service", root / "units");
    fs::path timer = staged_unit(root, "meoktong.timer", root / "units");

    // systemd's own parser: every setting known, calendar valid, binary executable.
    Shell verify = sh("systemd-analyze --man=no verify " + service.string() + " " + timer.string());
    CHECK_MESSAGE(verify.status == 0, verify.out);
    Shell calendar = sh("systemd-analyze calendar \"$(sed -n 's/^OnCalendar=//p' " + timer.string() + ")\"");
    CHECK_MESSAGE(calendar.status == 0, calendar.out);

    // The service's command as the unit runs it: an unprivileged user whose only
    // capability is CAP_NET_RAW (User=, AmbientCapabilities=), against a loopback
    // target (--target replaces the config's lists), with packet capture on.
    fs::path out = root / "reports";
    fs::create_directories(out);
    REQUIRE(::chown(out.c_str(), 65534, 65534) == 0);
    // install-timer gives the config to the service's group (0640); here that is nogroup.
    REQUIRE(::chown((root / "etc/meoktong/config.json").c_str(), 0, 65534) == 0);
    std::string command = exec_start(service);
    command = command.substr(0, command.find(" --log syslog"));
    Shell run = sh("setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_raw "
                   "--ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw " +
                   command + " --target tcp://127.0.0.1:" + std::to_string(meoktong::testing::closed_port()) +
                   " --capture lo --out " + (out / "run.jsonl").string());
    REQUIRE_MESSAGE(run.status == 0, run.out);
    std::ifstream report(out / "run.jsonl");
    std::string line;
    REQUIRE(std::getline(report, line));
    auto record = nlohmann::json::parse(line);
    CHECK(record["context"]["capture_enabled"] == true);
    CHECK(record["observations"]["tcp"][0]["failure"] == "connection_refused");
    fs::remove_all(root);
}

// scripts/install-collector into a staging root: its tokens file 0600 (never
// overwritten), the store path, the unit as systemd parses it, --uninstall.
TEST_CASE("ops: install-collector installs the collector's unit, tokens file and store path") {
    const std::string script = std::string(MEOKTONG_SOURCE_DIR) + "/scripts/install-collector";
    char tmpl[] = "/tmp/meoktong-collector-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    fs::path root = tmpl;
    std::string install = script + " --root " + root.string() + " --binary " + MEOKTONG_BINARY;

    Shell first = sh(install + " --listen 0.0.0.0:8443");
    REQUIRE_MESSAGE(first.status == 0, first.out);
    fs::path tokens = root / "etc/meoktong/collector-tokens";
    REQUIRE(fs::exists(tokens));
    CHECK((fs::status(tokens).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    std::string service = slurp(root / "etc/systemd/system/meoktong-collector.service");
    CHECK(service.find("ExecStart=/usr/local/bin/meoktong collector serve --listen 0.0.0.0:8443 "
                       "--tokens /etc/meoktong/collector-tokens --store sqlite:/var/lib/meoktong-collector/store.db") !=
          std::string::npos);
    CHECK(service.find("User=meoktong-collector") != std::string::npos);
    CHECK(service.find("ExecReload=/bin/kill -HUP $MAINPID") != std::string::npos);
    CHECK(service.find("ReadWritePaths=/var/lib/meoktong-collector") != std::string::npos);

    // The operator's tokens survive a reinstall.
    std::ofstream(tokens) << "kr-seoul-kt 0123456789abcdef0123\n";
    Shell again = sh(install + " --store clickhouse://127.0.0.1:8123/meoktong");
    REQUIRE_MESSAGE(again.status == 0, again.out);
    CHECK(slurp(tokens) == "kr-seoul-kt 0123456789abcdef0123\n");
    CHECK((fs::status(tokens).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(slurp(root / "etc/systemd/system/meoktong-collector.service")
              .find("--store clickhouse://127.0.0.1:8123/meoktong") != std::string::npos);

    if (sh("command -v systemd-analyze").status == 0) {
        fs::create_directories(root / "units");
        fs::path unit = staged_unit(root, "meoktong-collector.service", root / "units");
        Shell verify = sh("systemd-analyze --man=no verify " + unit.string());
        CHECK_MESSAGE(verify.status == 0, verify.out);
    } else {
        meoktong::testing::cannot_run_here("no systemd-analyze: the collector's unit is not verified");
    }

    CHECK(sh(script + " --root " + root.string() + " --binary " + MEOKTONG_BINARY + " --store bogus").status == 2);
    CHECK(sh(script + " --root " + root.string() + " --binary " + MEOKTONG_BINARY + " --tls-cert /a.pem").status == 2);
    CHECK(sh(script + " --listen 'no port'").status == 2);

    Shell removed = sh(script + " --uninstall --root " + root.string());
    REQUIRE_MESSAGE(removed.status == 0, removed.out);
    CHECK_FALSE(fs::exists(root / "etc/systemd/system/meoktong-collector.service"));
    CHECK_FALSE(fs::exists(root / "usr/local/bin/meoktong"));
    CHECK(fs::exists(tokens));
    fs::remove_all(root);
}
