// Writing a run's report: JSON Lines, one record per target, written to a
// temporary file in the destination directory, fsynced and renamed into place
// only when complete (never a partial report).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "meoktong/record.hpp"

namespace meoktong {

// --out is a file when it ends in .jsonl/.json or names an existing regular
// file, otherwise a directory (created if missing) in which the report is
// named YYYYMMDDTHHMMSSZ_<vantage>_<runid8>.jsonl. Checks that the place is
// writable; throws std::runtime_error with a one-line message if not.
std::string prepare_report_path(const std::string& out, const std::string& vantage_label, const std::string& run_id,
                                std::chrono::system_clock::time_point started);

// One record as one line of JSON (invalid UTF-8 replaced, never thrown).
std::string record_line(const Record& record);

// Writes the records to `path` atomically; throws std::runtime_error on failure.
void write_report(const std::string& path, const std::vector<Record>& records);

}  // namespace meoktong
