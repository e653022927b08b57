// Per-service outcome (issue 6): lifts the per-endpoint verdicts of a run to
// one status per service, so one dead media server is not reported as
// "WhatsApp blocked". Pure function over records; no network.
//
// A service is `reachable` when every endpoint its app needs is accessible:
//   - each required endpoint without a group must be accessible;
//   - required endpoints sharing a group are alternatives: one accessible
//     member satisfies the group (WhatsApp's e1..e16, Telegram's DC addresses);
//   - optional endpoints (required: false) never change the status;
//   - a service whose measured endpoints are all optional is reachable when
//     any of them is accessible.
// Otherwise the status is the worst verdict among the unmet requirements, in
// this order: blocked, provider_down, local_failure, inconclusive.
//
// Required-ness and groups come from the test lists; a record whose target is
// in none of them (an ad-hoc --target) counts as required. Canary records are
// left out: they describe the vantage, not a service.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "meoktong/record.hpp"
#include "meoktong/testlist.hpp"

namespace meoktong {

struct EndpointOutcome {
    Target target;                      // as measured (service, host, port, protocol, role)
    bool required = true;
    std::string group;                  // "" = stands alone
    VerdictStatus status = VerdictStatus::inconclusive;  // the record's verdict status
    std::optional<std::string> method;  // the record's verdict method
};

struct ServiceOutcome {
    std::string service;       // "whatsapp"
    std::string display_name;  // "WhatsApp" (the service name when no list names it)
    // reachable | blocked | provider_down | local_failure | inconclusive
    std::string status;
    int endpoints = 0;                 // measured endpoints
    int accessible = 0;                // of which accessible
    std::map<VerdictStatus, int> counts;  // verdict status -> number of endpoints
    std::vector<EndpointOutcome> endpoint_outcomes;  // in record order
    // One sentence for people, e.g. "WhatsApp: reachable; media endpoint
    // mmg.whatsapp.net failing (inconclusive)".
    std::string summary;
};

// One outcome per service, in the order services first appear in `records`.
std::vector<ServiceOutcome> service_outcomes(const std::vector<Record>& records, const std::vector<TestList>& lists);

}  // namespace meoktong
