// The run library (probe/run/): one `meoktong run`. Selecting targets,
// measuring them on the worker pool, completing records (verdict, scrubbing
// of the probe's own addresses), the report writer and the text table.
//
// `meoktong run`: its settings (SPEC §3 options, parsed and merged with the
// config file by cli/run_options.hpp), the targets they select (lists,
// --target, --service, canaries), and the run itself — a pool of workers
// measuring every target concurrently, the control queried in parallel,
// records completed with run context, verdict and scrubbing.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "probe/net/measure.hpp"
#include "meoktong/record.hpp"
#include "meoktong/testlist.hpp"
#include "probe/net/net.hpp"

namespace meoktong {

// The settings of one run, each already validated; the defaults are those of
// SPEC §3.
struct RunSettings {
    std::vector<std::string> lists;
    std::vector<std::string> target_uris;
    std::vector<std::string> services;
    std::vector<std::string> canary_uris;
    MeasureSettings measure;               // resolvers, ca_file, timeout, routable
    std::vector<std::string> routable;     // --routable as given, for the record's context
    std::string control_url;
    std::string control_token;
    std::string out = "reports/";
    Vantage vantage;
    int concurrency = 16;
    int retests = 1;                       // --retests: how often a blocked or provider_down target is measured again
    std::function<bool()> out_of_time;     // --max-runtime's soft limit: once true, no measurement is started
    std::string capture = "off";           // IFACE|auto|off
    bool capture_active = false;           // set by the run once its packet capture started
    std::string format = "text";           // text|json
    bool strict_lists = false;             // --strict: refuse a Citizen Lab list with an unusable row
};

// The test lists the options select: --list, else "messengers" when no
// --target is given. Throws InputError for a list that does not load.
std::vector<TestList> selected_lists(const RunSettings& options);

// The targets to measure: canaries (canary=true) after the targets of `lists`
// (selected_lists) and --target ones. Canaries are --canary's when given, else
// the lists'; an ad-hoc run on public targets borrows the built-in list's.
// Throws InputError.
std::vector<Target> select_targets(const RunSettings& options, const std::vector<TestList>& lists);

using MeasureFn = std::function<Observations(const Target&, SteadyTime start)>;

struct RunOutcome {
    std::string run_id;
    std::vector<Record> records;  // in target order, then the discovered ones, without the targets never started
    size_t not_started = 0;       // targets left out because options.out_of_time said so
};

// Measures every target with at most options.concurrency in flight, queries
// the control (if any) in parallel, measures the targets that genuine app
// answers named (target.discovered_from), retests and completes the records.
// Never throws for network failures.
RunOutcome execute_run(const std::vector<Target>& targets, const RunSettings& options, const MeasureFn& measure,
                       const std::string& run_id);

// Did a canary's measurement reach it (its protocol's step worked)?
bool canary_reached(const Target& target, const Observations& obs);

// Random UUIDv4 (OpenSSL RAND_bytes).
std::string new_uuid();

}  // namespace meoktong
