// The collector's live view (SPEC §6), computed from the store on every
// request, so it is as current as the last stored report:
//   GET /v1/incidents  since, until (ISO 8601 UTC), cc, service: the JSON of
//                      `analyze --format json` over the stored records;
//   GET /              the status page for journalists: per country and
//                      service the state now (blocked, provider down,
//                      accessible, no data; "last measured DATE: ..." when
//                      not measured within analyze::max_gap_ms of the
//                      newest measurement) and the recent incidents with
//                      their evidence sentences, each bar ending at its
//                      incident's last measurement;
//   GET /feed.atom     Atom 1.0, an entry per incident start and per end.
// Incidents are analyze's (store::analyse_store); this file only renders.
// The page names countries, networks and services, never a probe's label or
// address; everything from reports is escaped.
#pragma once

#include <string>

#include "analysis/analyze/incident.hpp"

namespace httplib {
class Server;
}

namespace meoktong::store {
class Store;
}

namespace meoktong::collector {

// How far back, from the last measurement, the page lists incidents.
inline constexpr int64_t kRecentIncidentsMs = int64_t(7) * 24 * 3600 * 1000;

// Adds the three GET routes to `http`, reading `store`.
void add_live_view_routes(httplib::Server& http, store::Store& store);

// The status page and the feed of one analysis (pure; unit-testable).
std::string render_status_page(const analyze::Analysis& a);
std::string render_atom_feed(const analyze::Analysis& a);

}  // namespace meoktong::collector
