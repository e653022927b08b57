// Files: atomic writes replace the whole file and leave no temporary file
// behind when they fail; token files at their edges (white space, lines,
// empty, missing).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "meoktong/files.hpp"
#include "meoktong/target.hpp"

using namespace meoktong;
namespace fs = std::filesystem;

namespace {

// A fresh directory for one test case, removed afterwards.
struct TempDir {
    fs::path path = fs::temp_directory_path() / ("meoktong-files-test-" + std::to_string(::getpid()));
    TempDir() {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
    size_t entries() const {
        return static_cast<size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
    }
};

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

void write_plain(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST_CASE("an atomic write replaces the whole file, shorter or longer, and leaves only that file") {
    TempDir dir;
    std::string path = dir.file("report.jsonl");
    write_file_atomically(path, std::string(4096, 'x'));
    CHECK(read_file(path) == std::string(4096, 'x'));
    write_file_atomically(path, "short\n");
    CHECK(read_file(path) == "short\n");
    write_file_atomically(path, "");
    CHECK(read_file(path).empty());
    CHECK(dir.entries() == 1);
}

TEST_CASE("a new file is 0600 unless the caller asks for another mode") {
    TempDir dir;
    write_file_atomically(dir.file("private"), "a");
    CHECK(mode_of(dir.file("private")) == 0600);
    write_file_atomically(dir.file("public.html"), "a", 0644);
    CHECK(mode_of(dir.file("public.html")) == 0644);
}

TEST_CASE("a failed atomic write throws FileError naming the path and leaves no temporary file") {
    TempDir dir;
    fs::create_directory(dir.path / "taken");  // rename() of a file onto a directory fails
    std::string path = dir.file("taken");
    const std::string expected = "cannot write '" + path + "'";
    CHECK_THROWS_WITH_AS(write_file_atomically(path, "data"), doctest::Contains(expected.c_str()), FileError);
    CHECK(dir.entries() == 1);
    CHECK(fs::is_directory(dir.path / "taken"));

    std::string missing_dir = dir.file("nope/report.jsonl");
    CHECK_THROWS_AS(write_file_atomically(missing_dir, "data"), FileError);
    CHECK(dir.entries() == 1);
}

TEST_CASE("read_file reads bytes as they are and names the path when it cannot") {
    TempDir dir;
    write_plain(dir.file("bin"), std::string("a\0b\r\n", 5));
    CHECK(read_file(dir.file("bin")) == std::string("a\0b\r\n", 5));
    const std::string expected = "cannot read '" + dir.file("absent") + "'";
    CHECK_THROWS_WITH_AS(read_file(dir.file("absent")), doctest::Contains(expected.c_str()), FileError);
    CHECK_THROWS_AS(read_file(dir.path.string()), FileError);  // a directory is not a file
}

TEST_CASE("a token file's token is its first line without surrounding white space") {
    TempDir dir;
    std::string path = dir.file("token");
    for (const auto& [content_text, token] : {std::pair<std::string, std::string>{"s3cret-token", "s3cret-token"},
                                         {"s3cret-token\n", "s3cret-token"},
                                         {"s3cret-token\r\n", "s3cret-token"},
                                         {"  s3cret-token \t\nsecond line\n", "s3cret-token"},
                                         {"two words\n", "two words"}}) {
        const std::string& content = content_text;  // CAPTURE cannot take a structured binding (clang 14)
        CAPTURE(content);
        write_plain(path, content);
        CHECK(read_token_file(path) == token);
    }
}

TEST_CASE("an empty, blank or unreadable token file is refused with one line naming it") {
    TempDir dir;
    std::string path = dir.file("token");
    for (const std::string content : {"", "\n", "  \t \r\n", "\nthe token on line two\n"}) {
        CAPTURE(content);
        write_plain(path, content);
        const std::string expected = "token file '" + path + "' is empty";
        CHECK_THROWS_WITH_AS(read_token_file(path), expected.c_str(), InputError);
    }
    std::string missing = dir.file("absent");
    const std::string expected = "token file '" + missing + "' cannot be read: No such file or directory";
    CHECK_THROWS_WITH_AS(read_token_file(missing), expected.c_str(), InputError);
    CHECK_THROWS_WITH_AS(read_token_file(dir.path.string()), doctest::Contains("cannot be read"), InputError);
}
