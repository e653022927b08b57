// Whole-file reads, token files, atomic writes and the data-file search (see meoktong/files.hpp).
#include "meoktong/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "meoktong/target.hpp"
#include "meoktong/text.hpp"

namespace meoktong {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const char* verb, const std::string& path, int err) {
    std::string reason = std::strerror(err);
    throw FileError(std::string("cannot ") + verb + " '" + path + "': " + reason, reason);
}

void write_all(int fd, std::string_view data, const std::string& path) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("write", path, errno);
        done += static_cast<size_t>(n);
    }
}

std::string exe_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : exe.parent_path().string();
}

bool is_directory(const std::string& path) {
    std::error_code ec;
    return !path.empty() && fs::is_directory(path, ec);
}

}  // namespace

std::string read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("read", path, errno);
    std::string text;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;  // e.g. EISDIR: a directory is not a file
            ::close(fd);
            fail("read", path, err);
        }
        if (n == 0) break;
        text.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return text;
}

std::string read_token_file(const std::string& path) {
    std::string content;
    try {
        content = read_file(path);
    } catch (const FileError& e) {
        throw InputError("token file '" + path + "' cannot be read: " + e.reason);
    }
    std::string token(trim(std::string_view(content).substr(0, content.find('\n'))));
    if (token.empty()) throw InputError("token file '" + path + "' is empty");
    return token;
}

void write_file_atomically(const std::string& path, std::string_view data, unsigned mode) {
    fs::path final_path(path);
    fs::path dir = final_path.parent_path().empty() ? fs::path(".") : final_path.parent_path();
    std::string temp = (dir / ("." + final_path.filename().string() + ".tmp-XXXXXX")).string();
    int fd = ::mkstemp(temp.data());
    if (fd < 0) fail("write", path, errno);
    try {
        if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) fail("write", path, errno);
        write_all(fd, data, path);
        if (::fsync(fd) != 0) fail("write", path, errno);
        int closed = ::close(fd);
        fd = -1;
        if (closed != 0) fail("write", path, errno);
        if (::rename(temp.c_str(), path.c_str()) != 0) fail("write", path, errno);
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    int dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd >= 0) {
        ::fsync(dirfd);
        ::close(dirfd);
    }
}

std::vector<std::string> data_dirs() {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("MEOKTONG_TESTLISTS"); env && *env) dirs.emplace_back(env);
    if (std::string dir = exe_dir(); !dir.empty()) {
        dirs.push_back(dir + "/testlists");
        dirs.push_back(dir + "/../share/meoktong/testlists");
    }
    dirs.emplace_back("/usr/share/meoktong/testlists");
    dirs.push_back(std::string(MEOKTONG_SOURCE_DIR) + "/testlists");
    return dirs;
}

std::string data_dir() {
    auto dirs = data_dirs();
    for (const auto& d : dirs)
        if (is_directory(d)) return d;
    return dirs.back();
}

std::string find_data_file(const std::string& name) {
    for (const auto& d : data_dirs()) {
        std::error_code ec;
        std::string path = d + "/" + name;
        if (fs::is_regular_file(path, ec)) return path;
    }
    return "";
}

}  // namespace meoktong
