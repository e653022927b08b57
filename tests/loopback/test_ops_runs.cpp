// Unattended operation, end to end with the built `meoktong run`: two
// overlapping runs never corrupt or duplicate a report (the run lock), a run
// killed mid-way leaves no truncated report (temp file + rename), and
// --max-runtime ends a run that would otherwise hang on a silent target.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "probe/ops/retention.hpp"
#include "probe/ops/run_lock.hpp"
#include "test_servers.hpp"

extern char** environ;

using namespace meoktong::testing;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

struct OpsScratch {
    fs::path dir;
    fs::path out;
    fs::path config;
    OpsScratch() {
        char tmpl[] = "/tmp/meoktong-ops-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        out = dir / "reports";
        config = dir / "config.json";
        std::ofstream(config) << "{}";  // hermetic: never the machine's /etc/meoktong/config.json
    }
    ~OpsScratch() { fs::remove_all(dir); }
};

// A `meoktong run` child with stdout/stderr in files under the scratch dir.
class RunProcess {
public:
    RunProcess(const OpsScratch& s, const std::string& name, std::vector<std::string> extra) {
        err_ = s.dir / (name + ".stderr");
        std::vector<std::string> args = {MEOKTONG_BINARY, "run", "--config", s.config.string(),
                                         "--out", s.out.string(), "--format", "json", "--vantage", "ops-lab"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, (s.dir / (name + ".stdout")).c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
    }
    ~RunProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }

    // Exit status, or -signal when killed by a signal. Kills the child if it
    // is still running after `bound` (a guard against a hung suite only).
    int wait(seconds bound = seconds(120)) {
        auto give_up = steady_clock::now() + bound;
        int status = 0;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (steady_clock::now() > give_up) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                pid_ = -1;
                FAIL("meoktong run did not end within " << bound.count() << " s");
            }
            std::this_thread::sleep_for(milliseconds(20));
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    std::string stderr_text() const {
        std::ifstream in(err_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    pid_t pid_ = -1;
    fs::path err_;
};

// Waits until `pid` holds the run lock of `out` (it records its pid there
// once the lock is taken): proof that the run is under way.
bool wait_for_lock_holder(const fs::path& out, pid_t pid, seconds bound = seconds(30)) {
    std::string lock = meoktong::lock_path_for_output(out.string());
    auto give_up = steady_clock::now() + bound;
    while (steady_clock::now() < give_up) {
        if (meoktong::lock_holder_pid(lock) == static_cast<long>(pid)) return true;
        std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
}

// Every *.jsonl in `out` (reports; hidden temp files are not reports).
std::vector<fs::path> reports_in(const fs::path& out) {
    std::vector<fs::path> reports;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out, ec)) {
        std::string name = e.path().filename().string();
        if (e.is_regular_file() && name[0] != '.' && e.path().extension() == ".jsonl") reports.push_back(e.path());
    }
    return reports;
}

// A report is whole: it ends with a newline and every line is a record.
std::vector<json> whole_report(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    CHECK_MESSAGE((!text.empty() && text.back() == '\n'), "truncated report " << path);
    std::vector<json> records;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        json record = json::parse(line, nullptr, false);
        CHECK_MESSAGE(!record.is_discarded(), "a line of " << path << " is not JSON");
        if (!record.is_discarded()) records.push_back(record);
    }
    return records;
}

std::vector<std::string> silent_target_args(const TcpTestServer& silent, int timeout_ms) {
    return {"--target", "tls://127.0.0.1:" + std::to_string(silent.port()), "--timeout-ms",
            std::to_string(timeout_ms)};
}

void check_one_whole_report(const fs::path& out, size_t targets) {
    auto reports = reports_in(out);
    REQUIRE_MESSAGE(reports.size() == 1, "reports found: " << reports.size());
    CHECK(meoktong::parse_report_file_name(reports[0].filename().string()).has_value());
    auto records = whole_report(reports[0]);
    CHECK(records.size() == targets);
    std::set<std::string> run_ids, ids;
    for (const auto& r : records) {
        run_ids.insert(r.value("run_id", ""));
        ids.insert(r.value("id", ""));
    }
    CHECK(run_ids.size() == 1);
    CHECK(ids.size() == records.size());
}

// The run lock, --config and --max-runtime are wired into `meoktong run` by
// the integration step of issue 7 (see docs/operations.md). Until `run
// --help` offers them these tests cannot test anything: they say so loudly
// and stop, instead of failing on "unknown option".
bool ops_wired() {
    std::string cmd = std::string(MEOKTONG_BINARY) + " run --help 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string help;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) help.append(buf, n);
    ::pclose(p);
    bool wired = help.find("--config") != std::string::npos && help.find("--max-runtime") != std::string::npos;
    WARN_MESSAGE(wired, "meoktong run has no --config/--max-runtime yet: ops end-to-end test NOT run");
    return wired;
}

}  // namespace

TEST_CASE("ops: a run started while another is under way exits 0 and writes nothing") {
    if (!ops_wired()) return;
    OpsScratch s;
    TcpTestServer silent(Behaviour::Silent);
    RunProcess first(s, "first", silent_target_args(silent, 3000));
    REQUIRE_MESSAGE(wait_for_lock_holder(s.out, first.pid()),
                    "the first run never held the run lock: " << first.stderr_text());
    RunProcess second(s, "second", silent_target_args(silent, 3000));
    CHECK(second.wait() == 0);
    CHECK(second.stderr_text().find("another run") != std::string::npos);
    CHECK(first.wait() == 0);
    check_one_whole_report(s.out, 1);
}

TEST_CASE("ops: two runs started at the same moment leave exactly one whole report") {
    if (!ops_wired()) return;
    OpsScratch s;
    fs::create_directories(s.out);
    TcpTestServer silent(Behaviour::Silent);
    RunProcess a(s, "a", silent_target_args(silent, 2000));
    RunProcess b(s, "b", silent_target_args(silent, 2000));
    int status_a = a.wait(), status_b = b.wait();
    CHECK(status_a == 0);
    CHECK(status_b == 0);
    std::string messages = a.stderr_text() + b.stderr_text();
    CHECK(messages.find("another run") != std::string::npos);
    check_one_whole_report(s.out, 1);
}

TEST_CASE("ops: a run killed mid-way leaves no truncated report; the next run is whole") {
    if (!ops_wired()) return;
    for (int signal : {SIGKILL, SIGTERM}) {
        CAPTURE(signal);
        OpsScratch s;
        TcpTestServer silent(Behaviour::Silent);
        {
            RunProcess victim(s, "victim", silent_target_args(silent, 5000));
            REQUIRE_MESSAGE(wait_for_lock_holder(s.out, victim.pid()),
                            "the run never held the run lock: " << victim.stderr_text());
            ::kill(victim.pid(), signal);
            CHECK(victim.wait() != 0);
        }
        CHECK(reports_in(s.out).empty());
        RunProcess next(s, "next", silent_target_args(silent, 1000));
        CHECK(next.wait() == 0);
        check_one_whole_report(s.out, 1);
    }
}

TEST_CASE("ops: --max-runtime ends a run stuck on a silent target, leaving no truncated report") {
    if (!ops_wired()) return;
    OpsScratch s;
    TcpTestServer silent(Behaviour::Silent);
    auto args = silent_target_args(silent, 300000);
    args.insert(args.end(), {"--max-runtime", "1"});
    RunProcess run(s, "bounded", args);
    // Without the bound this run would wait 300 s in its TLS step; the bound
    // (1 s, then a 30 s grace) ends it long before this guard.
    int status = run.wait(seconds(150));
    CHECK((status == 0 || status == 1));
    for (const auto& report : reports_in(s.out)) whole_report(report);
}
