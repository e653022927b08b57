// One run at a time: an flock(2) on a lock file in the output directory, so
// two runs started by cron or a timer never overlap. The kernel drops the
// lock when the holder exits or is killed, so a crashed run never leaves a
// stale lock behind. The lock file holds the holder's pid (for messages only).
#pragma once

#include <optional>
#include <string>

namespace meoktong {

inline constexpr const char* kLockFileName = ".meoktong.lock";

class RunLock {
public:
    // Takes the lock at `path` without waiting. nullopt when another process
    // (or another RunLock in this process) holds it. Throws std::runtime_error
    // when the lock file cannot be created (e.g. the directory is not writable).
    static std::optional<RunLock> try_acquire(const std::string& path);

    RunLock(RunLock&& other) noexcept;
    RunLock& operator=(RunLock&& other) noexcept;
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;
    ~RunLock();

    const std::string& path() const { return path_; }

private:
    RunLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
    void release();

    std::string path_;
    int fd_ = -1;
};

// The lock file for a run writing to `out` (a report directory, or a *.jsonl
// file whose directory is used): "<dir>/.meoktong.lock".
std::string lock_path_for_output(const std::string& out);

// The pid recorded in a lock file by its holder, if readable (for the
// "another run is in progress" message; never used to decide anything).
std::optional<long> lock_holder_pid(const std::string& path);

}  // namespace meoktong
