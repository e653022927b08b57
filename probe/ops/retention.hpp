// Report file naming and retention for unattended runs. Reports are named
// "<UTC start YYYYMMDDTHHMMSSZ>_<vantage>_<run id prefix>.jsonl" (the scheme
// of report_writer's prepare_report_path), so a directory listing sorts by
// time, then vantage. Retention keeps N days and/or N MB of such reports and
// deletes nothing else: never a file that does not match the scheme exactly
// (temp files, the lock, the upload queue, anything the operator put there),
// never a report started today (UTC).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meoktong {

// The report file name for a run: vantage reduced to [A-Za-z0-9_-] (others
// become '_'), at most 64 characters, "probe" if empty; the first 8
// characters of the run id.
std::string report_file_name(std::chrono::system_clock::time_point started,
                             const std::string& vantage, const std::string& run_id);

struct ReportFileName {
    std::chrono::system_clock::time_point started;  // second precision
    std::string day;                                // "20261122" (UTC)
    std::string vantage;
    std::string run_id;
};

// Parses a name made by report_file_name; nullopt for anything else.
std::optional<ReportFileName> parse_report_file_name(const std::string& name);

struct RetentionPolicy {
    std::optional<int> days;          // keep reports started in the last N days
    std::optional<int64_t> megabytes; // keep at most N MiB of reports (oldest go first)
};

struct RetentionResult {
    std::vector<std::string> removed;  // paths deleted
    int64_t kept_bytes = 0;            // size of the reports left
    std::vector<std::string> errors;   // one line per file that could not be deleted
};

// Applies the policy to the reports directly in `dir` (not its subdirectories).
// `now` decides "today" (UTC). Does nothing when the policy is empty.
RetentionResult apply_retention(const std::string& dir, const RetentionPolicy& policy,
                                std::chrono::system_clock::time_point now);

// Deletes the temporary files that report_writer leaves when a run is killed
// while writing (".<report name>.tmp-XXXXXX") once they are older than
// `min_age`. Call it only while holding the run lock: then no running run can
// own them. Returns the paths deleted.
std::vector<std::string> remove_stale_temp_files(const std::string& dir, std::chrono::system_clock::time_point now,
                                                 std::chrono::seconds min_age);

}  // namespace meoktong
