// JSON output of `meoktong analyze` ("meoktong.analysis/v1"). Keys and their
// order are stable; docs/analyze.md documents each one.
#include <nlohmann/json.hpp>

#include "analysis/analyze/render.hpp"
#include "meoktong/record.hpp"

namespace meoktong::analyze {
namespace {

using ojson = nlohmann::ordered_json;

ojson or_null(const std::string& s) { return s.empty() ? ojson(nullptr) : ojson(s); }
ojson time_or_null(const std::optional<int64_t>& ms) { return ms ? ojson(iso_time(*ms)) : ojson(nullptr); }

ojson vantage_json(const VantageInfo& v) { return ojson{{"label", v.label}, {"cc", v.cc}, {"asn", v.asn}}; }

ojson counts_json(const std::map<std::string, uint64_t>& m) {
    ojson j = ojson::object();
    for (const auto& [k, n] : m) j[k] = n;
    return j;
}

ojson inputs_json(const Analysis& a) {
    ojson files = ojson::array();
    for (const InputFile& f : a.files) {
        ojson bad = ojson::array();
        for (const auto& [line, why] : f.first_malformed) bad.push_back({{"line", line}, {"reason", why}});
        files.push_back({{"path", f.path}, {"lines", f.lines}, {"records", f.records}, {"malformed", f.malformed},
                         {"filtered_out", f.filtered_out}, {"malformed_lines", bad}});
    }
    return {{"files", files},
            {"lines", a.totals.lines},
            {"records", a.totals.records},
            {"malformed", a.totals.malformed},
            {"filtered_out", a.totals.filtered_out},
            {"first_record_at", time_or_null(a.first_record_ms)},
            {"last_record_at", time_or_null(a.last_record_ms)}};
}

ojson incident_json(const Incident& inc) {
    ojson vantages = ojson::array();
    for (const VantageInfo& v : inc.vantages) vantages.push_back(vantage_json(v));
    ojson evidence = ojson::array();
    for (const EvidenceItem& e : inc.evidence) evidence.push_back({{"text", e.text}, {"measurements", e.measurements}});
    int64_t until = inc.end_ms.value_or(inc.last_failure_ms);
    return {{"id", inc.id},
            {"service", or_null(inc.service)},
            {"service_name", or_null(inc.service.empty() ? "" : service_display_name(inc.service))},
            {"classification", inc.classification},
            {"scope", or_null(inc.scope)},
            {"country", or_null(inc.country)},
            {"onset", iso_time(inc.onset_ms)},
            {"end", time_or_null(inc.end_ms)},
            {"ongoing", inc.ongoing},
            {"last_failure_at", iso_time(inc.last_failure_ms)},
            {"duration_minutes", (until - inc.onset_ms) / 60000},
            {"endpoints", inc.endpoints},
            {"endpoints_unaffected", inc.endpoints_unaffected},
            {"vantages", vantages},
            {"networks", inc.networks},
            {"countries", inc.countries},
            {"working_countries", inc.working_countries},
            {"statuses", counts_json(inc.statuses)},
            {"methods", counts_json(inc.methods)},
            {"dominant_method", or_null(inc.dominant_method)},
            {"measurements_failing", inc.failing_measurements},
            {"measurements_working", inc.working_measurements},
            {"controls", {{"saw_target", inc.control_saw_target}, {"failed", inc.control_failed}}},
            {"confidence", inc.confidence},
            {"headline", inc.headline},
            {"summary", inc.summary},
            {"evidence", evidence}};
}

ojson service_json(const ServiceTimeline& s) {
    ojson rows = ojson::array();
    for (const TimelineRow& r : s.rows) {
        ojson cells = ojson::array();
        for (const std::string& c : r.cells) cells.push_back(or_null(c));
        rows.push_back({{"vantage", vantage_json(r.vantage)}, {"cells", cells}});
    }
    return {{"service", s.service},
            {"service_name", service_display_name(s.service)},
            {"endpoints", s.endpoints},
            {"measurements", s.measurements},
            {"statuses", counts_json(s.statuses)},
            {"timeline",
             {{"start", iso_time(s.start_ms)}, {"column_minutes", s.column_minutes}, {"columns", s.columns}, {"rows", rows}}}};
}

ojson measurement_json(const MeasurementRef& m) {
    return {{"id", m.id},
            {"started_at", iso_time(m.at_ms)},
            {"service", m.service},
            {"endpoint", m.endpoint},
            {"vantage", vantage_json(m.vantage)},
            {"status", m.status},
            {"method", or_null(m.method)},
            {"control", m.control},
            {"evidence", or_null(m.evidence)}};
}

}  // namespace

std::string render_json(const Analysis& a) {
    ojson params = {{"window_minutes", a.options.window_minutes},
                    {"from", time_or_null(a.options.from_ms)},
                    {"to", time_or_null(a.options.to_ms)},
                    {"services", a.options.services},
                    {"cc", a.options.cc.empty() ? ojson(nullptr) : ojson(a.options.cc)}};
    ojson incidents = ojson::array(), services = ojson::array(), measurements = ojson::array();
    for (const Incident& inc : a.incidents) incidents.push_back(incident_json(inc));
    for (const ServiceTimeline& s : a.services) services.push_back(service_json(s));
    for (const MeasurementRef& m : a.measurements) measurements.push_back(measurement_json(m));
    ojson doc = {{"schema", kAnalysisSchema},
                 {"software", {{"name", kSoftwareName}, {"version", kSoftwareVersion}}},
                 {"parameters", params},
                 {"inputs", inputs_json(a)},
                 {"incidents", incidents},
                 {"services", services},
                 {"measurements", measurements}};
    return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace meoktong::analyze
