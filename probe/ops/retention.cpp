// Report naming scheme and retention (see retention.hpp).
#include "probe/ops/retention.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>

#include "meoktong/parse.hpp"

namespace meoktong {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxVantageChars = 64;
constexpr size_t kMaxRunIdChars = 64;
constexpr const char* kSuffix = ".jsonl";

constexpr size_t kRunIdPrefixChars = 8;

bool is_vantage_char(unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; }
bool is_run_id_char(unsigned char c) { return std::isalnum(c) || c == '-'; }

std::string keep_chars(const std::string& text, bool (*allowed)(unsigned char), size_t max) {
    std::string out;
    for (unsigned char c : text) {
        if (out.size() == max) break;
        out += allowed(c) ? static_cast<char>(c) : '_';
    }
    return out;
}

std::string utc_day(std::chrono::system_clock::time_point t) {
    std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
    return buf;
}

// "20261122T030000Z" -> time point; nullopt if not a real UTC time.
std::optional<std::chrono::system_clock::time_point> parse_stamp(const std::string& stamp) {
    if (stamp.size() != 16 || stamp[8] != 'T' || stamp[15] != 'Z') return std::nullopt;
    std::string_view text = stamp;
    auto digits = [&](size_t at, size_t width) { return parse_integer(text.substr(at, width), 0, 9999); };
    auto year = digits(0, 4), month = digits(4, 2), day = digits(6, 2);
    auto hour = digits(9, 2), minute = digits(11, 2), second = digits(13, 2);
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    std::tm tm{};
    tm.tm_year = static_cast<int>(*year) - 1900;
    tm.tm_mon = static_cast<int>(*month) - 1;
    tm.tm_mday = static_cast<int>(*day);
    tm.tm_hour = static_cast<int>(*hour);
    tm.tm_min = static_cast<int>(*minute);
    tm.tm_sec = static_cast<int>(*second);
    std::tm check = tm;
    std::time_t secs = timegm(&check);
    // timegm normalises out-of-range fields; a real time survives unchanged.
    if (check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon || check.tm_hour != tm.tm_hour ||
        check.tm_min != tm.tm_min || check.tm_sec != tm.tm_sec)
        return std::nullopt;
    return std::chrono::system_clock::from_time_t(secs);
}

struct ReportFile {
    fs::path path;
    ReportFileName name;
    int64_t bytes = 0;
};

std::vector<ReportFile> list_reports(const std::string& dir) {
    std::vector<ReportFile> reports;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        std::error_code stat_ec;
        if (!entry.is_regular_file(stat_ec) || entry.is_symlink(stat_ec)) continue;
        auto name = parse_report_file_name(entry.path().filename().string());
        if (!name) continue;
        auto bytes = entry.file_size(stat_ec);
        if (stat_ec) continue;
        reports.push_back({entry.path(), *name, static_cast<int64_t>(bytes)});
    }
    std::sort(reports.begin(), reports.end(), [](const ReportFile& a, const ReportFile& b) {
        return a.path.filename() < b.path.filename();
    });
    return reports;
}

}  // namespace

std::string report_file_name(std::chrono::system_clock::time_point started, const std::string& vantage,
                             const std::string& run_id) {
    std::time_t secs = std::chrono::system_clock::to_time_t(started);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    std::string label = keep_chars(vantage, is_vantage_char, kMaxVantageChars);
    std::string id = keep_chars(run_id.substr(0, kRunIdPrefixChars), is_run_id_char, kRunIdPrefixChars);
    return std::string(stamp) + "_" + (label.empty() ? "probe" : label) + "_" + (id.empty() ? "run" : id) + kSuffix;
}

std::optional<ReportFileName> parse_report_file_name(const std::string& name) {
    const std::string suffix = kSuffix;
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
    std::string stem = name.substr(0, name.size() - suffix.size());
    auto first = stem.find('_');   // the stamp has no '_'; the vantage may
    auto last = stem.rfind('_');    // the run id has no '_'
    if (first == std::string::npos || first == last) return std::nullopt;
    std::string stamp = stem.substr(0, first);
    std::string vantage = stem.substr(first + 1, last - first - 1);
    std::string run_id = stem.substr(last + 1);
    auto valid = [](const std::string& s, bool (*allowed)(unsigned char), size_t max) {
        return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [&](unsigned char c) { return allowed(c); });
    };
    if (!valid(vantage, is_vantage_char, kMaxVantageChars) || !valid(run_id, is_run_id_char, kMaxRunIdChars))
        return std::nullopt;
    auto started = parse_stamp(stamp);
    if (!started) return std::nullopt;
    return ReportFileName{*started, stamp.substr(0, 8), vantage, run_id};
}

RetentionResult apply_retention(const std::string& dir, const RetentionPolicy& policy,
                                std::chrono::system_clock::time_point now) {
    RetentionResult result;
    auto reports = list_reports(dir);
    const std::string today = utc_day(now);
    std::vector<bool> remove(reports.size(), false);

    if (policy.days) {
        auto cutoff = now - std::chrono::hours(24) * *policy.days;
        for (size_t i = 0; i < reports.size(); ++i)
            remove[i] = reports[i].name.day != today && reports[i].name.started < cutoff;
    }
    int64_t kept = 0;
    for (size_t i = 0; i < reports.size(); ++i)
        if (!remove[i]) kept += reports[i].bytes;
    if (policy.megabytes) {
        const int64_t limit = *policy.megabytes * 1024 * 1024;
        for (size_t i = 0; i < reports.size() && kept > limit; ++i) {  // oldest first
            if (remove[i] || reports[i].name.day == today) continue;
            remove[i] = true;
            kept -= reports[i].bytes;
        }
    }
    for (size_t i = 0; i < reports.size(); ++i) {
        if (!remove[i]) continue;
        std::error_code ec;
        if (fs::remove(reports[i].path, ec)) {
            result.removed.push_back(reports[i].path.string());
        } else {
            result.errors.push_back(reports[i].path.string() + ": " + ec.message());
            kept += reports[i].bytes;
        }
    }
    result.kept_bytes = kept;
    return result;
}

std::vector<std::string> remove_stale_temp_files(const std::string& dir, std::chrono::system_clock::time_point now,
                                                 std::chrono::seconds min_age) {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        auto marker = name.rfind(".tmp-");
        if (name.empty() || name[0] != '.' || marker == std::string::npos) continue;
        if (!parse_report_file_name(name.substr(1, marker - 1))) continue;
        std::error_code stat_ec;
        if (!entry.is_regular_file(stat_ec) || entry.is_symlink(stat_ec)) continue;
        auto modified = entry.last_write_time(stat_ec);
        if (stat_ec) continue;
        auto modified_sys = std::chrono::file_clock::to_sys(modified);
        if (now - modified_sys < min_age) continue;
        if (fs::remove(entry.path(), stat_ec)) removed.push_back(entry.path().string());
    }
    return removed;
}

}  // namespace meoktong
