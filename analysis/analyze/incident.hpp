// meoktong analyze, judgement side: lifts the per-(endpoint, vantage, window)
// cells of the Aggregator to incidents (censorship national/isp, provider
// outage of a service or one endpoint, local failure of one vantage,
// inconclusive), each with onset, end, who was affected, confidence, and
// plain-language evidence citing the measurement ids behind it; plus
// per-service timelines. Documented in docs/analyze.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/analyze/analyze.hpp"

namespace meoktong::analyze {

// A measurement cited by an incident (the HTML appendix lists these).
struct MeasurementRef {
    std::string id;
    int64_t at_ms = 0;
    VantageInfo vantage;
    std::string endpoint;  // uri
    std::string service;
    std::string status, method, evidence;
    std::string control;   // "saw_target" | "failed" | "none"
};

struct EvidenceItem {
    std::string text;
    std::vector<std::string> measurements;  // ids of MeasurementRefs
};

struct Incident {
    std::string id;              // "incident-1", ... in order of onset
    std::string service;         // "" for a local incident (all services at one vantage)
    std::string classification;  // censorship | provider_outage | local | inconclusive
    std::string scope;           // national | isp | service | endpoint | vantage | "" (none)
    std::string country;         // censorship / country-bound findings; "" otherwise
    int64_t onset_ms = 0;        // first failing measurement
    int64_t last_failure_ms = 0; // last failing measurement
    std::optional<int64_t> end_ms;  // first measurement that worked again; none while ongoing
    bool ongoing = false;        // still failing within max_gap_ms of the newest measurement of the data
    std::vector<std::string> endpoints, endpoints_unaffected;
    std::vector<VantageInfo> vantages;                  // affected vantages
    std::vector<std::string> networks, countries;       // affected
    std::vector<std::string> working_countries;         // where it worked meanwhile
    std::map<std::string, uint64_t> statuses, methods;  // of the failing measurements
    std::string dominant_method;
    uint64_t failing_measurements = 0, working_measurements = 0;
    uint64_t control_saw_target = 0, control_failed = 0;
    double confidence = 0;
    std::string headline, summary;
    std::vector<EvidenceItem> evidence;
};

// One window of a service at one vantage: a status name, "partial" (some of
// the service's endpoints failing), or "" when nothing was measured.
struct TimelineRow {
    VantageInfo vantage;
    std::vector<std::string> cells;
    int64_t last_measured_ms = 0;  // the vantage's newest measurement of the service
    std::string last_state;        // the state of its last window (never "")
};

struct ServiceTimeline {
    std::string service;
    std::vector<std::string> endpoints;
    uint64_t measurements = 0;
    std::map<std::string, uint64_t> statuses;
    int64_t start_ms = 0;     // start of the first column
    int column_minutes = 0;   // the analysis window, or a multiple of it for long periods
    size_t columns = 0;
    std::vector<TimelineRow> rows;
};

struct Totals {
    uint64_t files = 0, lines = 0, records = 0, malformed = 0, filtered_out = 0;
};

struct Analysis {
    Options options;
    std::vector<InputFile> files;
    Totals totals;
    std::optional<int64_t> first_record_ms, last_record_ms;
    std::vector<Incident> incidents;
    std::vector<ServiceTimeline> services;
    std::vector<MeasurementRef> measurements;  // every id cited, in order of first citation
};

// How long without a measurement from its vantages ends a finding (6 hours,
// at least 4 windows). An incident is ongoing only when it was still failing
// within this of the data's newest measurement; the collector's status page
// calls a state "now" within it too.
int64_t max_gap_ms(int window_minutes);

Analysis build_analysis(const Aggregator& agg, std::vector<InputFile> files);

// "KakaoTalk" for "kakaotalk"; unknown names are returned as given.
std::string service_display_name(const std::string& service);

}  // namespace meoktong::analyze
