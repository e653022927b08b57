// libFuzzer target for analyze's report-line reader: arbitrary bytes are read
// as one line by read_report_line, then split into JSONL lines and run through
// the whole analyze pipeline (aggregation, incidents, JSON/Markdown/HTML).
// Nothing may crash, leak or throw.
// links: analyze
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/incident.hpp"
#include "analysis/analyze/render.hpp"

using namespace meoktong::analyze;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    ReportLine line;
    std::string why;
    read_report_line(input, line, why);

    Options options;
    options.window_minutes = 1 + int(size % 60);
    Aggregator agg(options);
    InputFile file;
    file.path = "fuzz.jsonl";
    uint64_t line_no = 0;
    while (!input.empty()) {
        size_t nl = input.find('\n');
        agg.add_line(input.substr(0, nl), ++line_no, file);
        input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    }
    Analysis a = build_analysis(agg, {file});
    std::string out = render_json(a) + render_markdown(a) + render_html(a);
    return out.empty() ? 1 : 0;
}
