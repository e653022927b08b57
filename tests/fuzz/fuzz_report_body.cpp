// libFuzzer target for the collector's upload body reader: arbitrary bytes
// as the body of POST /v1/reports, read by store::read_report. It must never
// crash, leak or throw; when it accepts a body every record's line is a view
// into that body and the problem, when it refuses, is one line.
// links: store
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probe/store/report.hpp"

using namespace meoktong::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    Report report;
    auto problem = read_report(body, report);
    if (problem) {
        auto text = problem->describe();
        if (text.empty() || text.find('\n') != std::string_view::npos) __builtin_trap();
        if (!report.records.empty()) __builtin_trap();
        return 0;
    }
    if (report.records.empty()) __builtin_trap();
    for (const auto& r : report.records)
        if (r.line.data() < body.data() || r.line.data() + r.line.size() > body.data() + body.size()) __builtin_trap();
    return 0;
}
