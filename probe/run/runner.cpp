// The run: target selection, the worker pool and record completion
// (see runner.hpp).
#include "probe/run/runner.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <thread>

#include "probe/control/client.hpp"
#include "meoktong/failure.hpp"
#include "meoktong/ipaddr.hpp"
#include "meoktong/log.hpp"
#include "meoktong/parallel.hpp"
#include "meoktong/target.hpp"
#include "probe/lists/testlist.hpp"
#include "meoktong/time.hpp"
#include "meoktong/text.hpp"
#include "analysis/verdict/verdict.hpp"
#include "probe/net/interfaces.hpp"
#include "probe/run/scrub.hpp"

namespace meoktong {

namespace {

void add_unique(std::vector<Target>& out, std::set<std::string>& seen, Target t) {
    if (seen.insert(t.service + " " + target_uri(t) + (t.canary ? " canary" : "")).second) out.push_back(std::move(t));
}

void add_canary(std::vector<Target>& out, std::set<std::string>& seen, Target t) {
    t.canary = true;
    if (t.service.empty()) t.service = "canary";
    add_unique(out, seen, std::move(t));
}

ControlClientSettings control_settings(const RunSettings& o) {
    ControlClientSettings s;
    s.url = o.control_url;
    s.token = o.control_token;
    s.ca_file = o.measure.ca_file;
    return s;
}

void complete_record(Record& r, const RunSettings& o, const std::string& run_id, const RunContext& context,
                     const Scrubber& scrubber) {
    r.id = new_uuid();
    r.run_id = run_id;
    r.vantage = o.vantage;
    r.context = context;
    // The verdict is decided on the record as published (scrubbed), so anyone
    // can re-derive it from the report; only its evidence is new afterwards.
    scrubber.apply(r);
    try {
        r.verdict = decide_verdict(r);
    } catch (const std::exception& e) {
        r.verdict = Verdict{};
        r.verdict.evidence.push_back(std::string("the verdict engine failed: ") + e.what());
    }
    for (auto& e : r.verdict.evidence) e = scrubber.apply(e);
}

// Built-in canaries ride along with ad-hoc --target runs (issue 16), unless
// canaries were named (--canary replaces them), a list brings its own, or the
// run is a lab or a test: --routable given, or a loopback/private target,
// where hosts on the internet say nothing about the network under test.
bool builtin_canaries_fit(const RunSettings& o) {
    if (!o.lists.empty() || !o.canary_uris.empty() || !o.routable.empty() || o.target_uris.empty()) return false;
    return std::none_of(o.target_uris.begin(), o.target_uris.end(), [](const std::string& uri) {
        std::string host = parse_target_uri(uri).host;
        return host == "localhost" || (is_ip_literal(host) && special_purpose(host).has_value());
    });
}

// The built-in "messengers" list's canaries, or none when it cannot be loaded.
std::vector<ListTarget> builtin_canaries() {
    try {
        return load_list("messengers").canaries;
    } catch (const InputError& e) {
        process_logger().warn("builtin_canaries_unavailable", {{"error", e.what()}});
        return {};
    }
}

}  // namespace

std::vector<TestList> selected_lists(const RunSettings& o) {
    std::vector<std::string> names = o.lists;
    if (names.empty() && o.target_uris.empty()) names.push_back("messengers");
    std::vector<TestList> lists;
    for (const auto& name : names) lists.push_back(load_list(name, ListOptions{o.strict_lists}));
    return lists;
}

std::vector<Target> select_targets(const RunSettings& o, const std::vector<TestList>& lists) {
    std::vector<Target> targets, canaries;
    std::set<std::string> seen;
    std::set<std::string> services_found;
    for (const auto& list : lists) {
        for (const auto& service : list.services) {
            if (!o.services.empty() &&
                std::find(o.services.begin(), o.services.end(), service.name) == o.services.end())
                continue;
            services_found.insert(service.name);
            for (const auto& lt : service.targets) {
                Target t = lt.target;
                if (t.service.empty()) t.service = service.name;
                add_unique(targets, seen, t);
            }
        }
        if (!o.canary_uris.empty()) continue;  // named canaries replace the lists'
        for (const auto& lc : list.canaries) add_canary(canaries, seen, lc.target);
    }
    if (lists.empty() && !o.services.empty())
        throw InputError("--service selects from test lists, and ad-hoc --target targets have none: add --list");
    for (const auto& s : o.services) {
        if (!services_found.count(s))
            throw InputError("no service '" + s + "' in the selected test lists (see 'meoktong lists')");
    }
    for (const auto& uri : o.target_uris) add_unique(targets, seen, parse_target_uri(uri));
    if (builtin_canaries_fit(o)) {
        for (const auto& lc : builtin_canaries()) add_canary(canaries, seen, lc.target);
    }
    for (const auto& uri : o.canary_uris) {
        Target t = parse_target_uri(uri);
        t.service = "canary";
        add_canary(canaries, seen, t);
    }
    targets.insert(targets.end(), canaries.begin(), canaries.end());
    return targets;
}

bool canary_reached(const Target& t, const Observations& o) {
    auto ok = [](const auto& list) {
        return std::any_of(list.begin(), list.end(), [](const auto& x) { return !x.failure.has_value(); });
    };
    if (t.protocol == "dns") return ok(o.dns);
    if (t.protocol == "tcp") return ok(o.tcp);
    // A TLS handshake with the canary's own certificate proves the way out works, also for
    // an HTTPS canary whose page then ran into the deadline on a lossy link.
    bool handshake = std::any_of(o.tls.begin(), o.tls.end(),
                                 [](const TlsObservation& x) { return x.purpose == "target" && !x.failure; });
    if (t.protocol == "tls" || (t.protocol == "https" && handshake)) return handshake;
    return std::any_of(o.http.begin(), o.http.end(), [](const HttpObservation& x) { return !x.failure && x.status > 0; });
}

namespace {

// The rate of a canary's download: a complete one's, or what a timed-out one achieved
// (a lossy or slow own link shows so too), -1 when none was measured.
double canary_rate(const Observations& o) {
    double best = -1;
    for (const auto& h : o.http) {
        bool complete = !h.failure && h.status >= 200 && h.status < 300;
        bool partial = h.failure == failure::kTimeout && h.body_length > 0;
        if ((complete || partial) && h.throughput_kbps >= 0) best = std::max(best, h.throughput_kbps);
    }
    return best;
}

// Measures records[i] here for every i in `which`, at most options.concurrency
// at once; before each, `before_measuring(record)` (a retest files the earlier
// try). A record not started because options.out_of_time said so is left as it
// was; the result says which were measured.
std::vector<bool> measure_here(std::vector<Record>& records, const std::vector<size_t>& which, const RunSettings& o,
                               const MeasureFn& measure, const std::function<void(Record&)>& before_measuring = {}) {
    std::vector<bool> measured(which.size(), false);
    parallel_for(which.size(), static_cast<size_t>(std::max(o.concurrency, 1)), [&](size_t k) {
        if (o.out_of_time && o.out_of_time()) return;
        measured[k] = true;
        Record& r = records[which[k]];
        if (before_measuring) before_measuring(r);
        r.started_at = iso_utc_ms(std::chrono::system_clock::now());
        auto start = std::chrono::steady_clock::now();
        r.observations = {};
        try {
            r.observations = measure(r.target, start);
        } catch (const std::exception& e) {
            process_logger().error("measure_failed", {{"target", target_uri(r.target)}, {"error", e.what()}});
        }
        r.runtime_ms = static_cast<int64_t>(ms_since(start));
    });
    return measured;
}

// The control's result for the k-th target it was asked about.
void attach_control(Record& r, const std::vector<ControlResult>& control, size_t k) {
    if (k < control.size()) {
        r.control = control[k];
    } else {
        r.control = ControlResult{};
        r.control.failure = "unknown_failure: the control returned no result for this target";
    }
    r.control.requested = true;
}

// The indices of the records that `pred` holds for.
std::vector<size_t> indices_where(const std::vector<Record>& records, const std::function<bool(const Record&)>& pred) {
    std::vector<size_t> out;
    for (size_t i = 0; i < records.size(); ++i)
        if (pred(records[i])) out.push_back(i);
    return out;
}

// A canary that was not reached is measured again (up to options.retests
// times) before the run judges its own link by the canaries: one lost
// handshake on a lossy link must not make every failing target a local failure.
void retest_unreached_canaries(std::vector<Record>& records, const RunSettings& o, const MeasureFn& measure) {
    for (int retest = 0; retest < o.retests; ++retest) {
        std::vector<size_t> which = indices_where(
            records, [](const Record& r) { return r.target.canary && !canary_reached(r.target, r.observations); });
        if (which.empty()) return;
        measure_here(records, which, o, measure, [](Record& r) {
            Verdict unreached;
            unreached.evidence = {"the canary was not reached, so it was measured again before the run judged its own link"};
            r.earlier_tries.push_back({r.started_at, r.runtime_ms, unreached});
            ++r.tries;
        });
    }
}

// Discovery (SPEC §7): the endpoints that genuine app answers named (LOCO
// GETCONF's check-in hosts and ports) and the run does not measure yet, as
// tcp:// targets of the answering target's service with the listed check-in
// hosts' role, "login". The list's static entries are the bootstrap; the
// answer extends the run.
std::vector<Target> discovered_targets(const std::vector<Record>& records) {
    std::set<std::string> seen;
    for (const auto& r : records) seen.insert(target_uri(r.target));
    std::vector<Target> out;
    for (const auto& r : records) {
        for (const auto& a : r.observations.app) {
            if (a.genuine != true || a.failure) continue;
            for (const auto& endpoint : a.discovered) {
                Target t;
                try {
                    t = parse_target_uri("tcp://" + endpoint);
                } catch (const InputError&) {
                    continue;  // the protocol module names only valid endpoints
                }
                t.service = r.target.service;
                t.role = "login";  // the check-in step of logging in, as the listed check-in hosts
                t.discovered_from = target_uri(r.target);
                if (seen.insert(target_uri(t)).second) out.push_back(std::move(t));
            }
        }
    }
    return out;
}

bool accuses(const Record& r) {
    return !r.target.canary &&
           (r.verdict.status == VerdictStatus::blocked || r.verdict.status == VerdictStatus::provider_down);
}

// Retest before accusing (issue 16, Censored Planet's sandwich): a target that
// came out blocked or provider_down is measured here again, up to
// options.retests times while it still does, each time followed by a fresh
// control measurement; the try before it had its own control measurement, so
// every retest here sits between two of the control's. The record keeps the
// last try's observations, counts the tries and cites the earlier verdicts.
void retest_accused(std::vector<Record>& records, const RunSettings& o, const MeasureFn& measure,
                    const std::string& run_id, const RunContext& context, Scrubber& scrubber) {
    for (int retest = 0; retest < o.retests; ++retest) {
        std::vector<size_t> which = indices_where(records, accuses);
        if (which.empty()) return;
        process_logger().info("retest", {{"targets", std::to_string(which.size())}, {"try", std::to_string(retest + 2)}});
        std::vector<bool> measured = measure_here(records, which, o, measure, [](Record& r) {
            r.earlier_tries.push_back({r.started_at, r.runtime_ms, r.verdict});
            ++r.tries;
        });
        std::vector<size_t> retested;  // out of time: the others stay as they were
        for (size_t k = 0; k < which.size(); ++k)
            if (measured[k]) retested.push_back(which[k]);
        which = std::move(retested);
        if (which.empty()) return;
        if (!o.control_url.empty()) {
            std::vector<Target> asked;
            for (size_t i : which) asked.push_back(records[i].target);
            std::string address_seen_by_control;
            std::vector<ControlResult> control = query_control(control_settings(o), asked, &address_seen_by_control);
            scrubber.add(address_seen_by_control);
            for (size_t k = 0; k < which.size(); ++k) attach_control(records[which[k]], control, k);
        }
        for (size_t i : which) complete_record(records[i], o, run_id, context, scrubber);
    }
}

}  // namespace

RunOutcome execute_run(const std::vector<Target>& targets, const RunSettings& o, const MeasureFn& measure,
                       const std::string& run_id) {
    Scrubber scrubber;
    for (const auto& a : local_addresses()) scrubber.add(a);

    std::vector<ControlResult> control;
    std::string address_seen_by_control;  // the public address behind NAT: only ever scrubbed
    std::thread control_thread;
    if (!o.control_url.empty())
        control_thread = std::thread(
            [&] { control = query_control(control_settings(o), targets, &address_seen_by_control); });

    std::vector<Record> records(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) records[i].target = targets[i];
    std::vector<bool> started = measure_here(records, indices_where(records, [](const Record&) { return true; }), o, measure);

    // The discovered targets: measured here after the first pass, asked of the control on their own.
    std::vector<Target> discovered = discovered_targets(records);
    std::vector<ControlResult> discovered_control;
    std::string address_seen_by_discovery_control;
    std::thread discovered_control_thread;
    if (!discovered.empty()) {
        process_logger().info("discovered", {{"targets", std::to_string(discovered.size())}});
        if (!o.control_url.empty())
            discovered_control_thread = std::thread([&] {
                discovered_control = query_control(control_settings(o), discovered, &address_seen_by_discovery_control);
            });
        for (const auto& t : discovered) {
            Record r;
            r.target = t;
            records.push_back(std::move(r));
        }
        std::vector<size_t> which(discovered.size());
        for (size_t k = 0; k < which.size(); ++k) which[k] = targets.size() + k;
        std::vector<bool> measured = measure_here(records, which, o, measure);
        started.insert(started.end(), measured.begin(), measured.end());
    }
    retest_unreached_canaries(records, o, measure);
    if (control_thread.joinable()) control_thread.join();
    if (discovered_control_thread.joinable()) discovered_control_thread.join();
    scrubber.add(address_seen_by_control);
    scrubber.add(address_seen_by_discovery_control);

    RunContext context;
    context.routable = o.routable;
    context.capture_enabled = o.capture_active;
    for (size_t i = 0; i < records.size(); ++i) {
        const Record& r = records[i];
        if (!r.target.canary || !started[i]) continue;  // a canary never started says nothing of the link
        ++context.canaries_total;
        if (canary_reached(r.target, r.observations)) ++context.canaries_ok;
        context.canary_download_kbps = std::max(context.canary_download_kbps, canary_rate(r.observations));
    }
    context.targets_reached = static_cast<int>(std::count_if(records.begin(), records.end(), [](const Record& r) {
        return !r.target.canary && canary_reached(r.target, r.observations);
    }));
    for (size_t i = 0; i < records.size(); ++i) {
        if (!o.control_url.empty()) {
            if (i < targets.size())
                attach_control(records[i], control, i);
            else
                attach_control(records[i], discovered_control, i - targets.size());
        }
        complete_record(records[i], o, run_id, context, scrubber);
    }
    retest_accused(records, o, measure, run_id, context, scrubber);
    RunOutcome outcome{run_id, {}, 0};
    for (size_t i = 0; i < records.size(); ++i) {
        if (started[i])
            outcome.records.push_back(std::move(records[i]));
        else
            ++outcome.not_started;
    }
    return outcome;
}

std::string new_uuid() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("cannot get random bytes for a record id");
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    std::string digits = hex_encode(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
    for (size_t dash : {20u, 16u, 12u, 8u}) digits.insert(dash, 1, '-');  // 8-4-4-4-12
    return digits;
}

}  // namespace meoktong
