// The human-readable summary of a run for stdout: one row per target with
// what failed where (DNS, TCP, TLS, HTTP) and the verdict.
#pragma once

#include <string>
#include <vector>

#include "meoktong/record.hpp"
#include "meoktong/testlist.hpp"

namespace meoktong {

// "-" when the step did not run, "ok" when every attempt worked, otherwise
// the first failure and how many attempts worked, e.g. "connection_reset (1/2 ok)".
std::string step_summary(const std::vector<std::optional<std::string>>& failures);

std::string render_table(const std::vector<Record>& records);

// One line per service: is the service usable, given which endpoints its app
// needs (see services.hpp), e.g. "WhatsApp: reachable; media endpoint ... failing".
std::string render_services(const std::vector<Record>& records, const std::vector<TestList>& lists);

}  // namespace meoktong
