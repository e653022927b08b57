// A small tmpfs for disk-full tests: mounted on a fresh directory for one
// test and unmounted whatever happens (the tests run as root in CI; elsewhere
// the mount fails and tmpfs_or_skip() says the test did not run).
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "privileges.hpp"

namespace meoktong::testing {

class SmallTmpfs {
public:
    SmallTmpfs(const std::filesystem::path& parent, int size_kb) : dir_(parent / "tmpfs") {
        std::filesystem::create_directories(dir_);
        std::string options = "size=" + std::to_string(size_kb) + "k,mode=0755";
        if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0)
            mounted_ = true;
        else
            error_ = std::strerror(errno);
    }
    ~SmallTmpfs() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    SmallTmpfs(const SmallTmpfs&) = delete;
    SmallTmpfs& operator=(const SmallTmpfs&) = delete;
    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }
    const std::filesystem::path& dir() const { return dir_; }

    // Fills the file system up, then gives back `free_kb` KiB: what is left
    // for the run.
    void fill_leaving(int free_kb) {
        std::filesystem::path filler = dir_ / "filler";
        int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        std::string block(4096, 'f');
        off_t size = 0;
        for (ssize_t n; (n = ::write(fd, block.data(), block.size())) > 0;) size += n;
        int err = errno;
        CHECK_MESSAGE(err == ENOSPC, "filling the tmpfs stopped with " << std::strerror(err));
        REQUIRE(::ftruncate(fd, std::max<off_t>(0, size - off_t(free_kb) * 1024)) == 0);
        ::close(fd);
    }

private:
    std::filesystem::path dir_;
    bool mounted_ = false;
    std::string error_;
};

inline bool tmpfs_or_skip(const SmallTmpfs& tmpfs) {
    if (tmpfs.mounted()) return true;
    MESSAGE("cannot mount a tmpfs (" << tmpfs.error() << "; the disk-full tests need root)");
    cannot_run_here("disk-full fault test: no tmpfs");
    return false;
}

}  // namespace meoktong::testing
