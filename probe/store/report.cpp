// Reading an uploaded report body line by line with analyze's record reader
// (see report.hpp).
#include "probe/store/report.hpp"

#include <unordered_set>

namespace meoktong::store {

std::string ReportProblem::describe() const {
    if (line_no == 0) return why;
    return "line " + std::to_string(line_no) + ": " + why;
}

std::optional<ReportProblem> read_report(std::string_view body, Report& out) {
    out = Report{};
    uint32_t line_no = 0;
    std::string why;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t end = body.find('\n', pos);
        if (end == std::string_view::npos) end = body.size();
        std::string_view line = body.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank lines are not records
        if (out.records.size() == kMaxReportRecords)
            return ReportProblem{0, "more than " + std::to_string(kMaxReportRecords) + " records", true};
        ReportRecord& record = out.records.emplace_back();
        record.line_no = line_no;
        record.line = line;
        if (!analyze::read_report_line(line, record.fields, why)) {
            out.records.clear();
            return ReportProblem{line_no, why, false};
        }
    }
    if (out.records.empty()) return ReportProblem{0, "no records", false};
    out.run_id = out.records.front().fields.run_id;
    std::unordered_set<std::string_view> seen;
    for (const auto& r : out.records) {
        const std::string& run_id = r.fields.run_id;
        if (!run_id.empty() && seen.insert(run_id).second) out.run_ids.push_back(run_id);
    }
    return std::nullopt;
}

std::string import_key(const Report& report) {
    constexpr size_t kMaxKey = 255;
    std::string key = report.run_id.empty() && !report.records.empty() ? "record:" + report.records.front().fields.id
                                                                         : "run:" + report.run_id;
    if (key.size() > kMaxKey) key.resize(kMaxKey);
    for (char& c : key)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) c = '_';
    return key;
}

}  // namespace meoktong::store
