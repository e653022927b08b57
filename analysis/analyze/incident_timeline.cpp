// Per-service timelines for `meoktong analyze`: one row per vantage, one
// column per window (or per several windows for long periods), each cell the
// state of the service's endpoints there: a status, "partial" when only some
// endpoints failed, "" when nothing was measured; and each row's newest
// measurement with the state of its last window.
#include <algorithm>
#include <map>

#include "analysis/analyze/incident_internal.hpp"

namespace meoktong::analyze {
namespace {

constexpr int64_t kMaxColumns = 480;

struct Tally {
    uint32_t cells = 0, failing_cells = 0;
    std::array<uint64_t, kVerdictStatusCount> statuses{};
    int64_t last_ms = INT64_MIN;  // newest measurement
};

std::string state_of(const Tally& t) {
    if (t.cells == 0) return "";
    if (t.failing_cells == 0) return "accessible";
    if (t.failing_cells < t.cells) return "partial";
    int best = 1;
    for (int s = 2; s < kVerdictStatusCount; ++s)
        if (t.statuses[s] > t.statuses[best]) best = s;
    return verdict_status_name(VerdictStatus(best));
}

}  // namespace

std::vector<ServiceTimeline> build_timelines(const Index& ix) {
    struct Building {
        std::set<uint32_t> endpoints;
        int64_t first = INT64_MAX, last = INT64_MIN;
        std::map<uint32_t, std::map<int64_t, Tally>> rows;  // vantage -> window -> tally
        ServiceTimeline out;
    };
    std::map<std::string, Building> by_service;
    for (const CellRef& c : ix.cells) {
        const Endpoint& ep = ix.endpoint(c.endpoint);
        Building& b = by_service[ep.service];
        b.endpoints.insert(c.endpoint);
        b.first = std::min(b.first, c.window);
        b.last = std::max(b.last, c.window);
        Tally& t = b.rows[c.vantage][c.window];
        ++t.cells;
        t.last_ms = std::max({t.last_ms, c.cell->last_ok_ms, c.cell->last_fail_ms});
        t.failing_cells += c.cell->dominant() != VerdictStatus::accessible;
        for (int s = 0; s < kVerdictStatusCount; ++s) {
            t.statuses[s] += c.cell->statuses[s];
            b.out.statuses[verdict_status_name(VerdictStatus(s))] += c.cell->statuses[s];
            b.out.measurements += c.cell->statuses[s];
        }
    }
    std::vector<ServiceTimeline> out;
    for (auto& [service, b] : by_service) {
        ServiceTimeline& tl = b.out;
        tl.service = service;
        for (uint32_t e : b.endpoints) tl.endpoints.push_back(ix.endpoint(e).uri());
        std::sort(tl.endpoints.begin(), tl.endpoints.end());
        for (auto it = tl.statuses.begin(); it != tl.statuses.end();) it = it->second ? std::next(it) : tl.statuses.erase(it);
        int64_t span = b.last - b.first + 1;
        int64_t per_column = (span + kMaxColumns - 1) / kMaxColumns;
        tl.columns = size_t((span + per_column - 1) / per_column);
        tl.column_minutes = int(per_column * ix.agg.options().window_minutes);
        tl.start_ms = b.first * ix.agg.window_ms();
        for (const auto& [vantage, windows] : b.rows) {
            std::vector<Tally> columns(tl.columns);
            for (const auto& [w, t] : windows) {
                Tally& col = columns[size_t((w - b.first) / per_column)];
                col.cells += t.cells;
                col.failing_cells += t.failing_cells;
                for (int s = 0; s < kVerdictStatusCount; ++s) col.statuses[s] += t.statuses[s];
            }
            const Tally& last = windows.rbegin()->second;
            TimelineRow row{ix.agg.vantages()[vantage], {}, last.last_ms, state_of(last)};
            for (const Tally& col : columns) row.cells.push_back(state_of(col));
            tl.rows.push_back(std::move(row));
        }
        std::sort(tl.rows.begin(), tl.rows.end(), [](const TimelineRow& a, const TimelineRow& b) {
            return std::tie(a.vantage.cc, a.vantage.asn, a.vantage.label) < std::tie(b.vantage.cc, b.vantage.asn, b.vantage.label);
        });
        out.push_back(std::move(tl));
    }
    return out;
}

}  // namespace meoktong::analyze
