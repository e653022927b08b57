// TEMPORARY until issue 4 lands: the verdict engine says it has not judged.
#include "meoktong/verdict.hpp"

namespace meoktong {

Verdict decide_verdict(const Record&) {
    Verdict v;
    v.evidence.push_back("verdict engine not implemented yet: observations only");
    return v;
}

}  // namespace meoktong
