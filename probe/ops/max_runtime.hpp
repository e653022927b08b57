// The --max-runtime bound of a run. Soft limit: once it passes, expired()
// turns true and the runner starts no new target (in-flight ones end within
// their own step timeouts). Hard limit: if the run is still going `grace`
// later, on_hard_limit runs (by default: log an error and _exit(1) — nothing
// is half-written because reports only appear by rename, and the kernel
// drops the run lock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace meoktong {

class RunDeadline {
public:
    // No limit when max_runtime is nullopt.
    RunDeadline(std::optional<std::chrono::seconds> max_runtime, std::chrono::seconds grace,
                std::function<void()> on_hard_limit = {});
    ~RunDeadline();  // disarms
    RunDeadline(const RunDeadline&) = delete;
    RunDeadline& operator=(const RunDeadline&) = delete;

    // True once the soft limit has passed.
    bool expired() const;
    // The run is over: neither limit fires any more.
    void disarm();

private:
    void watch();

    std::optional<std::chrono::steady_clock::time_point> soft_, hard_;
    std::function<void()> on_hard_limit_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool disarmed_ = false;
    std::thread watcher_;
};

}  // namespace meoktong
