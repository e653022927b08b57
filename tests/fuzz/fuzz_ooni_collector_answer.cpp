// libFuzzer target: an OONI collector's answer to POST /report
// (probe/ops/upload.cpp, ooni_report_id) on arbitrary bytes. It never throws;
// a report_id it returns is never empty. Anything else is a bug.
// links: ops
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "probe/ops/upload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto id = meoktong::ooni_report_id(std::string_view(reinterpret_cast<const char*>(data), size));
    if (id && id->empty()) std::abort();
    return 0;
}
