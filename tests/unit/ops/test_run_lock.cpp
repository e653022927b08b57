// Run lock: one holder at a time, across processes; released on exit or kill.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "probe/ops/run_lock.hpp"

using namespace meoktong;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const char* name) {
    fs::path dir = fs::temp_directory_path() / (std::string(name) + "-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// Forks a child that takes the lock, reports through a pipe, and waits to be killed.
pid_t child_holding_lock(const std::string& path) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        auto lock = RunLock::try_acquire(path);
        char ok = lock ? '1' : '0';
        [[maybe_unused]] auto n = write(fds[1], &ok, 1);
        pause();
        _exit(0);
    }
    close(fds[1]);
    char ok = 0;
    REQUIRE(read(fds[0], &ok, 1) == 1);
    close(fds[0]);
    REQUIRE(ok == '1');
    return pid;
}

}  // namespace

TEST_CASE("a second lock on the same file fails until the first is released") {
    auto dir = fresh_dir("meoktong-lock-test");
    std::string path = (dir / kLockFileName).string();
    {
        auto first = RunLock::try_acquire(path);
        REQUIRE(first.has_value());
        CHECK(!RunLock::try_acquire(path).has_value());
        CHECK(lock_holder_pid(path) == static_cast<long>(getpid()));
        RunLock moved = std::move(*first);
        CHECK(!RunLock::try_acquire(path).has_value());
    }
    CHECK(RunLock::try_acquire(path).has_value());
    fs::remove_all(dir);
}

TEST_CASE("another process holding the lock blocks us; killing it frees the lock") {
    auto dir = fresh_dir("meoktong-lock-proc-test");
    std::string path = (dir / kLockFileName).string();
    pid_t child = child_holding_lock(path);
    CHECK(!RunLock::try_acquire(path).has_value());
    CHECK(lock_holder_pid(path) == static_cast<long>(child));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(RunLock::try_acquire(path).has_value());
    fs::remove_all(dir);
}

TEST_CASE("an unwritable lock location is an error, not a silent pass") {
    CHECK_THROWS_AS(RunLock::try_acquire("/nonexistent-dir-for-meoktong/.meoktong.lock"), std::runtime_error);
}

TEST_CASE("lock path follows the output: a directory, or the directory of a report file") {
    CHECK(lock_path_for_output("/var/lib/meoktong/reports") == "/var/lib/meoktong/reports/.meoktong.lock");
    CHECK(lock_path_for_output("/tmp/out/report.jsonl") == "/tmp/out/.meoktong.lock");
    CHECK(lock_path_for_output("report.jsonl") == "./.meoktong.lock");
    CHECK(lock_path_for_output("") == "./.meoktong.lock");
}
