// The analyze library (analysis/analyze/): judging many records. Reading
// report lines, folding them into cells, finding incidents and rendering them
// as JSON, Markdown and HTML; pure functions over records.
//
// meoktong analyze, ingestion side: reads report lines (SPEC §4), keeping only
// the fields analysis needs, and OONI measurements (SPEC §8, ooni.hpp) as the
// records they map to, plain or gzip; and folds each record
// into counters per (endpoint, vantage, time window) "cell". Memory grows with
// the number of distinct cells (plus a few example measurement ids per cell),
// never with the number of records read.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "meoktong/record.hpp"

namespace meoktong::analyze {

// What the control vantage saw of the same target in the same measurement.
enum class ControlView : uint8_t { none, saw_target, failed };

// The fields of one report line that analysis uses. Reused between lines.
struct ReportLine {
    std::string id, run_id;
    std::string started_at;
    std::string vantage_label, cc, asn;
    std::string service, host, protocol, role;
    int64_t port = 0;
    bool canary = false;
    std::string status, method, first_evidence;
    double confidence = 0;
    bool control_failure = false;  // control.failure was a string: no control answer
    std::array<int, 4> control_ok{}, control_failed{};  // per layer: dns, tcp, tls, http
    int64_t started_ms = 0;        // started_at as milliseconds since the epoch (UTC)
    VerdictStatus verdict = VerdictStatus::inconclusive;

    void clear();
    ControlView control_view() const;
};

// Parses one JSONL line. On failure returns false and sets `why` to a short
// reason ("not JSON: ...", "no verdict.status", ...). Never throws.
bool read_report_line(std::string_view line, ReportLine& out, std::string& why);

// The same fields from a whole record (an OONI measurement's records);
// false with `why` as read_report_line would say it.
bool report_line_of(const Record& record, ReportLine& out, std::string& why);

// ISO 8601 UTC times: "2014-07-02", "2014-07-02T03:00", "2014-07-02T03:00:00.123Z",
// with an optional "Z" or "+HH:MM"/"-HH:MM" offset. Milliseconds since the epoch.
std::optional<int64_t> parse_utc_time(std::string_view s);
std::string iso_time(int64_t ms);       // "2014-07-02T03:00:00Z"
std::string display_time(int64_t ms);   // "2014-07-02 03:00 UTC"

struct Options {
    std::optional<int64_t> from_ms, to_ms;   // keep records with from <= started_at < to
    std::vector<std::string> services;       // empty: all
    std::string cc;                          // only this country; empty: all
    int window_minutes = 15;
};

struct Endpoint {
    std::string service, host, protocol, role;
    int64_t port = 0;
    bool canary = false;
    std::string uri() const;  // "tls://line.me:443"
};

struct VantageInfo {
    std::string label, cc, asn;
};

// One measurement kept as an example behind a claim.
struct Example {
    std::string id;
    int64_t at_ms = 0;
    VerdictStatus status = VerdictStatus::inconclusive;
    std::string method;
    ControlView control = ControlView::none;
    std::string evidence;  // the verdict's first evidence sentence, shortened
};

// Counters of one (endpoint, vantage, window).
struct Cell {
    std::array<uint32_t, kVerdictStatusCount> statuses{};
    std::vector<std::pair<std::string, uint32_t>> methods;  // methods of failing verdicts
    uint32_t control_saw = 0, control_failed = 0;            // over failing records
    double failing_confidence_sum = 0;
    int64_t first_fail_ms = INT64_MAX, last_fail_ms = INT64_MIN;
    int64_t first_ok_ms = INT64_MAX, last_ok_ms = INT64_MIN;
    std::vector<Example> examples;  // at most kFailingExamples failing + kWorkingExamples working

    uint32_t total() const;
    uint32_t failing() const { return total() - statuses[0]; }
    VerdictStatus dominant() const;  // most frequent status; ties go to the more severe
};

inline constexpr size_t kFailingExamples = 2;
inline constexpr size_t kWorkingExamples = 1;

struct CellKey {
    uint32_t endpoint = 0, vantage = 0;
    int64_t window = 0;
    bool operator==(const CellKey&) const = default;
};
struct CellKeyHash {
    size_t operator()(const CellKey& k) const noexcept;
};

// Per-file accounting of what was read.
struct InputFile {
    std::string path;
    uint64_t lines = 0, records = 0, malformed = 0, filtered_out = 0;
    std::vector<std::pair<uint64_t, std::string>> first_malformed;  // line number, reason
};
inline constexpr size_t kMalformedLinesKept = 5;

class Aggregator {
public:
    explicit Aggregator(Options options);

    // Reads one input unit (a report line or an OONI measurement; line_no
    // counts from 1) into the cells.
    void add_line(std::string_view line, uint64_t line_no, InputFile& file);
    // Folds one parsed record in (no filtering).
    void add(const ReportLine& r);
    // Folds in a cell a store aggregated itself (store::Store::aggregate):
    // `key` carries the endpoint fields (service, protocol, host, port, canary,
    // role) and the vantage fields (vantage_label, cc, asn) of its records,
    // `window` is window_of() of their times. Merged with what the cell holds.
    void add_cell(const ReportLine& key, int64_t window, const Cell& cell);

    const Options& options() const { return options_; }
    const std::vector<Endpoint>& endpoints() const { return endpoints_; }
    const std::vector<VantageInfo>& vantages() const { return vantages_; }
    const std::unordered_map<CellKey, Cell, CellKeyHash>& cells() const { return cells_; }
    int64_t window_ms() const { return int64_t(options_.window_minutes) * 60000; }
    int64_t window_of(int64_t ms) const;
    int64_t first_record_ms() const { return first_ms_; }
    int64_t last_record_ms() const { return last_ms_; }

private:
    bool keep(const ReportLine& r) const;
    void add_kept(const ReportLine& r, InputFile& file);  // add() when keep(), counted into file
    uint32_t endpoint_id(const ReportLine& r);
    uint32_t vantage_id(const ReportLine& r);

    Options options_;
    ReportLine line_;
    std::vector<Record> ooni_records_;
    std::string why_, key_;
    std::vector<Endpoint> endpoints_;
    std::vector<VantageInfo> vantages_;
    std::unordered_map<std::string, uint32_t> endpoint_ids_, vantage_ids_;
    std::unordered_map<CellKey, Cell, CellKeyHash> cells_;
    int64_t first_ms_ = INT64_MAX, last_ms_ = INT64_MIN;
};

// Every FILE as given, and every *.jsonl, *.json, *.jsonl.gz and *.json.gz
// inside each DIR (sorted by name), in order: the files that analyze, store
// import and export read. Throws InputError (one line) for a directory that
// cannot be listed.
std::vector<std::string> report_files(const std::vector<std::string>& paths);

// Reads one file, gzip or plain (told by its magic bytes), as input units:
// its lines (JSONL), or the whole file when it holds one JSON document over
// several lines (an OONI measurement as the API serves it). Calls on_unit
// with each unit and the number of its first line; counts lines and overlong
// units into `file`. Throws InputError (one line) for an unreadable file.
void read_units(const std::string& path, const std::function<void(std::string_view, uint64_t)>& on_unit,
                InputFile& file);

// Reads every file of report_files(paths) unit by unit into the aggregator.
// Throws InputError (one line) for an unreadable path.
std::vector<InputFile> read_inputs(const std::vector<std::string>& paths, Aggregator& agg);

// The records of one input unit: a meoktong record as it is, an OONI
// measurement as the records it maps to. False with `why` for a unit that
// is neither.
bool unit_records(std::string_view unit, std::vector<Record>& out, std::string& why);

// One input file as a meoktong report body (JSONL, SPEC §4), for store
// import: meoktong lines as they are, each OONI measurement as the lines of
// its records, anything else as it is (the store names the bad line).
// `problem` names the first OONI measurement that could not be read, or an
// overlong line or broken gzip stream ("line 3: ..."); empty when none.
std::string report_body(const std::string& path, std::string& problem);

}  // namespace meoktong::analyze
