// Internal to analyze's incident code (incident_detect.cpp, incident_text.cpp,
// incident_timeline.cpp): the sorted index over the aggregator's cells and
// the accumulator a finding grows in before it is worded as an Incident.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/incident.hpp"

namespace meoktong::analyze {

struct CellRef {
    uint32_t endpoint, vantage;
    int64_t window;
    const Cell* cell;
};

// The aggregator's cells sorted by endpoint, window, vantage, grouped per
// (endpoint, window), plus the (vantage, window) pairs found locally down.
struct Index {
    struct Group {
        uint32_t endpoint;
        int64_t window;
        size_t begin, end;  // range in cells
    };

    const Aggregator& agg;
    std::vector<CellRef> cells;
    std::vector<Group> groups;
    std::map<int64_t, std::vector<size_t>> groups_by_window;  // window -> indexes into groups
    std::set<std::pair<uint32_t, int64_t>> down;

    explicit Index(const Aggregator& a);
    const VantageInfo& vantage(const CellRef& c) const { return agg.vantages()[c.vantage]; }
    const Endpoint& endpoint(uint32_t e) const { return agg.endpoints()[e]; }
    bool is_down(const CellRef& c) const { return down.count({c.vantage, c.window}) > 0; }
    int64_t max_gap_windows() const;
    // A finding whose last window is this close to the data's last one was
    // still failing when the data ends; an older one only when last measured.
    bool near_end_of_data(int64_t window) const;
};

inline constexpr size_t kExamplesPerClaim = 6;

struct ExampleRef {
    const Example* example;
    uint32_t endpoint, vantage;
};

// A finding growing window by window (and endpoint by endpoint).
struct Accum {
    std::string classification, country, service;
    std::optional<uint32_t> vantage;  // local incidents: the vantage whose network was down
    int64_t first_window = 0, last_window = 0;
    uint64_t windows = 0;
    int64_t onset_ms = INT64_MAX, last_failure_ms = INT64_MIN;
    std::optional<int64_t> end_ms;
    bool closed_by_end_of_data = false;  // open when the data ends, and near_end_of_data
    std::set<uint32_t> endpoints, unaffected_endpoints, failing_vantages;
    std::set<std::string> failing_countries, working_countries;
    std::map<std::string, std::set<std::string>> asns_failing, asns_measured;  // by country
    std::array<uint64_t, kVerdictStatusCount> statuses{};
    std::map<std::string, uint64_t> methods;
    uint64_t control_saw = 0, control_failed = 0, canary_ok = 0, canary_failed = 0;
    double confidence_sum = 0;
    uint64_t failing_records = 0, working_records = 0;
    std::vector<ExampleRef> failing_examples, working_examples, unaffected_examples;

    void extend_window(int64_t window);
    void add_failing(const Index& ix, const CellRef& c);
    void add_working(const Index& ix, const CellRef& c);
    void offer(std::vector<ExampleRef>& list, const CellRef& c, bool failing);
    void merge(Accum&& other);
};

// Collects the measurements cited by incidents, once each.
class Citations {
public:
    explicit Citations(const Index& ix) : ix_(ix) {}
    std::vector<std::string> cite(const std::vector<ExampleRef>& refs);
    std::vector<std::string> cite_if(const std::vector<ExampleRef>& refs, ControlView control);
    std::vector<MeasurementRef> take() { return std::move(refs_); }

private:
    const Index& ix_;
    std::vector<MeasurementRef> refs_;
    std::unordered_map<const Example*, size_t> seen_;
};

Incident describe_incident(const Accum& acc, const Index& ix, Citations& citations, size_t number);
std::vector<ServiceTimeline> build_timelines(const Index& ix);

}  // namespace meoktong::analyze
