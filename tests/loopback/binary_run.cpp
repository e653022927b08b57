// Running the built `meoktong` binary from a loopback test (binary_run.hpp).
#include "binary_run.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace meoktong::testing {

BinaryRun run_binary(const std::string& args, const std::filesystem::path& scratch) {
    std::filesystem::path err = scratch / "stderr.txt";
    std::string cmd = std::string(MEOKTONG_BINARY) + " " + args + " 2>" + err.string();
    BinaryRun r;
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
    int rc = ::pclose(p);
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    std::stringstream ss;
    ss << std::ifstream(err).rdbuf();
    r.err = ss.str();
    return r;
}

}  // namespace meoktong::testing
