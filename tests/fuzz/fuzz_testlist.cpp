// libFuzzer target for test lists: arbitrary bytes through the JSON and the
// Citizen Lab CSV paths of parse_list. Bad input must end as an InputError,
// never a crash; a list that parses must survive the per-service outcome.
// links: run
#include <cstddef>
#include <cstdint>
#include <string>

#include "analysis/verdict/services.hpp"
#include "meoktong/target.hpp"
#include "probe/lists/testlist.hpp"

namespace {

void exercise_outcomes(const meoktong::TestList& list, size_t seed) {
    std::vector<meoktong::Record> records;
    for (const auto& service : list.services) {
        for (const auto& lt : service.targets) {
            meoktong::Record r;
            r.target = lt.target;
            r.verdict.status = meoktong::VerdictStatus((seed++) % meoktong::kVerdictStatusCount);
            records.push_back(r);
        }
    }
    meoktong::service_outcomes(records, {list});
}

void parse_as(const std::string& text, const std::string& origin, size_t seed) {
    try {
        exercise_outcomes(meoktong::parse_list(text, origin), seed);
    } catch (const meoktong::InputError&) {
        // rejected with a one-line message: the expected outcome for bad input
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    parse_as(text, "fuzz.json", size);
    parse_as(text, "fuzz.csv", size + 1);
    return 0;
}
