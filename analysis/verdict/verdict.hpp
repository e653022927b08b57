// The verdict library (analysis/verdict/): judging one record, with no
// network and no files beyond the fingerprint data it is given. Facts, the
// rule table (docs/verdicts.md), evidence sentences, blockpage fingerprints,
// packet evidence and the per-service outcome of a run.
//
// The verdict engine (SPEC §2): a pure function from a record — probe
// observations, control observations, run context (canaries), packet
// evidence — to {status, method, confidence, evidence}. No network.
#pragma once

#include "meoktong/record.hpp"

namespace meoktong {

Verdict decide_verdict(const Record& record);

}  // namespace meoktong
