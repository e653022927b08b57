// Files, the one way meoktong reads and writes them: whole-file reads, atomic
// writes (a unique temporary file in the destination directory, fsynced,
// renamed into place, the directory fsynced: a reader sees the old file or
// the whole new one, never a part, even after a crash), and the search for
// the data files shipped with meoktong (test lists, blockpage fingerprints),
// and the reading of token files.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meoktong {

// A file could not be read or written; the message is one line naming the path and the reason.
struct FileError : std::runtime_error {
    FileError(const std::string& message, std::string why) : std::runtime_error(message), reason(std::move(why)) {}
    std::string reason;  // strerror's words, e.g. "No such file or directory"
};

// The whole file; throws FileError ("cannot read 'PATH': REASON").
std::string read_file(const std::string& path);

// The secret held by a token file (--token-file, control.token_file): its
// first line without surrounding white space. Throws InputError ("token file
// 'PATH' cannot be read: REASON", "token file 'PATH' is empty").
std::string read_token_file(const std::string& path);

// Replaces `path` with `data` atomically (mode 0600 for a new file unless
// `mode` says otherwise). The temporary file is named ".NAME.tmp-XXXXXX" in
// the same directory and removed on failure. Throws FileError
// ("cannot write 'PATH': REASON").
void write_file_atomically(const std::string& path, std::string_view data, unsigned mode = 0600);

// The directories that may hold meoktong's data files, in search order:
// $MEOKTONG_TESTLISTS, <exe dir>/testlists, <exe dir>/../share/meoktong/testlists,
// /usr/share/meoktong/testlists, <source dir>/testlists.
std::vector<std::string> data_dirs();
// The first data directory that exists (the last candidate when none does).
std::string data_dir();
// The first existing <dir>/name over data_dirs(); "" when there is none.
std::string find_data_file(const std::string& name);

}  // namespace meoktong
