// flock(2)-based single-run lock (see run_lock.hpp).
#include "probe/ops/run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>

#include "meoktong/files.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/text.hpp"
#include "probe/ops/report_dir.hpp"

namespace meoktong {

namespace {

void write_pid(int fd) {
    std::string pid = std::to_string(static_cast<long>(getpid())) + "\n";
    if (ftruncate(fd, 0) != 0) return;
    // Best effort: the pid is only for messages.
    [[maybe_unused]] ssize_t n = pwrite(fd, pid.data(), pid.size(), 0);
}

}  // namespace

std::optional<RunLock> RunLock::try_acquire(const std::string& path) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) throw std::runtime_error("cannot open lock file " + path + ": " + std::strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        close(fd);
        if (err == EWOULDBLOCK) return std::nullopt;
        throw std::runtime_error("cannot lock " + path + ": " + std::strerror(err));
    }
    write_pid(fd);
    return RunLock(path, fd);
}

RunLock::RunLock(RunLock&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
    other.fd_ = -1;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

RunLock::~RunLock() { release(); }

// The lock file stays in place: unlinking it would let a third process lock
// a new inode while a second still waits on the old one.
void RunLock::release() {
    if (fd_ < 0) return;
    flock(fd_, LOCK_UN);
    close(fd_);
    fd_ = -1;
}

std::string lock_path_for_output(const std::string& out) {
    return (std::filesystem::path(report_dir_of_output(out)) / kLockFileName).string();
}

std::optional<long> lock_holder_pid(const std::string& path) {
    std::string text;
    try {
        text = read_file(path);
    } catch (const FileError&) {
        return std::nullopt;
    }
    if (auto pid = parse_integer(trim(text), 1, std::numeric_limits<long>::max())) return static_cast<long>(*pid);
    return std::nullopt;
}

}  // namespace meoktong
