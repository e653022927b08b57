// Running the built `meoktong` binary from a loopback test: its exit status,
// stdout and stderr kept apart (stderr goes through a file in the scratch dir).
#pragma once

#include <filesystem>
#include <string>

namespace meoktong::testing {

struct BinaryRun {
    int status = -1;  // the exit status, -1 when it did not exit normally
    std::string out, err;
};

// Runs `meoktong ARGS` through the shell; ARGS are quoted by the caller.
BinaryRun run_binary(const std::string& args, const std::filesystem::path& scratch);

}  // namespace meoktong::testing
