// scripts/install-timer into a staging root (--root): the binary, lists,
// config (never overwritten), service and timer with a randomised delay,
// the cron line, and --uninstall keeping the config.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "probe/config.hpp"

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
