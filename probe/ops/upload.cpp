// Report upload queue and its HTTPS delivery with libcurl (see upload.hpp).
#include "probe/ops/upload.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "analysis/analyze/export.hpp"
#include "meoktong/files.hpp"
#include "meoktong/record_json.hpp"
#include "meoktong/target.hpp"
#include "meoktong/text.hpp"
#include "probe/ops/config.hpp"
#include "probe/ops/report_dir.hpp"

namespace meoktong {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPending = "pending";
constexpr const char* kSent = "sent";
constexpr const char* kOoniProgress = "ooni";  // how far each OONI submission got

struct HttpResult {
    long status = 0;        // 0 when no HTTP answer arrived
    std::string error;      // transport error, empty when an answer arrived
    std::string body;       // the answer's body (at most kMaxAnswerBytes)
};

constexpr size_t kMaxAnswerBytes = 64 * 1024;

bool is_success(const HttpResult& r) { return r.status >= 200 && r.status < 300; }

// Worth another attempt: no answer, a server error, a timeout or a rate limit.
bool is_retryable(const HttpResult& r) {
    return r.status == 0 || r.status >= 500 || r.status == 408 || r.status == 429;
}

size_t keep_body(char* data, size_t size, size_t nmemb, void* out) {
    auto& body = *static_cast<std::string*>(out);
    body.append(data, std::min(size * nmemb, kMaxAnswerBytes - std::min(kMaxAnswerBytes, body.size())));
    return size * nmemb;
}

void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One POST of `body` to `url` with `header_lines`; never throws.
HttpResult http_post(const UploadSettings& settings, const std::string& url,
                     const std::vector<std::string>& header_lines, const std::string& body) {
    init_curl_once();
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return {0, "curl_easy_init failed", ""};
    struct curl_slist* raw_headers = nullptr;
    for (const auto& line : header_lines) raw_headers = curl_slist_append(raw_headers, line.c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(raw_headers, curl_slist_free_all);

    HttpResult result;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings.timeout_ms));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "meoktong-upload");
    if (!settings.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings.ca_file.c_str());

    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) return {0, curl_easy_strerror(rc), ""};
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
    return result;
}

// A meoktong collector (SPEC §6): the report's NDJSON in one POST.
HttpResult post_report(const UploadSettings& settings, const std::string& name, const std::string& body) {
    std::vector<std::string> headers = {"Content-Type: application/x-ndjson", "Idempotency-Key: " + name,
                                        "X-Meoktong-Report: " + name};
    if (settings.token) headers.push_back("Authorization: Bearer " + *settings.token);
    return http_post(settings, settings.url, headers, body);
}

// The report's records as OONI measurements (analyze's writer: no probe IP),
// with OONI's placeholders for an unknown network (AS0) and country (ZZ).
// Lines that are not records are left out.
std::vector<json> ooni_measurements(const std::string& report) {
    std::vector<json> out;
    size_t start = 0;
    while (start < report.size()) {
        size_t end = report.find('\n', start);
        std::string_view line(report.data() + start, (end == std::string::npos ? report.size() : end) - start);
        start = end == std::string::npos ? report.size() : end + 1;
        if (trim(line).empty()) continue;
        try {
            json m = json::parse(analyze::ooni_measurement(json::parse(line).get<Record>()));
            if (m["probe_asn"] == "") m["probe_asn"] = "AS0";
            if (m["probe_cc"] == "") m["probe_cc"] = "ZZ";
            out.push_back(std::move(m));
        } catch (const json::exception&) {
            continue;
        }
    }
    return out;
}

// POST /report for the measurements' test; on success the answer's body is
// replaced by the report_id it gave.
HttpResult open_ooni_report(const UploadSettings& settings, const std::string& base,
                            const std::vector<std::string>& headers, const json& first) {
    json open = {{"data_format_version", first["data_format_version"]}, {"format", "json"},
                 {"probe_asn", first["probe_asn"]},       {"probe_cc", first["probe_cc"]},
                 {"software_name", first["software_name"]}, {"software_version", first["software_version"]},
                 {"test_name", first["test_name"]},       {"test_version", first["test_version"]},
                 {"test_start_time", first["test_start_time"]}};
    HttpResult r = http_post(settings, base + "/report", headers, open.dump());
    if (!is_success(r)) return r;
    std::optional<std::string> report_id = ooni_report_id(r.body);
    if (!report_id) return {0, "the OONI collector's answer to POST /report has no report_id", ""};
    r.body = *report_id;
    return r;
}

// How far a queued report's OONI submission got: the OONI report it opened
// and how many measurements the collector took. Kept in QUEUE/ooni/NAME.json
// (written atomically after each step), so that a retry, in this run or a
// later one, goes on with the same OONI report instead of opening a second.
struct OoniProgress {
    std::string report_id;
    size_t submitted = 0;
};

std::optional<OoniProgress> read_ooni_progress(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return std::nullopt;
    try {
        json j = json::parse(read_file(file.string()));
        return OoniProgress{j.at("report_id").get<std::string>(), j.at("submitted").get<size_t>()};
    } catch (const std::exception&) {
        return std::nullopt;  // unreadable: start over with a new OONI report
    }
}

void write_ooni_progress(const fs::path& file, const OoniProgress& p) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    try {
        write_file_atomically(file.string(), json{{"report_id", p.report_id}, {"submitted", p.submitted}}.dump(), 0600);
    } catch (const FileError&) {
        // Without the record a retry opens a new OONI report: a duplicate, never a loss.
    }
}

// OONI's collector API (ooni/spec backends/bk-003-collector.md): open a
// report (POST /report), submit each record as an OONI measurement (POST
// /report/{id}), close it (POST /report/{id}/close). One OONI report per
// queued file, resumed from `progress_file` after a failure; the first step
// that fails is the result. No token is sent.
HttpResult submit_to_ooni(const UploadSettings& settings, const std::string& report, const fs::path& progress_file) {
    std::string base = settings.url.substr(std::strlen(kOoniUploadPrefix));
    while (base.ends_with('/')) base.pop_back();
    std::vector<json> measurements = ooni_measurements(report);
    if (measurements.empty()) return {200, "", ""};  // nothing OONI could take
    const std::vector<std::string> headers = {"Content-Type: application/json"};
    std::optional<OoniProgress> progress = read_ooni_progress(progress_file);
    if (!progress) {
        HttpResult opened = open_ooni_report(settings, base, headers, measurements.front());
        if (!is_success(opened)) return opened;
        progress = OoniProgress{opened.body, 0};
        write_ooni_progress(progress_file, *progress);
    }
    const std::string& id = progress->report_id;
    std::unique_ptr<char, decltype(&curl_free)> escaped(curl_easy_escape(nullptr, id.c_str(), int(id.size())), curl_free);
    if (!escaped) return {0, "cannot escape the report_id", ""};
    std::string report_url = base + "/report/" + escaped.get();
    for (size_t i = progress->submitted; i < measurements.size(); ++i) {
        json& m = measurements[i];
        m["report_id"] = id;
        json update = {{"format", "json"}, {"content", m}};
        HttpResult r = http_post(settings, report_url, headers, update.dump(-1, ' ', false, json::error_handler_t::replace));
        if (r.status == 404) {  // the collector closed or forgot the report: the next try opens a new one
            std::error_code ec;
            fs::remove(progress_file, ec);
            return {0, "the OONI collector no longer knows report " + id, ""};
        }
        if (!is_success(r)) return r;
        progress->submitted = i + 1;
        write_ooni_progress(progress_file, *progress);
    }
    HttpResult closed = http_post(settings, report_url + "/close", headers, "");
    std::error_code ec;
    if (is_success(closed)) fs::remove(progress_file, ec);
    return closed;
}

void sleep_for(const UploadSettings& settings, std::chrono::milliseconds delay) {
    if (settings.sleep) {
        settings.sleep(delay);
    } else {
        std::this_thread::sleep_for(delay);
    }
}

// Copies atomically (core write_file_atomically), so pending/ never holds a
// partial report; the queued copy keeps mode 0644 as before.
void copy_into_place(const fs::path& from, const fs::path& to) {
    try {
        write_file_atomically(to.string(), read_file(from.string()), 0644);
    } catch (const FileError&) {
        throw std::runtime_error("cannot queue " + from.string() + " for upload");
    }
}

UploadOutcome deliver(const fs::path& queue, const std::string& name, const UploadSettings& settings) {
    UploadOutcome outcome;
    outcome.report = name;
    std::string body;
    try {
        body = read_file((queue / kPending / name).string());
    } catch (const std::exception& e) {
        outcome.last_error = e.what();
        return outcome;
    }
    auto backoff = settings.first_backoff;
    for (int attempt = 1; attempt <= std::max(1, settings.attempts); ++attempt) {
        if (attempt > 1) {
            sleep_for(settings, backoff);
            backoff *= 2;
        }
        HttpResult result = settings.url.starts_with(kOoniUploadPrefix)
                                ? submit_to_ooni(settings, body, queue / kOoniProgress / (name + ".json"))
                                : post_report(settings, name, body);
        outcome.attempts = attempt;
        outcome.last_status = result.status;
        outcome.last_error = result.status ? "HTTP " + std::to_string(result.status) : result.error;
        if (is_success(result)) break;
        if (!is_retryable(result)) return outcome;
    }
    if (outcome.last_status < 200 || outcome.last_status >= 300) return outcome;
    std::error_code ec;
    fs::create_directories(queue / kSent, ec);
    fs::rename(queue / kPending / name, queue / kSent / name, ec);
    if (ec) {
        // The collector has it; the next run resends it under the same key.
        outcome.last_error = "delivered but not moved to sent/: " + ec.message();
        return outcome;
    }
    outcome.delivered = true;
    outcome.last_error.clear();
    return outcome;
}

}  // namespace

std::optional<std::string> ooni_report_id(std::string_view answer) {
    json doc = json::parse(answer, nullptr, false);
    if (!doc.is_object() || !doc.contains("report_id") || !doc["report_id"].is_string()) return std::nullopt;
    std::string id = doc["report_id"].get<std::string>();
    if (id.empty()) return std::nullopt;
    return id;
}

std::string upload_queue_dir_for_output(const std::string& out) {
    return (fs::path(report_dir_of_output(out)) / kUploadQueueDirName).string();
}

void enqueue_report(const std::string& queue_dir, const std::string& report_path) {
    fs::path queue(queue_dir);
    std::string name = fs::path(report_path).filename().string();
    fs::create_directories(queue / kPending);
    fs::create_directories(queue / kSent);
    fs::path target = queue / kPending / name;
    std::error_code ec;
    if (fs::exists(target, ec) || fs::exists(queue / kSent / name, ec)) return;
    fs::create_hard_link(report_path, target, ec);
    if (ec) copy_into_place(report_path, target);
}

std::vector<std::string> pending_reports(const std::string& queue_dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(queue_dir) / kPending, ec)) {
        std::string name = entry.path().filename().string();
        std::error_code stat_ec;
        if (name.empty() || name[0] == '.' || entry.path().extension() != ".jsonl") continue;
        if (!entry.is_regular_file(stat_ec)) continue;
        names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<UploadOutcome> drain_upload_queue(const std::string& queue_dir, const UploadSettings& settings) {
    std::vector<UploadOutcome> outcomes;
    try {
        check_upload_url(settings.url, "upload URL");
    } catch (const InputError& e) {
        for (const auto& name : pending_reports(queue_dir)) outcomes.push_back({name, false, 0, 0, e.what()});
        return outcomes;
    }
    for (const auto& name : pending_reports(queue_dir)) {
        outcomes.push_back(deliver(queue_dir, name, settings));
        const auto& last = outcomes.back();
        if (!last.delivered && is_retryable(HttpResult{last.last_status, last.last_error, ""})) break;
    }
    return outcomes;
}

}  // namespace meoktong
