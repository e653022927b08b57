// Upload of finished reports to a collector (--upload URL) through a local
// queue directory, so a report made while the network was blocked is sent
// later. Layout under the queue directory:
//   pending/NAME.jsonl   waiting to be sent (a hard link to, or copy of, the report)
//   sent/NAME.jsonl      the collector answered 2xx for it
// A report moves to sent/ only after a 2xx; every other outcome leaves it in
// pending/ for the next run, so nothing is lost. Each POST carries the header
// "Idempotency-Key: NAME" (the report file name, which holds the run id): if a
// run dies between the collector's 2xx and the move, the next run sends the
// report again with the same key and the collector drops the duplicate.
// A URL "ooni+https://HOST[/PATH]" names a collector that speaks OONI's
// collector API instead (ooni/spec bk-003: open a report, submit every record
// as an OONI measurement, close it; docs/ooni.md): there is no idempotency
// key, so a retry after a partial submission opens a second OONI report.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meoktong {

inline constexpr const char* kUploadQueueDirName = "upload";
// In front of an upload URL: the collector is an OONI collector.
inline constexpr const char* kOoniUploadPrefix = "ooni+";

struct UploadSettings {
    std::string url;                         // https:// (http:// only to loopback), or ooni+ either
    std::optional<std::string> token;        // "Authorization: Bearer TOKEN" when set (never to OONI)
    std::string ca_file;                     // trust store; empty = the system's
    int timeout_ms = 30000;                  // per POST
    int attempts = 3;                        // POSTs per report in one drain
    std::chrono::milliseconds first_backoff{2000};  // doubled after each failed attempt
    // Waits between attempts; tests replace it to run without sleeping.
    std::function<void(std::chrono::milliseconds)> sleep;
};

struct UploadOutcome {
    std::string report;          // file name
    bool delivered = false;      // moved to sent/
    int attempts = 0;
    long last_status = 0;        // last HTTP status, 0 when no answer
    std::string last_error;      // transport error or "HTTP 503"; empty when delivered
};

// The report_id in an OONI collector's answer to POST /report (bk-003
// §3.1); nothing when the answer is not a JSON object with a non-empty
// string report_id. Never throws.
std::optional<std::string> ooni_report_id(std::string_view answer);

// The queue directory for reports written to `out` (a directory, or a
// *.jsonl file whose directory is used): "<dir>/upload".
std::string upload_queue_dir_for_output(const std::string& out);

// Puts a finished report into pending/ (hard link when possible, else a copy
// written to a temp file and renamed). Idempotent: queueing the same name
// twice, or a name already in sent/, does nothing. Throws std::runtime_error
// on I/O failure.
void enqueue_report(const std::string& queue_dir, const std::string& report_path);

// Names in pending/, oldest first.
std::vector<std::string> pending_reports(const std::string& queue_dir);

// Sends every pending report, oldest first. A report that still fails after
// `attempts` tries stays pending; the drain then stops (the network or the
// collector is down, the rest waits for the next run). Never throws for
// network failures. The caller must hold the run lock.
std::vector<UploadOutcome> drain_upload_queue(const std::string& queue_dir, const UploadSettings& settings);

}  // namespace meoktong
