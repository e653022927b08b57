// Fault injection end to end (issues 7 and 9) with the built `meoktong run`
// against loopback servers only: a full disk while the report is written
// (a small tmpfs; needs root) and a control server killed mid-request, or
// killed while its reply is half sent. Each run must end with the exit status
// of SPEC §3, a clear error, and either a whole report or none at all.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "privileges.hpp"
#include "small_tmpfs.hpp"
#include "test_servers.hpp"

extern char** environ;

using namespace meoktong::testing;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

const std::string kControlToken = "fault-test-token-0123456789";

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct FaultScratch {
    fs::path dir;
    fs::path config;
    FaultScratch() {
        char tmpl[] = "/tmp/meoktong-fault-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        config = dir / "config.json";
        std::ofstream(config) << "{}";  // hermetic: never the machine's /etc/meoktong/config.json
    }
    ~FaultScratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

// A child process (the built meoktong) with stdout/stderr in files; killed
// and reaped when the test leaves early.
class Child {
public:
    Child(const fs::path& scratch, const std::string& name, std::vector<std::string> args)
        : out_(scratch / (name + ".stdout")), err_(scratch / (name + ".stderr")) {
        args.insert(args.begin(), MEOKTONG_BINARY);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    pid_t pid() const { return pid_; }

    // Exit status, or -signal when killed by a signal. `bound` only guards
    // the suite against a hang: past it the child is killed and the test fails.
    int wait(seconds bound = seconds(120)) {
        auto give_up = steady_clock::now() + bound;
        int status = 0;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (steady_clock::now() > give_up) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                pid_ = -1;
                FAIL("meoktong did not end within " << bound.count() << " s");
            }
            std::this_thread::sleep_for(milliseconds(20));
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    void kill_now() {
        REQUIRE(pid_ > 0);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    std::string stdout_text() const { return read_text(out_); }
    std::string stderr_text() const { return read_text(err_); }

private:
    pid_t pid_ = -1;
    fs::path out_, err_;
};

// `meoktong run` with a hermetic config, JSON output and the given options.
std::vector<std::string> run_args(const FaultScratch& s, const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", "--config", s.config.string(), "--out", out,
                                     "--format", "json", "--vantage", "fault-lab", "--timeout-ms", "1000"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

bool wait_until(const std::function<bool()>& done, seconds bound) {
    auto give_up = steady_clock::now() + bound;
    while (steady_clock::now() < give_up) {
        if (done()) return true;
        std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
}

size_t line_count(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

// Every line of a whole report (ends with a newline, every line a JSON object).
std::vector<json> whole_report(const fs::path& path) {
    std::string text = read_text(path);
    CHECK_MESSAGE((!text.empty() && text.back() == '\n'), "truncated report " << path);
    std::vector<json> records;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        json record = json::parse(line, nullptr, false);
        CHECK_MESSAGE(record.is_object(), "a line of " << path << " is not a JSON object");
        if (record.is_object()) records.push_back(record);
    }
    return records;
}

// ---- disk full --------------------------------------------------------------

// Whatever is left in `dir` besides the filler and the run lock: a report,
// a temporary report or a write check would all be debris.
std::string debris_in(const fs::path& dir) {
    std::string left;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (e.is_regular_file() && name != "filler" && name != ".meoktong.lock") left += " " + name;
    }
    return left;
}

// `count` different targets on loopback ports where nothing listens: each
// is measured at once (connection_refused) and makes a record of its own.
std::vector<std::string> refused_targets(size_t count) {
    std::set<uint16_t> ports;
    while (ports.size() < count) ports.insert(closed_port());
    std::vector<std::string> args;
    for (uint16_t p : ports) args.insert(args.end(), {"--target", "tcp://127.0.0.1:" + std::to_string(p)});
    return args;
}

void check_disk_full_error(const Child& run, int status) {
    std::string err = run.stderr_text();
    CHECK_MESSAGE(status == 1, "exit status " << status << ", stderr: " << err);
    CHECK(err.find("cannot write report") != std::string::npos);
    CHECK(err.find("No space left on device") != std::string::npos);
    CHECK_MESSAGE(line_count(err) == 1, "stderr: " << err);
    CHECK(run.stdout_text().empty());  // no records printed as if the run had succeeded
}

// ---- control killed ----------------------------------------------------------

// Socket inodes among the open files of `pid`.
std::set<std::string> socket_inodes(pid_t pid) {
    std::set<std::string> inodes;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        std::error_code link_ec;
        std::string target = fs::read_symlink(e.path(), link_ec).string();
        if (!link_ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
    }
    return inodes;
}

// True when `pid` holds a TCP socket whose remote port is `port`: the
// control is measuring that target, so its request is in flight.
bool has_connection_to_port(pid_t pid, uint16_t port) {
    std::set<std::string> inodes = socket_inodes(pid);
    char wanted[8];
    std::snprintf(wanted, sizeof wanted, "%04X", port);
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::istringstream lines(read_text(table));
        std::string line;
        std::getline(lines, line);  // header
        while (std::getline(lines, line)) {
            std::istringstream fields(line);
            std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
            fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
            if (remote.size() > 4 && remote.substr(remote.size() - 4) == wanted && inodes.count(inode)) return true;
        }
    }
    return false;
}

// The real control server on 127.0.0.1 (--allow-private: it measures the
// loopback targets too, slowly for a silent one).
class ControlProcess {
public:
    explicit ControlProcess(const FaultScratch& s)
        : port_(closed_port()),
          child_(s.dir, "control",
                 {"control", "serve", "--listen", "127.0.0.1:" + std::to_string(port_), "--token", kControlToken,
                  "--allow-private", "--timeout-ms", "60000", "--deadline-ms", "60000"}) {
        bool serving = wait_until([&] { return child_.stderr_text().find("control: serving") != std::string::npos; },
                                  seconds(30));
        REQUIRE_MESSAGE(serving, "the control server did not start: " << child_.stderr_text());
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    Child& child() { return child_; }

private:
    uint16_t port_;
    Child child_;
};

// A control that accepts one request, sends the status line, headers and
// the start of a body much shorter than its Content-Length, then waits to
// be killed: a forked process, so that SIGKILL really ends it mid-reply.
class HalfReplyControl {
public:
    HalfReplyControl() {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(listen_fd_ >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(listen_fd_, 4) == 0);
        REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port_ = ntohs(a.sin_port);
        REQUIRE(::pipe2(sent_pipe_, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) serve_half_reply();  // never returns
        ::close(listen_fd_);
        ::close(sent_pipe_[1]);
    }
    ~HalfReplyControl() {
        kill_now();
        ::close(sent_pipe_[0]);
    }
    HalfReplyControl(const HalfReplyControl&) = delete;
    HalfReplyControl& operator=(const HalfReplyControl&) = delete;
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // True once the child has sent its half reply.
    bool wait_half_sent(seconds bound) {
        pollfd p{sent_pipe_[0], POLLIN, 0};
        return ::poll(&p, 1, static_cast<int>(milliseconds(bound).count())) == 1;
    }
    void kill_now() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    // Child side: async-signal-safe calls only (the parent has threads).
    [[noreturn]] void serve_half_reply() {
        ::alarm(120);  // never outlive a test that forgot it
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd >= 0) {
            char request[4096];
            [[maybe_unused]] ssize_t got = ::read(fd, request, sizeof request);
            static const char kHalf[] =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                "{\"results\": [{\"target\": {\"host\": \"127.0.0.1\", \"port\": ";
            [[maybe_unused]] ssize_t sent = ::write(fd, kHalf, sizeof kHalf - 1);
            [[maybe_unused]] ssize_t told = ::write(sent_pipe_[1], "x", 1);
        }
        for (;;) ::pause();
    }
    int listen_fd_ = -1;
    int sent_pipe_[2] = {-1, -1};
    uint16_t port_ = 0;
    pid_t pid_ = -1;
};

// A whole report of `targets` records, each with the control asked, failed
// with a control failure string, no control observation, and a verdict from
// the probe's own observations.
void check_probe_only_report(const fs::path& report, size_t targets) {
    REQUIRE(fs::exists(report));
    auto records = whole_report(report);
    REQUIRE(records.size() == targets);
    for (const auto& r : records) {
        CAPTURE(r["target"].dump());
        const json& control = r["control"];
        REQUIRE(control["failure"].is_string());
        std::string failure = control["failure"];
        CHECK_MESSAGE(failure.rfind("control_", 0) == 0, "control.failure: " << failure);
        CHECK(control.value("requested", false) == true);
        for (const char* kind : {"dns", "tcp", "tls", "http"}) CHECK(control["observations"][kind].empty());
        const json& verdict = r["verdict"];
        CHECK(verdict["status"] != "accessible");  // every target here fails from the probe
        bool says_no_control = false;
        for (const auto& e : verdict["evidence"])
            says_no_control |= e.get<std::string>().find("no control vantage was available") != std::string::npos;
        CHECK_MESSAGE(says_no_control, "verdict: " << verdict.dump());
    }
}

}  // namespace

TEST_CASE("fault: the disk fills up while the report is written: exit 1, one clear line, no report left") {
    FaultScratch s;
    SmallTmpfs tmpfs(s.dir, 64);
    if (!tmpfs_or_skip(tmpfs)) return;
    // 16 KiB left: the run lock and the write check fit, 40 records do not.
    tmpfs.fill_leaving(16);
    fs::path report = tmpfs.dir() / "report.jsonl";
    Child run(s.dir, "run", run_args(s, report.string(), refused_targets(40)));
    int status = run.wait();
    check_disk_full_error(run, status);
    CHECK(run.stderr_text().find(report.string()) != std::string::npos);  // names the file it could not write
    CHECK_FALSE(fs::exists(report));
    CHECK_MESSAGE(debris_in(tmpfs.dir()).empty(), "left behind:" << debris_in(tmpfs.dir()));
}

TEST_CASE("fault: a disk full from the start fails before any target is measured") {
    FaultScratch s;
    SmallTmpfs tmpfs(s.dir, 64);
    if (!tmpfs_or_skip(tmpfs)) return;
    tmpfs.fill_leaving(0);
    TcpTestServer target(Behaviour::HttpOk);
    for (std::string out : {(tmpfs.dir() / "report.jsonl").string(), (tmpfs.dir() / "reports").string()}) {
        CAPTURE(out);
        Child run(s.dir, "run", run_args(s, out, {"--target", "tcp://127.0.0.1:" + std::to_string(target.port())}));
        int status = run.wait();
        check_disk_full_error(run, status);
        CHECK_MESSAGE(debris_in(tmpfs.dir()).empty(), "left behind:" << debris_in(tmpfs.dir()));
    }
    CHECK(target.accepted() == 0);
}

TEST_CASE("fault: the control server is killed mid-request: the run completes with probe-only verdicts") {
    FaultScratch s;
    TcpTestServer silent(Behaviour::Silent);  // the control would wait 60 s on its TLS handshake
    uint16_t refused = closed_port();
    ControlProcess control(s);
    fs::path report = s.dir / "report.jsonl";
    Child run(s.dir, "run",
              run_args(s, report.string(),
                       {"--target", "tls://127.0.0.1:" + std::to_string(silent.port()), "--target",
                        "tcp://127.0.0.1:" + std::to_string(refused), "--control", control.url(), "--control-token",
                        kControlToken}));
    bool in_flight = wait_until([&] { return has_connection_to_port(control.child().pid(), silent.port()); }, seconds(60));
    REQUIRE_MESSAGE(in_flight, "the control never started measuring; run stderr: " << run.stderr_text()
                                                                                    << " control stderr: "
                                                                                    << control.child().stderr_text());
    control.child().kill_now();
    int status = run.wait();
    CHECK_MESSAGE(status == 0, "exit status " << status << ", stderr: " << run.stderr_text());
    check_probe_only_report(report, 2);
    for (const auto& r : whole_report(report))
        CHECK(r["control"]["failure"].get<std::string>().rfind("control_unreachable: ", 0) == 0);
}

TEST_CASE("fault: the control is killed with its reply half sent: the run completes with probe-only verdicts") {
    FaultScratch s;
    uint16_t refused = closed_port();
    HalfReplyControl control;
    fs::path report = s.dir / "report.jsonl";
    Child run(s.dir, "run",
              run_args(s, report.string(),
                       {"--target", "tcp://127.0.0.1:" + std::to_string(refused), "--control", control.url(),
                        "--control-token", kControlToken}));
    REQUIRE_MESSAGE(control.wait_half_sent(seconds(60)), "the run never sent its control request: " << run.stderr_text());
    control.kill_now();
    int status = run.wait();
    CHECK_MESSAGE(status == 0, "exit status " << status << ", stderr: " << run.stderr_text());
    check_probe_only_report(report, 1);
    for (const auto& r : whole_report(report))  // a reply cut short is the peer's early close
        CHECK(r["control"]["failure"] == "control_unreachable: eof_error");
}
