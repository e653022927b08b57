// JSONL report files, written atomically (see report_writer.hpp).
#include "probe/run/report_writer.hpp"
#include "probe/ops/retention.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "meoktong/files.hpp"
#include "meoktong/record_json.hpp"

namespace meoktong {
namespace {

namespace fs = std::filesystem;

bool looks_like_file(const std::string& out) {
    auto ends_with = [&](const char* suffix) {
        size_t n = std::strlen(suffix);
        return out.size() >= n && out.compare(out.size() - n, n, suffix) == 0;
    };
    std::error_code ec;
    return ends_with(".jsonl") || ends_with(".json") || fs::is_regular_file(out, ec);
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
    throw std::runtime_error("cannot write report " + what + " '" + path + "': " + std::strerror(err));
}

// Creates a temporary file in dir and writes one byte to it (a full disk
// still lets an empty file be created), then removes it: the real test of
// writability, done before any target is measured.
void check_writable_dir(const std::string& dir) {
    std::string probe = (fs::path(dir) / ".meoktong-write-check-XXXXXX").string();
    int fd = ::mkstemp(probe.data());
    if (fd < 0) fail("in directory", dir, errno);
    ssize_t n = ::write(fd, "\n", 1);
    int err = n == 1 ? 0 : (n < 0 ? errno : ENOSPC);
    ::close(fd);
    ::unlink(probe.c_str());
    if (err != 0) fail("in directory", dir, err);
}

}  // namespace

std::string prepare_report_path(const std::string& out, const std::string& vantage_label, const std::string& run_id,
                                std::chrono::system_clock::time_point started) {
    std::string target = out.empty() ? "reports/" : out;
    std::error_code ec;
    if (looks_like_file(target)) {
        if (fs::is_directory(target, ec)) throw std::runtime_error("cannot write report file '" + target + "': is a directory");
        fs::path parent = fs::path(target).parent_path();
        std::string dir = parent.empty() ? "." : parent.string();
        if (!fs::is_directory(dir, ec)) throw std::runtime_error("cannot write report file '" + target + "': directory '" + dir + "' does not exist");
        check_writable_dir(dir);
        return target;
    }
    fs::create_directories(target, ec);
    if (ec || !fs::is_directory(target)) {
        throw std::runtime_error("cannot write report directory '" + target + "': " +
                                 (ec ? ec.message() : std::string("not a directory")));
    }
    check_writable_dir(target);
    return (fs::path(target) / report_file_name(started, vantage_label, run_id)).string();
}

std::string record_line(const Record& record) {
    json j = record;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void write_report(const std::string& path, const std::vector<Record>& records) {
    std::string data;
    for (const auto& r : records) data += record_line(r) + "\n";
    try {
        write_file_atomically(path, data);  // mode 0600: a report tells what was tested from where
    } catch (const FileError& e) {
        throw std::runtime_error("cannot write report file '" + path + "': " + e.reason);
    }
}

}  // namespace meoktong
