// A report as the fleet stores it: the NDJSON body that `run --upload` sends
// (one SPEC §4 record per line), each line validated with analyze's record
// reader (read_report_line), with the fields the store indexes. This is the
// upload endpoint's body reader (fuzzed by tests/fuzz/fuzz_report_body.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analyze/analyze.hpp"

namespace meoktong::store {

// One record of a report: its line as sent and what analyze's reader read of it.
struct ReportRecord {
    uint32_t line_no = 0;          // from 1, counting blank lines too
    std::string_view line;         // the JSON text, without its newline
    analyze::ReportLine fields;
};

struct Report {
    std::string run_id;                   // the run_id of its first record ("" when none)
    std::vector<std::string> run_ids;     // every distinct non-empty run_id of its records, first seen first
    std::vector<ReportRecord> records;    // in line order; views into the body
};

// Limits on what one report may hold (413 beyond; docs/fleet.md).
inline constexpr size_t kMaxReportRecords = 100000;  // also keeps a ClickHouse insert one block

struct ReportProblem {
    uint32_t line_no = 0;  // the first bad line; 0 when the report as a whole is bad
    std::string why;       // "line 3: not JSON: ..." style text is made by describe()
    bool too_large = false;
    std::string describe() const;
};

// Reads `body` into `out` (whose views point into body, which must outlive
// it). Blank lines are skipped; a trailing "\r" is dropped. Returns the first
// problem, or nullopt when every line is a record: a report with no record,
// more than kMaxReportRecords, or any line analyze would not read is refused
// whole. Never throws for any input.
std::optional<ReportProblem> read_report(std::string_view body, Report& out);

// The Idempotency-Key `store import` stores a report file under, from its
// content: "run:RUN_ID", or "record:ID" of its first record when it has no
// run_id; at most 255 characters. The same file imported twice, or a report
// imported and uploaded, is stored once (the store also matches the run_id).
std::string import_key(const Report& report);

}  // namespace meoktong::store
