// Streaming ingestion for `meoktong analyze`: files and directories are read
// in fixed-size chunks, split into lines, parsed by read_report_line and
// folded into per-(endpoint, vantage, window) cells. Malformed lines are
// counted per file (with the first few line numbers), never fatal.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <unistd.h>

#include "analysis/analyze/analyze.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"

namespace meoktong::analyze {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr size_t kMaxLine = 16 << 20;  // a longer line is malformed; its bytes are skipped

int severity(VerdictStatus s) {  // tie-break order for Cell::dominant
    switch (s) {
        case VerdictStatus::blocked: return 4;
        case VerdictStatus::provider_down: return 3;
        case VerdictStatus::local_failure: return 2;
        case VerdictStatus::inconclusive: return 1;
        case VerdictStatus::accessible: return 0;
    }
    return 0;
}

void note_malformed(InputFile& file, uint64_t line_no, const std::string& why) {
    ++file.malformed;
    if (file.first_malformed.size() < kMalformedLinesKept) file.first_malformed.emplace_back(line_no, why);
}

// Splits the stream from fd into lines and hands each to the aggregator.
void read_lines(int fd, const std::string& path, Aggregator& agg, InputFile& file) {
    std::string pending;       // an unfinished line carried over between chunks
    bool overlong = false;     // skipping the rest of a line longer than kMaxLine
    std::vector<char> buf(kChunk);
    uint64_t line_no = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw InputError("cannot read " + path + ": " + std::strerror(errno));
        if (n == 0) break;
        const char* p = buf.data();
        const char* end = p + n;
        while (p < end) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
            const char* stop = nl ? nl : end;
            if (!overlong) {
                if (pending.size() + size_t(stop - p) > kMaxLine) {
                    overlong = true;
                    pending.clear();
                } else if (nl && pending.empty()) {
                    agg.add_line(std::string_view(p, size_t(nl - p)), ++line_no, file);
                } else {
                    pending.append(p, stop);
                    if (nl) {
                        agg.add_line(pending, ++line_no, file);
                        pending.clear();
                    }
                }
            }
            if (!nl) break;
            if (overlong) {
                ++line_no;
                ++file.lines;
                note_malformed(file, line_no, "line longer than 16 MiB");
                overlong = false;
            }
            p = nl + 1;
        }
    }
    if (overlong) {
        ++file.lines;
        note_malformed(file, ++line_no, "line longer than 16 MiB");
    } else if (!pending.empty()) {
        agg.add_line(pending, ++line_no, file);
    }
}

void read_file(const std::string& path, Aggregator& agg, std::vector<InputFile>& files) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError("cannot read " + path + ": " + std::strerror(errno));
    InputFile file;
    file.path = path;
    try {
        read_lines(fd, path, agg, file);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    files.push_back(std::move(file));
}

}  // namespace

std::string Endpoint::uri() const {
    std::string u = (protocol.empty() ? std::string("tcp") : protocol) + "://";
    u += uri_host(host);
    if (port > 0) u += ":" + std::to_string(port);
    return u;
}

uint32_t Cell::total() const {
    uint32_t t = 0;
    for (uint32_t c : statuses) t += c;
    return t;
}

VerdictStatus Cell::dominant() const {
    VerdictStatus best = VerdictStatus::accessible;
    for (int i = 0; i < kVerdictStatusCount; ++i) {
        VerdictStatus s = VerdictStatus(i);
        if (statuses[i] > statuses[int(best)] || (statuses[i] == statuses[int(best)] && severity(s) > severity(best)))
            best = s;
    }
    return best;
}

size_t CellKeyHash::operator()(const CellKey& k) const noexcept {
    uint64_t h = (uint64_t(k.endpoint) * 0x9E3779B97F4A7C15ULL) ^ (uint64_t(k.vantage) * 0xC2B2AE3D27D4EB4FULL) ^
                 (uint64_t(k.window) * 0x165667B19E3779F9ULL);
    return size_t(h ^ (h >> 29));
}

Aggregator::Aggregator(Options options) : options_(std::move(options)) {
    if (options_.window_minutes < 1) options_.window_minutes = 1;
}

int64_t Aggregator::window_of(int64_t ms) const {
    int64_t w = window_ms();
    return ms >= 0 ? ms / w : -((-ms + w - 1) / w);
}

bool Aggregator::keep(const ReportLine& r) const {
    if (options_.from_ms && r.started_ms < *options_.from_ms) return false;
    if (options_.to_ms && r.started_ms >= *options_.to_ms) return false;
    if (!options_.cc.empty() && r.cc != options_.cc) return false;
    if (!options_.services.empty() &&
        std::find(options_.services.begin(), options_.services.end(), r.service) == options_.services.end() &&
        !r.canary)
        return false;
    return true;
}

void Aggregator::add_line(std::string_view line, uint64_t line_no, InputFile& file) {
    ++file.lines;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank lines are not records
    if (!read_report_line(line, line_, why_)) {
        note_malformed(file, line_no, why_);
        return;
    }
    if (!keep(line_)) {
        ++file.filtered_out;
        return;
    }
    ++file.records;
    add(line_);
}

uint32_t Aggregator::endpoint_id(const ReportLine& r) {
    key_.clear();
    key_.append(r.service).push_back('\x1f');
    key_.append(r.protocol).push_back('\x1f');
    key_.append(r.host).push_back('\x1f');
    key_.append(std::to_string(r.port)).push_back(r.canary ? 'c' : '-');
    auto it = endpoint_ids_.find(key_);
    if (it != endpoint_ids_.end()) return it->second;
    uint32_t id = uint32_t(endpoints_.size());
    endpoints_.push_back({r.service, r.host, r.protocol, r.role, r.port, r.canary});
    endpoint_ids_.emplace(key_, id);
    return id;
}

uint32_t Aggregator::vantage_id(const ReportLine& r) {
    key_.clear();
    key_.append(r.vantage_label).push_back('\x1f');
    key_.append(r.cc).push_back('\x1f');
    key_.append(r.asn);
    auto it = vantage_ids_.find(key_);
    if (it != vantage_ids_.end()) return it->second;
    uint32_t id = uint32_t(vantages_.size());
    vantages_.push_back({r.vantage_label, r.cc, r.asn});
    vantage_ids_.emplace(key_, id);
    return id;
}

void Aggregator::add(const ReportLine& r) {
    CellKey key{endpoint_id(r), vantage_id(r), window_of(r.started_ms)};
    Cell& cell = cells_[key];
    first_ms_ = std::min(first_ms_, r.started_ms);
    last_ms_ = std::max(last_ms_, r.started_ms);
    ++cell.statuses[int(r.verdict)];
    ControlView control = r.control_view();
    bool failing = r.verdict != VerdictStatus::accessible;
    size_t kept_failing = 0;
    for (const Example& e : cell.examples) kept_failing += e.status != VerdictStatus::accessible;
    bool keep_example = failing ? kept_failing < kFailingExamples
                                : cell.examples.size() - kept_failing < kWorkingExamples;
    if (failing) {
        cell.first_fail_ms = std::min(cell.first_fail_ms, r.started_ms);
        cell.last_fail_ms = std::max(cell.last_fail_ms, r.started_ms);
        cell.failing_confidence_sum += r.confidence;
        if (control == ControlView::saw_target) ++cell.control_saw;
        if (control == ControlView::failed) ++cell.control_failed;
        if (!r.method.empty()) {
            auto m = std::find_if(cell.methods.begin(), cell.methods.end(),
                                  [&](const auto& p) { return p.first == r.method; });
            if (m != cell.methods.end()) ++m->second;
            else if (cell.methods.size() < 16) cell.methods.emplace_back(r.method, 1);
        }
    } else {
        cell.first_ok_ms = std::min(cell.first_ok_ms, r.started_ms);
        cell.last_ok_ms = std::max(cell.last_ok_ms, r.started_ms);
    }
    if (keep_example && !r.id.empty())
        cell.examples.push_back({r.id, r.started_ms, r.verdict, r.method, control, r.first_evidence});
}

void Aggregator::add_cell(const ReportLine& key, int64_t window, const Cell& from) {
    if (from.total() == 0) return;
    Cell& cell = cells_[CellKey{endpoint_id(key), vantage_id(key), window}];
    for (int i = 0; i < kVerdictStatusCount; ++i) cell.statuses[i] += from.statuses[i];
    for (const auto& entry : from.methods) {  // not a structured binding: clang 14 cannot capture one
        auto m = std::find_if(cell.methods.begin(), cell.methods.end(), [&](const auto& p) { return p.first == entry.first; });
        if (m != cell.methods.end()) m->second += entry.second;
        else if (cell.methods.size() < 16) cell.methods.emplace_back(entry.first, entry.second);
    }
    cell.control_saw += from.control_saw;
    cell.control_failed += from.control_failed;
    cell.failing_confidence_sum += from.failing_confidence_sum;
    cell.first_fail_ms = std::min(cell.first_fail_ms, from.first_fail_ms);
    cell.last_fail_ms = std::max(cell.last_fail_ms, from.last_fail_ms);
    cell.first_ok_ms = std::min(cell.first_ok_ms, from.first_ok_ms);
    cell.last_ok_ms = std::max(cell.last_ok_ms, from.last_ok_ms);
    first_ms_ = std::min({first_ms_, from.first_fail_ms, from.first_ok_ms});
    last_ms_ = std::max({last_ms_, from.last_fail_ms, from.last_ok_ms});
    size_t kept_failing = 0;
    for (const Example& e : cell.examples) kept_failing += e.status != VerdictStatus::accessible;
    size_t kept_working = cell.examples.size() - kept_failing;
    for (const Example& e : from.examples) {
        bool failing = e.status != VerdictStatus::accessible;
        if (failing ? kept_failing++ < kFailingExamples : kept_working++ < kWorkingExamples) cell.examples.push_back(e);
    }
}

std::vector<std::string> report_files(const std::vector<std::string>& paths) {
    namespace fs = std::filesystem;
    std::vector<std::string> files;
    for (const std::string& path : paths) {
        std::error_code ec;
        if (!fs::is_directory(path, ec)) {
            files.push_back(path);
            continue;
        }
        std::vector<std::string> inside;
        for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
            std::error_code type_ec;
            if (it->path().extension() == ".jsonl" && !it->is_directory(type_ec)) inside.push_back(it->path().string());
        }
        if (ec) throw InputError("cannot read " + path + ": " + ec.message());
        std::sort(inside.begin(), inside.end());
        files.insert(files.end(), inside.begin(), inside.end());
    }
    return files;
}

std::vector<InputFile> read_inputs(const std::vector<std::string>& paths, Aggregator& agg) {
    std::vector<InputFile> files;
    for (const std::string& f : report_files(paths)) read_file(f, agg, files);
    return files;
}

}  // namespace meoktong::analyze
