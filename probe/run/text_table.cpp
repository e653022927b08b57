// Renders records as an aligned text table (see text_table.hpp).
#include "probe/run/text_table.hpp"

#include <algorithm>

#include "analysis/verdict/services.hpp"
#include "meoktong/target.hpp"

namespace meoktong {
namespace {

constexpr size_t kMaxCell = 48;

template <typename Obs>
std::vector<std::optional<std::string>> failures_of(const std::vector<Obs>& list) {
    std::vector<std::optional<std::string>> out;
    for (const auto& o : list) out.push_back(o.failure);
    return out;
}

std::string tls_cell(const std::vector<TlsObservation>& tls) {
    std::vector<std::optional<std::string>> target, neutral;
    for (const auto& t : tls) (t.purpose == "target" ? target : neutral).push_back(t.failure);
    std::string cell = step_summary(target);
    if (!neutral.empty()) cell += "; neutral SNI " + step_summary(neutral);
    return cell;
}

std::string verdict_cell(const Verdict& v) {
    std::string s = verdict_status_name(v.status);
    if (v.method) s += "/" + *v.method;
    return s;
}

std::string fit(std::string s) {
    if (s.size() > kMaxCell) s = s.substr(0, kMaxCell - 3) + "...";
    return s;
}

}  // namespace

std::string step_summary(const std::vector<std::optional<std::string>>& failures) {
    if (failures.empty()) return "-";
    size_t ok = static_cast<size_t>(std::count_if(failures.begin(), failures.end(), [](const auto& f) { return !f; }));
    if (ok == failures.size()) return "ok";
    auto first = std::find_if(failures.begin(), failures.end(), [](const auto& f) { return f.has_value(); });
    std::string s = **first;
    if (ok > 0) s += " (" + std::to_string(ok) + "/" + std::to_string(failures.size()) + " ok)";
    return s;
}

std::string render_table(const std::vector<Record>& records) {
    std::vector<std::vector<std::string>> rows{{"SERVICE", "TARGET", "DNS", "TCP", "TLS", "HTTP", "VERDICT"}};
    for (const auto& r : records) {
        const auto& o = r.observations;
        std::string service = r.target.service;
        if (r.target.canary && service != "canary") service += " (canary)";
        rows.push_back({fit(service), fit(target_uri(r.target)), fit(step_summary(failures_of(o.dns))),
                        fit(step_summary(failures_of(o.tcp))), fit(tls_cell(o.tls)),
                        fit(step_summary(failures_of(o.http))), verdict_cell(r.verdict)});
    }
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

std::string render_services(const std::vector<Record>& records, const std::vector<TestList>& lists) {
    std::string out;
    for (const auto& outcome : service_outcomes(records, lists)) out += outcome.summary + "\n";
    return out.empty() ? out : "\nservices:\n" + out;
}

}  // namespace meoktong
