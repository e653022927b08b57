// libFuzzer target for the verdict engine on untrusted reports (meoktong
// analyze reads records from anywhere): any JSON that parses as a record must
// yield a well-formed verdict, never a crash.
// links: verdict
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "meoktong/record_json.hpp"
#include "analysis/verdict/verdict.hpp"

using namespace meoktong;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    json doc = json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size, nullptr, false);
    if (doc.is_discarded()) return 0;
    Record record;
    try {
        record = doc.is_object() && doc.contains("record") ? doc["record"].get<Record>() : doc.get<Record>();
    } catch (const json::exception&) {
        return 0;
    }
    Verdict v = decide_verdict(record);
    if (v.confidence < 0 || v.confidence > 1 || v.evidence.empty()) std::abort();
    return 0;
}
