// Streaming ingestion for `meoktong analyze`: files and directories are read
// in fixed-size chunks (gzip or plain, through zlib), split into input units
// (JSONL lines, or one pretty-printed JSON document), read as meoktong records
// or OONI measurements and folded into per-(endpoint, vantage, time window)
// cells. Malformed units are counted per file (with the first few line
// numbers), never fatal.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <unistd.h>

#include <zlib.h>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/json_dom.hpp"
#include "analysis/analyze/ooni.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/record_json.hpp"
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

// The names of files a directory's reports and measurements are read from.
bool is_input_name(std::string_view name) {
    for (std::string_view suffix : {".jsonl", ".json", ".jsonl.gz", ".json.gz"})
        if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) return true;
    return false;
}

void note_malformed(InputFile& file, uint64_t line_no, const std::string& why) {
    ++file.malformed;
    if (file.first_malformed.size() < kMalformedLinesKept) file.first_malformed.emplace_back(line_no, why);
}

// Splits a byte stream into input units. The first non-blank line decides:
// a line that is JSON by itself makes the stream JSONL (one unit per line);
// a line opening an object it does not close starts one document spanning
// the stream (pretty-printed JSON), which falls back to lines when it turns
// out not to be one JSON object or grows past kMaxLine.
class UnitSplitter {
public:
    using OnUnit = std::function<void(std::string_view, uint64_t)>;
    UnitSplitter(const OnUnit& on_unit, InputFile& file) : on_unit_(on_unit), file_(file) {}

    void feed(std::string_view bytes) {
        if (mode_ == Mode::document) {
            if (document_.size() + bytes.size() <= kMaxLine) {
                document_.append(bytes);
                return;
            }
            switch_to_lines();
        }
        feed_lines(bytes);
    }

    void finish() {
        if (mode_ != Mode::document) {
            if (overlong_) {
                ++file_.lines;
                note_malformed(file_, ++line_no_, "line longer than 16 MiB");
                return;
            }
            if (pending_.empty()) return;
            std::string last;
            last.swap(pending_);
            line(last);
            if (mode_ != Mode::document) return;
        }
        simdjson::dom::object root;
        std::string why;
        if (parse_json_object(document_, root, why)) {
            on_unit_(document_, document_line_);
            return;
        }
        switch_to_lines();
        if (!pending_.empty()) on_unit_(pending_, ++line_no_);
    }

private:
    enum class Mode { undecided, lines, document };

    void feed_lines(std::string_view bytes) {
        const char* p = bytes.data();
        const char* end = p + bytes.size();
        while (p < end && mode_ != Mode::document) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
            const char* stop = nl ? nl : end;
            if (!overlong_) {
                if (pending_.size() + size_t(stop - p) > kMaxLine) {
                    overlong_ = true;
                    pending_.clear();
                } else if (nl && pending_.empty()) {
                    line(std::string_view(p, size_t(nl - p)));
                } else {
                    pending_.append(p, stop);
                    if (nl) {
                        line(pending_);
                        pending_.clear();
                    }
                }
            }
            if (!nl) return;
            if (overlong_) {
                ++line_no_;
                ++file_.lines;
                note_malformed(file_, line_no_, "line longer than 16 MiB");
                overlong_ = false;
            }
            p = nl + 1;
        }
        if (mode_ == Mode::document) document_.append(p, end);  // the rest of the stream after the opening line
    }

    // One complete line; while undecided it may open a document instead.
    void line(std::string_view text) {
        ++line_no_;
        if (mode_ == Mode::undecided) {
            size_t first = text.find_first_not_of(" \t\r");
            if (first == std::string_view::npos) {
                on_unit_(text, line_no_);
                return;
            }
            simdjson::dom::object root;
            std::string why;
            if (text[first] == '{' && !parse_json_object(text, root, why)) {
                mode_ = Mode::document;
                document_line_ = line_no_;
                document_.assign(text).push_back('\n');
                return;
            }
            mode_ = Mode::lines;
        }
        on_unit_(text, line_no_);
    }

    // The buffered document was not one: its lines are read as JSONL.
    void switch_to_lines() {
        mode_ = Mode::lines;
        line_no_ = document_line_ - 1;
        std::string buffered;
        buffered.swap(document_);
        feed_lines(buffered);
    }

    const OnUnit& on_unit_;
    InputFile& file_;
    Mode mode_ = Mode::undecided;
    std::string pending_;       // an unfinished line carried over between chunks
    bool overlong_ = false;     // skipping the rest of a line longer than kMaxLine
    uint64_t line_no_ = 0;
    std::string document_;      // document mode: the stream so far
    uint64_t document_line_ = 0;
};

// zlib reads gzip (told by its magic bytes) and passes any other file through.
void read_stream(const std::string& path, gzFile gz, UnitSplitter& splitter, InputFile& file) {
    std::vector<char> buf(kChunk);
    for (;;) {
        int n = gzread(gz, buf.data(), unsigned(buf.size()));
        if (n < 0) {
            int code = 0;
            const char* message = gzerror(gz, &code);
            if (code == Z_ERRNO) throw InputError("cannot read " + path + ": " + std::strerror(errno));
            note_malformed(file, 0, std::string("gzip: ") + message + "; the rest of the file is not read");
            break;
        }
        if (n == 0) break;
        splitter.feed(std::string_view(buf.data(), size_t(n)));
    }
    splitter.finish();
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
    simdjson::dom::object root;
    if (!parse_json_object(line, root, why_)) {
        note_malformed(file, line_no, why_);
        return;
    }
    if (!is_ooni_measurement(root)) {
        if (!read_report_fields(root, line_, why_)) note_malformed(file, line_no, why_);
        else add_kept(line_, file);
        return;
    }
    if (!ooni_records(root, ooni_records_, why_)) {
        note_malformed(file, line_no, why_);
        return;
    }
    for (const Record& record : ooni_records_) {
        if (!report_line_of(record, line_, why_)) note_malformed(file, line_no, why_);
        else add_kept(line_, file);
    }
}

void Aggregator::add_kept(const ReportLine& r, InputFile& file) {
    if (!keep(r)) {
        ++file.filtered_out;
        return;
    }
    ++file.records;
    add(r);
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
            if (is_input_name(it->path().filename().string()) && !it->is_directory(type_ec))
                inside.push_back(it->path().string());
        }
        if (ec) throw InputError("cannot read " + path + ": " + ec.message());
        std::sort(inside.begin(), inside.end());
        files.insert(files.end(), inside.begin(), inside.end());
    }
    return files;
}

void read_units(const std::string& path, const std::function<void(std::string_view, uint64_t)>& on_unit,
                InputFile& file) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError("cannot read " + path + ": " + std::strerror(errno));
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        ::close(fd);
        throw InputError("cannot read " + path + ": out of memory");
    }
    gzbuffer(gz, kChunk);
    UnitSplitter splitter(on_unit, file);
    try {
        read_stream(path, gz, splitter, file);
    } catch (...) {
        gzclose(gz);
        throw;
    }
    gzclose(gz);
}

std::vector<InputFile> read_inputs(const std::vector<std::string>& paths, Aggregator& agg) {
    std::vector<InputFile> files;
    for (const std::string& path : report_files(paths)) {
        InputFile file;
        file.path = path;
        read_units(path, [&](std::string_view unit, uint64_t line_no) { agg.add_line(unit, line_no, file); }, file);
        files.push_back(std::move(file));
    }
    return files;
}

bool unit_records(std::string_view unit, std::vector<Record>& out, std::string& why) {
    out.clear();
    simdjson::dom::object root;
    if (!parse_json_object(unit, root, why)) return false;
    if (is_ooni_measurement(root)) return ooni_records(root, out, why);
    try {
        out.push_back(json::parse(unit).get<Record>());
    } catch (const json::exception& e) {
        why = std::string("not a record: ") + e.what();
        return false;
    }
    ReportLine checked;
    return report_line_of(out.back(), checked, why);
}

std::string report_body(const std::string& path, std::string& problem) {
    std::string body;
    std::vector<Record> records;
    InputFile file;
    read_units(path, [&](std::string_view unit, uint64_t line_no) {
        simdjson::dom::object root;
        std::string why;
        if (!parse_json_object(unit, root, why) || !is_ooni_measurement(root)) {
            body.append(unit).push_back('\n');
            return;
        }
        if (!ooni_records(root, records, why)) {
            if (problem.empty()) problem = "line " + std::to_string(line_no) + ": " + why;
            return;
        }
        for (const Record& r : records) body.append(json(r).dump(-1, ' ', false, json::error_handler_t::replace)).push_back('\n');
    }, file);
    if (problem.empty() && !file.first_malformed.empty())
        problem = "line " + std::to_string(file.first_malformed.front().first) + ": " + file.first_malformed.front().second;
    return body;
}

}  // namespace meoktong::analyze
