// Timestamps as meoktong writes them: ISO 8601 UTC with milliseconds
// (records' started_at, log lines).
#pragma once

#include <chrono>
#include <string>

namespace meoktong {

// e.g. 2026-11-22T03:00:00.123Z.
std::string iso_utc_ms(std::chrono::system_clock::time_point t);

}  // namespace meoktong
