// Incident detection for `meoktong analyze` (rules in docs/analyze.md):
//  1. a vantage whose own network is down in a window (local_failure verdicts,
//     failing canaries, or everything failing there while it works elsewhere)
//     becomes a `local` incident, and its cells are left out of steps 2-3;
//  2. per endpoint and window, the failing cells are classified: blocked
//     in-country while others see it working -> censorship in that country;
//     failing everywhere with provider_down verdicts or failing controls ->
//     provider outage; anything else -> inconclusive;
//  3. consecutive windows with the same finding are merged, then the findings
//     of one service's endpoints that overlap in time are merged, so that a
//     service-wide outage is one incident and a one-endpoint outage stays one.
// Wording of headlines and evidence lives in incident_text.cpp.
#include <algorithm>
#include <map>
#include <set>

#include "analysis/analyze/incident_internal.hpp"

namespace meoktong::analyze {
namespace {

constexpr int64_t kMaxGapMinutes = 6 * 60;  // no data for longer than this ends a finding (max_gap_ms)
constexpr uint64_t kMinInconclusiveWindows = 2;  // a stray timeout is noise: it must persist

bool cell_failing(const Cell& c) { return c.dominant() != VerdictStatus::accessible; }

// ---- step 1: local failures ------------------------------------------------

struct VantageWindow {
    std::array<uint64_t, kVerdictStatusCount> statuses{};
    uint64_t canary_ok = 0, canary_failed = 0;
    uint32_t endpoints = 0, endpoints_failing = 0, failing_but_working_elsewhere = 0;
    int64_t first_ok_ms = INT64_MAX;
    std::vector<const CellRef*> cells;
};

using VantageWindows = std::map<std::pair<uint32_t, int64_t>, VantageWindow>;

VantageWindows vantage_windows(const Index& ix) {
    VantageWindows out;
    for (const auto& g : ix.groups) {
        uint32_t working_here = 0;
        for (size_t i = g.begin; i < g.end; ++i) working_here += !cell_failing(*ix.cells[i].cell);
        for (size_t i = g.begin; i < g.end; ++i) {
            const CellRef& c = ix.cells[i];
            VantageWindow& vw = out[{c.vantage, c.window}];
            for (int s = 0; s < kVerdictStatusCount; ++s) vw.statuses[s] += c.cell->statuses[s];
            vw.first_ok_ms = std::min(vw.first_ok_ms, c.cell->first_ok_ms);
            vw.cells.push_back(&c);
            if (ix.endpoint(c.endpoint).canary) {
                vw.canary_ok += c.cell->statuses[0];
                vw.canary_failed += c.cell->failing();
                continue;
            }
            ++vw.endpoints;
            if (cell_failing(*c.cell)) {
                ++vw.endpoints_failing;
                if (working_here > 0) ++vw.failing_but_working_elsewhere;
            }
        }
    }
    return out;
}

bool own_network_down(const VantageWindow& vw) {
    uint64_t total = 0;
    for (uint64_t s : vw.statuses) total += s;
    if (total == 0) return false;
    uint64_t local = vw.statuses[int(VerdictStatus::local_failure)];
    uint64_t failing = total - vw.statuses[0];
    uint64_t blocked = vw.statuses[int(VerdictStatus::blocked)];
    if (local > 0 && local * 2 >= total) return true;
    // Failing canaries count when the other failures are not blocking: a
    // censored vantage with one flaky canary is not down.
    uint64_t unblocked = total - blocked, unblocked_failing = failing - blocked;
    if (vw.canary_failed > vw.canary_ok && unblocked_failing >= 2 && unblocked_failing * 2 >= unblocked) return true;
    return vw.endpoints >= 2 && vw.endpoints_failing == vw.endpoints && blocked * 2 < failing &&
           vw.failing_but_working_elsewhere > 0;
}

void add_local_window(Accum& acc, const Index& ix, const VantageWindow& vw, int64_t window) {
    acc.extend_window(window);
    for (const CellRef* c : vw.cells) {
        acc.add_failing(ix, *c);
        if (ix.endpoint(c->endpoint).canary) {
            acc.canary_ok += c->cell->statuses[0];
            acc.canary_failed += c->cell->failing();
        }
    }
}

// Other vantages that reached the same endpoints in the same window.
void add_working_elsewhere(Accum& acc, const Index& ix, uint32_t vantage, int64_t window) {
    auto it = ix.groups_by_window.find(window);
    if (it == ix.groups_by_window.end()) return;
    for (size_t gi : it->second) {
        const Index::Group& g = ix.groups[gi];
        for (size_t i = g.begin; i < g.end; ++i) {
            const CellRef& c = ix.cells[i];
            if (c.vantage != vantage && !cell_failing(*c.cell) && !ix.is_down(c)) acc.add_working(ix, c);
        }
    }
}

std::vector<Accum> find_local(Index& ix) {
    VantageWindows vws = vantage_windows(ix);
    for (const auto& [key, vw] : vws)
        if (own_network_down(vw)) ix.down.insert(key);
    std::vector<Accum> out;
    std::optional<Accum> open;
    auto close = [&](std::optional<int64_t> end, bool at_end_of_data) {
        if (!open) return;
        open->end_ms = end;
        open->closed_by_end_of_data = at_end_of_data && ix.near_end_of_data(open->last_window);
        out.push_back(std::move(*open));
        open.reset();
    };
    uint32_t current = UINT32_MAX;
    for (const auto& [key, vw] : vws) {
        auto [vantage, window] = key;
        if (vantage != current) {
            close(std::nullopt, true);
            current = vantage;
        }
        bool down = ix.down.count(key) > 0;
        if (open && window - open->last_window > ix.max_gap_windows()) close(std::nullopt, false);
        if (!down) {
            if (open) close(vw.first_ok_ms == INT64_MAX ? std::nullopt : std::optional(vw.first_ok_ms), false);
            continue;
        }
        if (!open) {
            open.emplace();
            open->classification = "local";
            open->vantage = vantage;
        }
        add_local_window(*open, ix, vw, window);
        add_working_elsewhere(*open, ix, vantage, window);
    }
    close(std::nullopt, true);
    return out;
}

// ---- step 2: per endpoint and window ---------------------------------------

struct Finding {
    std::string classification, country;  // country "" = every country
    std::vector<const CellRef*> failing;
};

std::vector<Finding> classify_window(const Index& ix, const std::vector<const CellRef*>& failing, bool any_working) {
    std::array<uint64_t, kVerdictStatusCount> st{};
    uint64_t saw = 0, ctrl_failed = 0;
    std::map<std::string, std::vector<const CellRef*>> by_country;
    for (const CellRef* c : failing) {
        for (int s = 1; s < kVerdictStatusCount; ++s) st[s] += c->cell->statuses[s];
        saw += c->cell->control_saw;
        ctrl_failed += c->cell->control_failed;
        by_country[ix.vantage(*c).cc].push_back(c);
    }
    uint64_t failing_records = st[1] + st[2] + st[3] + st[4];
    auto blocked_dominant = [](const std::vector<const CellRef*>& cells) {
        uint64_t blocked = 0, all = 0;
        for (const CellRef* c : cells) {
            blocked += c->cell->statuses[int(VerdictStatus::blocked)];
            all += c->cell->failing();
        }
        return blocked * 2 > all;
    };
    std::vector<Finding> out;
    bool censorship_everywhere = !any_working && blocked_dominant(failing) && saw >= ctrl_failed;
    if (!any_working && !censorship_everywhere) {
        bool provider = st[int(VerdictStatus::provider_down)] * 2 > failing_records || ctrl_failed > saw ||
                        by_country.size() >= 2;
        out.push_back({provider ? "provider_outage" : "inconclusive", "", failing});
        return out;
    }
    for (auto& [cc, cells] : by_country)
        out.push_back({blocked_dominant(cells) ? "censorship" : "inconclusive", cc, std::move(cells)});
    return out;
}

void add_finding(Accum& acc, const Index& ix, const Finding& f, const std::vector<const CellRef*>& working,
                 const std::vector<const CellRef*>& all, int64_t window) {
    acc.extend_window(window);
    for (const CellRef* c : f.failing) acc.add_failing(ix, *c);
    for (const CellRef* c : working) acc.add_working(ix, *c);
    for (const CellRef* c : all) acc.asns_measured[ix.vantage(*c).cc].insert(ix.vantage(*c).asn);
}

// Recovery: a vantage that failed in this finding now works.
std::optional<int64_t> recovered_at(const Accum& acc, const std::vector<const CellRef*>& working) {
    std::optional<int64_t> at;
    for (const CellRef* c : working)
        if (acc.failing_vantages.count(c->vantage)) at = std::min(at.value_or(INT64_MAX), c->cell->first_ok_ms);
    return at;
}

// A finding continues an open one when the same vantages still fail; other
// vantages failing the same way while the first ones recovered is a new one.
bool shares_vantage(const Accum& acc, const Finding& f) {
    return std::any_of(f.failing.begin(), f.failing.end(),
                       [&](const CellRef* c) { return acc.failing_vantages.count(c->vantage) > 0; });
}

std::vector<Accum> find_endpoint_findings(const Index& ix) {
    std::vector<Accum> out;
    std::vector<Accum> open;
    uint32_t current = UINT32_MAX;
    auto close_all = [&](bool at_end_of_data) {
        for (Accum& a : open) {
            a.closed_by_end_of_data = at_end_of_data && ix.near_end_of_data(a.last_window);
            out.push_back(std::move(a));
        }
        open.clear();
    };
    for (const auto& g : ix.groups) {
        if (ix.endpoint(g.endpoint).canary) continue;
        if (g.endpoint != current) {
            close_all(true);
            current = g.endpoint;
        }
        std::vector<const CellRef*> failing, working, all;
        for (size_t i = g.begin; i < g.end; ++i) {
            const CellRef& c = ix.cells[i];
            if (ix.is_down(c)) continue;
            all.push_back(&c);
            (cell_failing(*c.cell) ? failing : working).push_back(&c);
        }
        if (all.empty()) continue;
        std::vector<Finding> findings;
        if (!failing.empty()) findings = classify_window(ix, failing, !working.empty());
        std::vector<bool> used(findings.size(), false);
        std::vector<Accum> still_open;
        for (Accum& a : open) {
            auto f = std::find_if(findings.begin(), findings.end(), [&](const Finding& x) {
                return x.classification == a.classification && x.country == a.country;
            });
            std::optional<int64_t> recovered = recovered_at(a, working);
            if (f != findings.end() && (!recovered || shares_vantage(a, *f))) {
                used[size_t(f - findings.begin())] = true;
                add_finding(a, ix, *f, working, all, g.window);
                still_open.push_back(std::move(a));
            } else if (auto end = recovered) {
                a.end_ms = end;
                out.push_back(std::move(a));
            } else if (g.window - a.last_window > ix.max_gap_windows()) {
                out.push_back(std::move(a));
            } else {
                still_open.push_back(std::move(a));
            }
        }
        open = std::move(still_open);
        for (size_t i = 0; i < findings.size(); ++i) {
            if (used[i]) continue;
            Accum a;
            a.classification = findings[i].classification;
            a.country = findings[i].country;
            a.service = ix.endpoint(g.endpoint).service;
            add_finding(a, ix, findings[i], working, all, g.window);
            open.push_back(std::move(a));
        }
    }
    close_all(true);
    return out;
}

// ---- step 3: one service's endpoints together ------------------------------

std::vector<Accum> merge_service_findings(std::vector<Accum> findings) {
    std::sort(findings.begin(), findings.end(), [](const Accum& a, const Accum& b) {
        return std::tie(a.service, a.classification, a.country, a.first_window) <
               std::tie(b.service, b.classification, b.country, b.first_window);
    });
    std::vector<Accum> out;
    for (Accum& a : findings) {
        if (!out.empty()) {
            Accum& last = out.back();
            bool same = last.service == a.service && last.classification == a.classification && last.country == a.country;
            if (same && a.first_window <= last.last_window + 1) {
                last.merge(std::move(a));
                continue;
            }
        }
        out.push_back(std::move(a));
    }
    return out;
}

// Endpoints of the service measured during the incident that kept working.
void find_unaffected(Accum& acc, const Index& ix) {
    auto first = ix.groups_by_window.lower_bound(acc.first_window);
    auto last = ix.groups_by_window.upper_bound(acc.last_window);
    for (auto it = first; it != last; ++it) {
        for (size_t gi : it->second) {
            const Index::Group& g = ix.groups[gi];
            const Endpoint& ep = ix.endpoint(g.endpoint);
            if (ep.canary || ep.service != acc.service || acc.endpoints.count(g.endpoint)) continue;
            for (size_t i = g.begin; i < g.end; ++i) {
                const CellRef& c = ix.cells[i];
                if (cell_failing(*c.cell) || ix.is_down(c)) continue;
                acc.unaffected_endpoints.insert(g.endpoint);
                acc.offer(acc.unaffected_examples, c, false);
            }
        }
    }
}

}  // namespace

Index::Index(const Aggregator& a) : agg(a) {
    cells.reserve(a.cells().size());
    for (const auto& [k, c] : a.cells()) cells.push_back({k.endpoint, k.vantage, k.window, &c});
    std::sort(cells.begin(), cells.end(), [](const CellRef& x, const CellRef& y) {
        return std::tie(x.endpoint, x.window, x.vantage) < std::tie(y.endpoint, y.window, y.vantage);
    });
    for (size_t i = 0; i < cells.size();) {
        size_t j = i;
        while (j < cells.size() && cells[j].endpoint == cells[i].endpoint && cells[j].window == cells[i].window) ++j;
        groups_by_window[cells[i].window].push_back(groups.size());
        groups.push_back({cells[i].endpoint, cells[i].window, i, j});
        i = j;
    }
}

int64_t max_gap_ms(int window_minutes) {
    return std::max<int64_t>(4, kMaxGapMinutes / window_minutes) * window_minutes * 60000;
}

int64_t Index::max_gap_windows() const { return max_gap_ms(agg.options().window_minutes) / agg.window_ms(); }

bool Index::near_end_of_data(int64_t window) const {
    return window >= agg.window_of(agg.last_record_ms()) - max_gap_windows();
}

void Accum::extend_window(int64_t window) {
    if (windows == 0) first_window = window;
    first_window = std::min(first_window, window);
    last_window = std::max(last_window, window);
    ++windows;
}

void Accum::add_failing(const Index& ix, const CellRef& c) {
    const Cell& cell = *c.cell;
    if (cell.failing() == 0) return;
    const VantageInfo& v = ix.vantage(c);
    if (!ix.endpoint(c.endpoint).canary) endpoints.insert(c.endpoint);
    failing_vantages.insert(c.vantage);
    failing_countries.insert(v.cc);
    asns_failing[v.cc].insert(v.asn);
    for (int s = 1; s < kVerdictStatusCount; ++s) statuses[s] += cell.statuses[s];
    for (const auto& [m, n] : cell.methods) methods[m] += n;
    control_saw += cell.control_saw;
    control_failed += cell.control_failed;
    confidence_sum += cell.failing_confidence_sum;
    failing_records += cell.failing();
    onset_ms = std::min(onset_ms, cell.first_fail_ms);
    last_failure_ms = std::max(last_failure_ms, cell.last_fail_ms);
    offer(failing_examples, c, true);
}

void Accum::add_working(const Index& ix, const CellRef& c) {
    const VantageInfo& v = ix.vantage(c);
    working_countries.insert(v.cc);
    working_records += c.cell->statuses[0];
    offer(working_examples, c, false);
}

// Keeps a few examples, spread over vantages: a vantage already shown gets a
// second example only while there is room for half the cap.
void Accum::offer(std::vector<ExampleRef>& list, const CellRef& c, bool failing) {
    for (const Example& e : c.cell->examples) {
        if ((e.status != VerdictStatus::accessible) != failing) continue;
        if (list.size() >= kExamplesPerClaim) return;
        bool vantage_shown = std::any_of(list.begin(), list.end(), [&](const ExampleRef& r) { return r.vantage == c.vantage; });
        if (vantage_shown && list.size() >= kExamplesPerClaim / 2) continue;
        bool already = std::any_of(list.begin(), list.end(), [&](const ExampleRef& r) { return r.example == &e; });
        if (!already) list.push_back({&e, c.endpoint, c.vantage});
    }
}

void Accum::merge(Accum&& o) {
    first_window = std::min(first_window, o.first_window);
    last_window = std::max(last_window, o.last_window);
    windows += o.windows;
    onset_ms = std::min(onset_ms, o.onset_ms);
    last_failure_ms = std::max(last_failure_ms, o.last_failure_ms);
    if (closed_by_end_of_data || o.closed_by_end_of_data) {
        closed_by_end_of_data = true;
        end_ms.reset();
    } else if (o.end_ms && (!end_ms || *o.end_ms > *end_ms)) {
        end_ms = o.end_ms;
    }
    endpoints.insert(o.endpoints.begin(), o.endpoints.end());
    failing_vantages.insert(o.failing_vantages.begin(), o.failing_vantages.end());
    failing_countries.insert(o.failing_countries.begin(), o.failing_countries.end());
    working_countries.insert(o.working_countries.begin(), o.working_countries.end());
    for (auto& [cc, asns] : o.asns_failing) asns_failing[cc].insert(asns.begin(), asns.end());
    for (auto& [cc, asns] : o.asns_measured) asns_measured[cc].insert(asns.begin(), asns.end());
    for (int s = 0; s < kVerdictStatusCount; ++s) statuses[s] += o.statuses[s];
    for (auto& [m, n] : o.methods) methods[m] += n;
    control_saw += o.control_saw;
    control_failed += o.control_failed;
    canary_ok += o.canary_ok;
    canary_failed += o.canary_failed;
    confidence_sum += o.confidence_sum;
    failing_records += o.failing_records;
    working_records += o.working_records;
    auto take = [](std::vector<ExampleRef>& into, const std::vector<ExampleRef>& from) {
        for (const ExampleRef& r : from)
            if (into.size() < kExamplesPerClaim) into.push_back(r);
    };
    take(failing_examples, o.failing_examples);
    take(working_examples, o.working_examples);
}

Analysis build_analysis(const Aggregator& agg, std::vector<InputFile> files) {
    Analysis a;
    a.options = agg.options();
    for (const InputFile& f : files) {
        ++a.totals.files;
        a.totals.lines += f.lines;
        a.totals.records += f.records;
        a.totals.malformed += f.malformed;
        a.totals.filtered_out += f.filtered_out;
    }
    a.files = std::move(files);
    if (agg.cells().empty()) return a;
    a.first_record_ms = agg.first_record_ms();
    a.last_record_ms = agg.last_record_ms();

    Index ix(agg);
    std::vector<Accum> found = find_local(ix);
    std::vector<Accum> per_endpoint = find_endpoint_findings(ix);
    std::erase_if(per_endpoint, [](const Accum& f) {
        return f.classification == "inconclusive" && f.windows < kMinInconclusiveWindows;
    });
    std::vector<Accum> per_service = merge_service_findings(std::move(per_endpoint));
    for (Accum& acc : per_service) {
        find_unaffected(acc, ix);
        found.push_back(std::move(acc));
    }
    std::sort(found.begin(), found.end(), [](const Accum& x, const Accum& y) {
        return std::tie(x.onset_ms, x.service, x.classification, x.country) <
               std::tie(y.onset_ms, y.service, y.classification, y.country);
    });
    Citations citations(ix);
    for (const Accum& acc : found) a.incidents.push_back(describe_incident(acc, ix, citations, a.incidents.size() + 1));
    a.measurements = citations.take();
    a.services = build_timelines(ix);
    return a;
}

}  // namespace meoktong::analyze
