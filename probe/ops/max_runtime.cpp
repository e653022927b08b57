// Soft and hard run-time limits (see max_runtime.hpp).
#include "probe/ops/max_runtime.hpp"

#include <unistd.h>

#include "meoktong/log.hpp"

namespace meoktong {

namespace {

void exit_on_hard_limit() {
    process_logger().error("max_runtime_exceeded", {{"action", "exit"}});
    _exit(1);
}

}  // namespace

RunDeadline::RunDeadline(std::optional<std::chrono::seconds> max_runtime, std::chrono::seconds grace,
                         std::function<void()> on_hard_limit)
    : on_hard_limit_(on_hard_limit ? std::move(on_hard_limit) : exit_on_hard_limit) {
    if (!max_runtime) return;
    soft_ = std::chrono::steady_clock::now() + *max_runtime;
    hard_ = *soft_ + grace;
    watcher_ = std::thread([this] { watch(); });
}

RunDeadline::~RunDeadline() {
    disarm();
    if (watcher_.joinable()) watcher_.join();
}

bool RunDeadline::expired() const { return soft_ && std::chrono::steady_clock::now() >= *soft_; }

void RunDeadline::disarm() {
    {
        std::lock_guard lock(mutex_);
        disarmed_ = true;
    }
    wake_.notify_all();
}

void RunDeadline::watch() {
    std::unique_lock lock(mutex_);
    if (wake_.wait_until(lock, *hard_, [this] { return disarmed_; })) return;
    lock.unlock();
    on_hard_limit_();
}

}  // namespace meoktong
