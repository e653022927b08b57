// Reading one report line for `meoktong analyze`: a nlohmann SAX handler that
// keeps only the keys analysis needs (id, started_at, vantage, target, verdict,
// what the control saw) and skips the rest without building a DOM. Also the
// UTC time parsing and formatting used across analyze.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "meoktong/analyze.hpp"

namespace meoktong::analyze {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxField = 200;      // longer names/ids are cut: memory stays bounded
constexpr size_t kMaxEvidence = 300;

// Cuts s to at most n bytes without splitting a UTF-8 sequence.
void cut_utf8(std::string& s, size_t n) {
    if (s.size() <= n) return;
    size_t end = n;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    s.resize(end);
}

// Where in the record the parser currently is.
enum class Ctx : uint8_t { Root, Vantage, Target, Verdict, Evidence, Control, ControlObs, ControlLayer, ControlItem, Skip };

struct Frame {
    Ctx ctx;
    int layer = -1;           // ControlLayer / ControlItem: 0 dns, 1 tcp, 2 tls, 3 http
    int item_failed = 0;      // ControlItem: 1 ok, 2 failed (wins over ok), 0 not said
};

int layer_index(const std::string& key) {
    if (key == "dns") return 0;
    if (key == "tcp") return 1;
    if (key == "tls") return 2;
    if (key == "http") return 3;
    return -1;
}

class LineHandler : public nlohmann::json_sax<json> {
public:
    explicit LineHandler(ReportLine& out) : out_(out) {}

    std::string error;

    bool null() override {
        if (top() == Ctx::Verdict && key_ == "method") out_.method.clear();
        if (top() == Ctx::ControlItem && key_ == "failure") stack_.back().item_failed = std::max(stack_.back().item_failed, 1);
        return scalar();
    }
    bool boolean(bool v) override {
        if (top() == Ctx::Target && key_ == "canary") out_.canary = v;
        return scalar();
    }
    bool number_integer(number_integer_t v) override { return number(double(v), v); }
    bool number_unsigned(number_unsigned_t v) override {
        return number(double(v), v > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(v));
    }
    bool number_float(number_float_t v, const string_t&) override { return number(v, 0); }
    bool string(string_t& v) override {
        if (stack_.empty()) return scalar();
        switch (top()) {
            case Ctx::Root: take_root(v); break;
            case Ctx::Vantage: take_vantage(v); break;
            case Ctx::Target: take_target(v); break;
            case Ctx::Verdict: take_verdict(v); break;
            case Ctx::Evidence:
                if (!evidence_taken_) take(out_.first_evidence, v, kMaxEvidence);
                evidence_taken_ = true;
                break;
            case Ctx::Control:
                if (key_ == "failure") out_.control_failure = true;
                break;
            case Ctx::ControlItem:
                if (key_ == "failure") stack_.back().item_failed = 2;
                break;
            default: break;
        }
        return scalar();
    }
    bool binary(binary_t&) override { return scalar(); }

    bool start_object(std::size_t) override {
        if (stack_.empty()) {
            stack_.push_back({Ctx::Root});
            return true;
        }
        Ctx parent = top();
        Ctx next = Ctx::Skip;
        if (parent == Ctx::Root) {
            if (key_ == "vantage") next = Ctx::Vantage;
            else if (key_ == "target") next = Ctx::Target;
            else if (key_ == "verdict") next = Ctx::Verdict;
            else if (key_ == "control") next = Ctx::Control;
        } else if (parent == Ctx::Control && key_ == "observations") {
            next = Ctx::ControlObs;
        } else if (parent == Ctx::ControlLayer) {
            stack_.push_back({Ctx::ControlItem, stack_.back().layer});
            return true;
        }
        stack_.push_back({next});
        return true;
    }
    bool key(string_t& k) override {
        key_.assign(k);  // a copy: moving would steal the lexer's buffer and make it reallocate
        return true;
    }
    bool end_object() override {
        if (top() == Ctx::ControlItem) {
            const Frame& f = stack_.back();
            if (f.item_failed == 2) ++out_.control_failed[f.layer];
            else ++out_.control_ok[f.layer];
        }
        stack_.pop_back();
        return true;
    }
    bool start_array(std::size_t) override {
        if (stack_.empty()) return fail("not a JSON object");
        Ctx next = Ctx::Skip;
        int layer = -1;
        if (top() == Ctx::Verdict && key_ == "evidence") {
            next = Ctx::Evidence;
        } else if (top() == Ctx::ControlObs && (layer = layer_index(key_)) >= 0) {
            next = Ctx::ControlLayer;
        }
        stack_.push_back({next, layer});
        return true;
    }
    bool end_array() override {
        stack_.pop_back();
        return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
        // e.what() is long and names nlohmann internals; keep the gist and the byte.
        std::string what = e.what();
        auto colon = what.rfind(": ");
        std::string gist = colon == std::string::npos ? what : what.substr(colon + 2);
        cut_utf8(gist, 120);
        return fail("not JSON at byte " + std::to_string(position) + ": " + gist);
    }

private:
    Ctx top() const { return stack_.empty() ? Ctx::Skip : stack_.back().ctx; }
    bool fail(std::string why) {
        if (error.empty()) error = std::move(why);
        return false;
    }
    bool scalar() { return !stack_.empty() || fail("not a JSON object"); }
    bool number(double as_double, int64_t as_int) {
        if (top() == Ctx::Target && key_ == "port") out_.port = as_int;
        // An HTTP 5xx at the control means the service failed there too.
        if (top() == Ctx::ControlItem && key_ == "status" && stack_.back().layer == 3 && as_double >= 500)
            stack_.back().item_failed = 2;
        if (top() == Ctx::Verdict && key_ == "confidence") out_.confidence = as_double;
        return scalar();
    }
    static void take(std::string& field, const std::string& v, size_t max = kMaxField) {
        field.assign(v, 0, std::min(v.size(), max + 4));
        cut_utf8(field, max);
    }
    void take_root(const std::string& v) {
        if (key_ == "id") take(out_.id, v);
        else if (key_ == "started_at") take(out_.started_at, v, 64);
    }
    void take_vantage(const std::string& v) {
        if (key_ == "label") take(out_.vantage_label, v);
        else if (key_ == "cc") take(out_.cc, v, 8);
        else if (key_ == "asn") take(out_.asn, v, 16);
    }
    void take_target(const std::string& v) {
        if (key_ == "service") take(out_.service, v);
        else if (key_ == "host") take(out_.host, v);
        else if (key_ == "protocol") take(out_.protocol, v, 16);
        else if (key_ == "role") take(out_.role, v, 64);
    }
    void take_verdict(const std::string& v) {
        if (key_ == "status") take(out_.status, v, 32);
        else if (key_ == "method") take(out_.method, v, 64);
    }

    ReportLine& out_;
    std::vector<Frame> stack_;
    std::string key_;
    bool evidence_taken_ = false;
};

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

const char* status_name(Status s) {
    static const char* names[] = {"accessible", "blocked", "provider_down", "local_failure", "inconclusive"};
    return names[static_cast<int>(s)];
}

std::optional<Status> parse_status(std::string_view s) {
    for (int i = 0; i < kStatusCount; ++i)
        if (s == status_name(Status(i))) return Status(i);
    return std::nullopt;
}

void ReportLine::clear() {
    id.clear();
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
    verdict = Status::inconclusive;
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

bool read_report_line(std::string_view line, ReportLine& out, std::string& why) {
    out.clear();
    LineHandler handler(out);
    bool ok = json::sax_parse(line.begin(), line.end(), &handler);
    if (!ok) {
        why = handler.error.empty() ? "not JSON" : handler.error;
        return false;
    }
    auto status = parse_status(out.status);
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
