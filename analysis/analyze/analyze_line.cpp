// Reading one report line for `meoktong analyze`: simdjson validates the whole
// line and the keys analysis needs (id, started_at, vantage, target, verdict,
// what the control saw) are read from its DOM; nlohmann's parser was 70% of
// analyze's time (issue 8). Also the UTC time parsing and formatting used
// across analyze.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <memory>

#include "meoktong/text.hpp"
#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/json_dom.hpp"

namespace meoktong::analyze {
namespace {

constexpr size_t kMaxField = 200;      // longer names/ids are cut: memory stays bounded
constexpr size_t kMaxEvidence = 300;
constexpr size_t kReusedParserBytes = 1 << 20;  // lines up to this size share one parser

// Fields of one record, read from simdjson's DOM (every byte of the line is
// validated; only the keys below are looked at).
using simdjson::dom::element;
using simdjson::dom::object;

const char* const kLayers[4] = {"dns", "tcp", "tls", "http"};

void take(std::string& field, std::string_view v, size_t max = kMaxField) {
    field.assign(v.substr(0, std::min(v.size(), max + 4)));
    cut_utf8(field, max);
}

// The string at obj[key], if it is one.
bool string_at(const object& obj, const char* key, std::string& field, size_t max = kMaxField) {
    std::string_view v;
    if (obj[key].get(v) != simdjson::SUCCESS) return false;
    take(field, v, max);
    return true;
}

// Any JSON number as a double and as an int64 (floats give 0, huge unsigned ones saturate).
bool number_at(const object& obj, const char* key, double& as_double, int64_t& as_int) {
    element e;
    if (obj[key].get(e) != simdjson::SUCCESS) return false;
    switch (e.type()) {
        case simdjson::dom::element_type::INT64: as_int = int64_t(e); as_double = double(as_int); return true;
        case simdjson::dom::element_type::UINT64: {
            uint64_t u = uint64_t(e);
            as_int = u > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(u);
            as_double = double(u);
            return true;
        }
        case simdjson::dom::element_type::DOUBLE: as_double = double(e); as_int = 0; return true;
        default: return false;
    }
}

void read_target(const object& t, ReportLine& out) {
    string_at(t, "service", out.service);
    string_at(t, "host", out.host);
    string_at(t, "protocol", out.protocol, 16);
    string_at(t, "role", out.role, 64);
    double ignored;
    number_at(t, "port", ignored, out.port);
    bool canary;
    if (t["canary"].get(canary) == simdjson::SUCCESS) out.canary = canary;
}

void read_verdict(const object& v, ReportLine& out) {
    string_at(v, "status", out.status, 32);
    string_at(v, "method", out.method, 64);
    int64_t ignored;
    number_at(v, "confidence", out.confidence, ignored);
    simdjson::dom::array evidence;
    if (v["evidence"].get(evidence) != simdjson::SUCCESS) return;
    for (element e : evidence) {
        std::string_view first;
        if (e.get(first) != simdjson::SUCCESS) continue;
        take(out.first_evidence, first, kMaxEvidence);
        return;
    }
}

// One control observation failed when it says so (a failure string; an HTTP 5xx).
bool control_item_failed(const object& item, int layer) {
    std::string_view failure;
    if (item["failure"].get(failure) == simdjson::SUCCESS) return true;
    double status = 0;
    int64_t ignored;
    return layer == 3 && number_at(item, "status", status, ignored) && status >= 500;
}

void read_control(const object& c, ReportLine& out) {
    std::string_view failure;
    if (c["failure"].get(failure) == simdjson::SUCCESS) out.control_failure = true;
    object observations;
    if (c["observations"].get(observations) != simdjson::SUCCESS) return;
    for (int layer = 0; layer < 4; ++layer) {
        simdjson::dom::array items;
        if (observations[kLayers[layer]].get(items) != simdjson::SUCCESS) continue;
        for (element e : items) {
            object item;
            if (e.get(item) != simdjson::SUCCESS) continue;
            if (control_item_failed(item, layer)) ++out.control_failed[layer];
            else ++out.control_ok[layer];
        }
    }
}

// The fields analysis needs of one meoktong record.
void read_record_fields(const object& root, ReportLine& out) {
    string_at(root, "id", out.id);
    string_at(root, "run_id", out.run_id);
    string_at(root, "started_at", out.started_at, 64);
    object part;
    if (root["vantage"].get(part) == simdjson::SUCCESS) {
        string_at(part, "label", out.vantage_label);
        string_at(part, "cc", out.cc, 8);
        string_at(part, "asn", out.asn, 16);
    }
    if (root["target"].get(part) == simdjson::SUCCESS) read_target(part, out);
    if (root["verdict"].get(part) == simdjson::SUCCESS) read_verdict(part, out);
    if (root["control"].get(part) == simdjson::SUCCESS) read_control(part, out);
}

// Checks and completes what was read: a known status, a service, a time.
bool finish_report_line(ReportLine& out, std::string& why) {
    auto status = parse_verdict_status(out.status);
    if (!status) {
        why = out.status.empty() ? "no verdict.status" : "unknown verdict.status";
        return false;
    }
    out.verdict = *status;
    if (out.service.empty()) {
        why = "no target.service";
        return false;
    }
    auto t = parse_utc_time(out.started_at);
    if (!t) {
        why = "no valid started_at";
        return false;
    }
    out.started_ms = *t;
    if (out.cc.empty()) out.cc = "ZZ";
    if (out.asn.empty()) out.asn = "AS0";
    if (out.vantage_label.empty()) out.vantage_label = out.cc + "-" + out.asn;
    return true;
}

// One control observation list's outcome per layer, as read_control counts it.
template <typename List>
void count_control(const List& items, int layer, ReportLine& out) {
    for (const auto& item : items) {
        bool failed = item.failure.has_value();
        if constexpr (requires { item.status; }) failed = failed || item.status >= 500;
        if (failed) ++out.control_failed[layer];
        else ++out.control_ok[layer];
    }
}

int64_t days_from_civil(int y, unsigned m, unsigned d) {
    using namespace std::chrono;
    return sys_days{year{y} / month{m} / day{d}}.time_since_epoch().count();
}

// Reads exactly n digits at s[pos..]; advances pos.
bool digits(std::string_view s, size_t& pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    pos += n;
    return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

}  // namespace

void ReportLine::clear() {
    id.clear();
    run_id.clear();
    started_at.clear();
    vantage_label.clear();
    cc.clear();
    asn.clear();
    service.clear();
    host.clear();
    protocol.clear();
    role.clear();
    port = 0;
    canary = false;
    status.clear();
    method.clear();
    first_evidence.clear();
    confidence = 0;
    control_failure = false;
    control_ok = {};
    control_failed = {};
    started_ms = 0;
    verdict = VerdictStatus::inconclusive;
}

// The control's deepest measured layer decides: it saw the target when
// something succeeded there (e.g. a TLS handshake), failed when nothing did.
ControlView ReportLine::control_view() const {
    if (control_failure) return ControlView::none;
    for (int layer = 3; layer >= 0; --layer) {
        if (control_ok[layer] > 0) return ControlView::saw_target;
        if (control_failed[layer] > 0) return ControlView::failed;
    }
    return ControlView::none;
}

bool parse_json_object(std::string_view text, object& root, std::string& why) {
    // One parser and text buffer per thread, reused: they keep the capacity of
    // the largest unit seen, so the rare huge one gets its own (kept until the
    // next call, as the object points into it) and memory stays bounded.
    thread_local simdjson::dom::parser reused_parser;
    thread_local std::string reused_text;
    thread_local std::unique_ptr<simdjson::dom::parser> one_off_parser;
    thread_local std::string one_off_text;
    bool small = text.size() <= kReusedParserBytes;
    if (small) {
        one_off_parser.reset();
        std::string().swap(one_off_text);
    } else {
        one_off_parser = std::make_unique<simdjson::dom::parser>();
    }
    simdjson::dom::parser& parser = small ? reused_parser : *one_off_parser;
    std::string& padded = small ? reused_text : one_off_text;  // simdjson reads SIMDJSON_PADDING bytes past the end
    padded.assign(text);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    element doc;
    if (auto error = parser.parse(padded.data(), text.size(), false).get(doc); error != simdjson::SUCCESS) {
        why = std::string("not JSON: ") + simdjson::error_message(error);
        return false;
    }
    if (doc.get(root) != simdjson::SUCCESS) {
        why = "not a JSON object";
        return false;
    }
    return true;
}

bool is_ooni_measurement(const object& root) {
    object keys;
    std::string_view name;
    return root["test_keys"].get(keys) == simdjson::SUCCESS && root["test_name"].get(name) == simdjson::SUCCESS &&
           root["schema"].error() == simdjson::NO_SUCH_FIELD;
}

bool read_report_fields(const object& root, ReportLine& out, std::string& why) {
    out.clear();
    read_record_fields(root, out);
    return finish_report_line(out, why);
}

bool read_report_line(std::string_view line, ReportLine& out, std::string& why) {
    out.clear();
    object root;
    return parse_json_object(line, root, why) && read_report_fields(root, out, why);
}

bool report_line_of(const Record& r, ReportLine& out, std::string& why) {
    out.clear();
    take(out.id, r.id);
    take(out.run_id, r.run_id);
    take(out.started_at, r.started_at, 64);
    take(out.vantage_label, r.vantage.label);
    take(out.cc, r.vantage.cc, 8);
    take(out.asn, r.vantage.asn, 16);
    take(out.service, r.target.service);
    take(out.host, r.target.host);
    take(out.protocol, r.target.protocol, 16);
    take(out.role, r.target.role, 64);
    out.port = r.target.port;
    out.canary = r.target.canary;
    out.status = verdict_status_name(r.verdict.status);
    if (r.verdict.method) take(out.method, *r.verdict.method, 64);
    out.confidence = r.verdict.confidence;
    if (!r.verdict.evidence.empty()) take(out.first_evidence, r.verdict.evidence.front(), kMaxEvidence);
    out.control_failure = r.control.failure.has_value();
    const Observations& c = r.control.observations;
    count_control(c.dns, 0, out);
    count_control(c.tcp, 1, out);
    count_control(c.tls, 2, out);
    count_control(c.http, 3, out);
    return finish_report_line(out, why);
}

std::optional<int64_t> parse_utc_time(std::string_view s) {
    size_t pos = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (!digits(s, pos, 4, y) || !expect(s, pos, '-') || !digits(s, pos, 2, mo) || !expect(s, pos, '-') ||
        !digits(s, pos, 2, d))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
    if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
        ++pos;
        if (!digits(s, pos, 2, h) || !expect(s, pos, ':') || !digits(s, pos, 2, mi)) return std::nullopt;
        if (expect(s, pos, ':') && !digits(s, pos, 2, sec)) return std::nullopt;
        if (expect(s, pos, '.')) {
            int scale = 100;
            size_t start = pos;
            while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
                ms += (s[pos] - '0') * scale;
                scale /= 10;
                ++pos;
            }
            if (pos == start) return std::nullopt;
        }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    int64_t offset_min = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int oh, om = 0;
        if (!digits(s, pos, 2, oh)) return std::nullopt;
        expect(s, pos, ':');
        if (pos < s.size() && !digits(s, pos, 2, om)) return std::nullopt;
        offset_min = sign * (oh * 60 + om);
    }
    if (pos != s.size()) return std::nullopt;
    int64_t days = days_from_civil(y, unsigned(mo), unsigned(d));
    int64_t minutes = days * 1440 + h * 60 + mi - offset_min;
    return (minutes * 60 + sec) * 1000 + ms;
}

namespace {
std::string format_time(int64_t ms, const char* fmt, bool with_seconds) {
    using namespace std::chrono;
    auto tp = sys_time<milliseconds>{milliseconds{ms}};
    auto dp = floor<days>(tp);
    year_month_day ymd{dp};
    hh_mm_ss hms{floor<seconds>(tp - dp)};
    char buf[64];
    if (with_seconds)
        std::snprintf(buf, sizeof buf, fmt, int(ymd.year()), unsigned(ymd.month()),
                      unsigned(ymd.day()), int(hms.hours().count()), int(hms.minutes().count()),
                      int(hms.seconds().count()));
    else
        std::snprintf(buf, sizeof buf, fmt, int(ymd.year()), unsigned(ymd.month()),
                      unsigned(ymd.day()), int(hms.hours().count()), int(hms.minutes().count()));
    return buf;
}
}  // namespace

std::string iso_time(int64_t ms) { return format_time(ms, "%04d-%02u-%02uT%02d:%02d:%02dZ", true); }
std::string display_time(int64_t ms) { return format_time(ms, "%04d-%02u-%02u %02d:%02d UTC", false); }

}  // namespace meoktong::analyze
