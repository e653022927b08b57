// TEMPORARY until issue 4 lands: no control client yet.
#include "meoktong/control.hpp"

namespace meoktong {

std::vector<ControlResult> query_control(const ControlClientSettings&, const std::vector<Target>& targets) {
    std::vector<ControlResult> out(targets.size());
    for (auto& r : out) {
        r.requested = true;
        r.failure = "unknown_failure: control client not implemented yet";
    }
    return out;
}

}  // namespace meoktong
