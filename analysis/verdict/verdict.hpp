// The verdict engine (SPEC §2): a pure function from a record — probe
// observations, control observations, run context (canaries), packet
// evidence — to {status, method, confidence, evidence}. No network.
#pragma once

#include "meoktong/record.hpp"

namespace meoktong {

Verdict decide_verdict(const Record& record);

}  // namespace meoktong
