// libFuzzer target for analyze's OONI reader: arbitrary bytes are read as one
// OONI measurement (read_ooni_measurement), every record it maps to is
// rendered as JSON, CSV and an OONI measurement and read back, and the bytes
// also go through the aggregator as one unit. Nothing may crash, leak or
// throw; a refused input must say why in one line.
// links: analyze
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/export.hpp"
#include "analysis/analyze/ooni.hpp"
#include "meoktong/record_json.hpp"

using namespace meoktong;
using namespace meoktong::analyze;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<Record> records, back;
    std::string why;
    if (!read_ooni_measurement(input, records, why)) {
        if (why.empty() || why.find('\n') != std::string::npos) __builtin_trap();
    }
    for (const Record& r : records) {
        std::string out = json(r).dump(-1, ' ', false, json::error_handler_t::replace) + csv_row(r);
        if (!read_ooni_measurement(ooni_measurement(r), back, why) || back.size() != 1) __builtin_trap();
        if (out.empty()) __builtin_trap();
    }
    Aggregator agg(Options{});
    InputFile file;
    agg.add_line(input, 1, file);
    return 0;
}
