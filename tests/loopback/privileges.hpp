// Tests that need privileges (root for a tmpfs, CAP_NET_RAW to capture on lo)
// report when they cannot run here: a warning, or a failure when
// MEOKTONG_REQUIRE_PRIVILEGES=1, which scripts/test sets when it runs as root
// (as in CI), so a lost privilege never passes silently.
#pragma once

#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

namespace meoktong::testing {

inline void cannot_run_here(const std::string& why) {
    const char* required = std::getenv("MEOKTONG_REQUIRE_PRIVILEGES");
    if (required != nullptr && std::string(required) == "1") {
        FAIL_CHECK("required here but cannot run: " << why);
    } else {
        WARN_MESSAGE(false, "NOT run: " << why);
    }
}

}  // namespace meoktong::testing
