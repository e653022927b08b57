// meoktong run: parse options, check the report destination, measure every
// target (probe/runner), write the report atomically, print a table or JSONL.
#include <iostream>

#include "meoktong/commands.hpp"
#include "meoktong/measure.hpp"
#include "probe/report_writer.hpp"
#include "probe/runner.hpp"
#include "probe/text_table.hpp"

namespace meoktong {

int cmd_run(const Args& args) {
    RunSettings options = parse_run_args(args);
    if (options.help) {
        std::cout << kRunUsage;
        return 0;
    }
    std::vector<Target> targets = select_targets(options);
    std::string run_id = new_uuid();
    std::string report = prepare_report_path(options.out, options.vantage.label, run_id, std::chrono::system_clock::now());
    if (options.capture != "off")
        std::cerr << "meoktong: packet capture is not available yet; running without packets\n";

    MeasureFn measure = [&](const Target& t, SteadyTime start) { return measure_target(t, options.measure, start); };
    RunOutcome outcome = execute_run(targets, options, measure, run_id);
    write_report(report, outcome.records);

    if (options.format == "json") {
        for (const auto& r : outcome.records) std::cout << record_line(r) << "\n";
    } else {
        std::cout << render_table(outcome.records);
        const RunContext& c = outcome.records.empty() ? RunContext{} : outcome.records.front().context;
        std::cout << "\n" << outcome.records.size() << " targets, canaries " << c.canaries_ok << "/"
                  << c.canaries_total << " reachable; report: " << report << "\n";
    }
    return 0;
}

}  // namespace meoktong
