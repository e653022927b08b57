// The run: options, target selection, the worker pool and record completion
// (see runner.hpp).
#include "probe/run/runner.hpp"

#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "probe/control/client.hpp"
#include "meoktong/ipaddr.hpp"
#include "meoktong/target.hpp"
#include "probe/lists/testlist.hpp"
#include "meoktong/time.hpp"
#include "analysis/verdict/verdict.hpp"
#include "probe/net/dns.hpp"
#include "probe/net/interfaces.hpp"
#include "probe/run/scrub.hpp"

namespace meoktong {

const char* const kRunUsage =
    "usage: meoktong run [OPTIONS]\n"
    "\n"
    "Measures targets (DNS, TCP, TLS, HTTP) and writes a JSONL report, one record per target.\n"
    "\n"
    "  --list NAME|FILE        test list (repeatable); default: the built-in \"messengers\" list\n"
    "  --target URI            ad-hoc target (repeatable): tls://HOST[:PORT], tcp://HOST:PORT,\n"
    "                          https://HOST[:PORT]/PATH, http://HOST[:PORT]/PATH, dns://HOST\n"
    "  --service NAME          only the list targets of this service (repeatable)\n"
    "  --canary URI            extra canary target, measured in every run (repeatable)\n"
    "  --resolver IP[:PORT]    extra UDP resolver to query besides the system one (repeatable)\n"
    "  --control URL           control vantage, e.g. https://ctl.example.org:8443\n"
    "  --control-token TOKEN   bearer token for the control\n"
    "  --ca-file PATH          trust store for TLS (default: the system's)\n"
    "  --out PATH              report file (*.jsonl) or directory (default: ./reports/)\n"
    "  --vantage LABEL         free-form name of this vantage\n"
    "  --cc CC                 country code of this vantage (e.g. KR)\n"
    "  --asn ASN               network of this vantage (e.g. AS4766)\n"
    "  --concurrency N         targets in flight at once (default 16)\n"
    "  --timeout-ms N          per-step timeout in milliseconds (default 5000)\n"
    "  --capture IFACE|auto|off  packet capture for injection evidence (default off)\n"
    "  --routable CIDR         treat this private range as public (labs; repeatable)\n"
    "  --format text|json      stdout: a table for people (default) or the records as JSONL\n"
    "  --help                  this text\n"
    "\n"
    "Exit status: 0 when the run completed (whatever the verdicts), 2 for bad usage or input,\n"
    "1 for other failures (e.g. the report cannot be written).\n";

namespace {

int parse_int(const std::string& option, const std::string& value, int lo, int hi) {
    bool digits = !value.empty() && value.size() <= 9 && std::all_of(value.begin(), value.end(), ::isdigit);
    int n = digits ? std::stoi(value) : -1;
    if (!digits || n < lo || n > hi)
        throw InputError("bad " + option + " '" + value + "': expected a number from " + std::to_string(lo) + " to " +
                         std::to_string(hi));
    return n;
}

std::string parse_cc(const std::string& value) {
    if (value.size() != 2 || !std::isalpha(static_cast<unsigned char>(value[0])) ||
        !std::isalpha(static_cast<unsigned char>(value[1])))
        throw InputError("bad --cc '" + value + "': expected a two-letter country code");
    std::string cc = value;
    std::transform(cc.begin(), cc.end(), cc.begin(), ::toupper);
    return cc;
}

std::string parse_asn(const std::string& value) {
    std::string digits = value;
    if (digits.size() > 2 && (digits.substr(0, 2) == "AS" || digits.substr(0, 2) == "as")) digits = digits.substr(2);
    if (digits.empty() || digits.size() > 10 || !std::all_of(digits.begin(), digits.end(), ::isdigit))
        throw InputError("bad --asn '" + value + "': expected ASNUMBER, e.g. AS4766");
    return "AS" + digits;
}

std::string parse_capture(const std::string& value) {
    bool iface = !value.empty() && value.size() < 16 && std::all_of(value.begin(), value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '@' || c == ':';
    });
    if (!iface) throw InputError("bad --capture '" + value + "': expected an interface name, auto or off");
    return value;
}

void check_readable_file(const std::string& option, const std::string& path) {
    if (path.empty() || ::access(path.c_str(), R_OK) != 0)
        throw InputError("bad " + option + " '" + path + "': cannot read the file");
}

// What each run option does with its value; an option not here is unknown.
using OptionHandler = void (*)(RunSettings&, const std::string& value);

const std::map<std::string, OptionHandler>& run_options() {
    static const std::map<std::string, OptionHandler> handlers = {
        {"--list", [](RunSettings& o, const std::string& v) { o.lists.push_back(v); }},
        {"--target",
         [](RunSettings& o, const std::string& v) {
             parse_target_uri(v);
             o.target_uris.push_back(v);
         }},
        {"--canary",
         [](RunSettings& o, const std::string& v) {
             parse_target_uri(v);
             o.canary_uris.push_back(v);
         }},
        {"--service", [](RunSettings& o, const std::string& v) { o.services.push_back(v); }},
        {"--resolver",
         [](RunSettings& o, const std::string& v) {
             if (!dns::normalise_resolver(v))
                 throw InputError("bad --resolver '" + v + "': expected IP or IP:PORT ([IPv6]:PORT)");
             o.measure.resolvers.push_back(v);
         }},
        {"--control",
         [](RunSettings& o, const std::string& v) {
             if (v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0)
                 throw InputError("bad --control '" + v + "': expected an http(s):// URL");
             o.control_url = v;
         }},
        {"--control-token", [](RunSettings& o, const std::string& v) { o.control_token = v; }},
        {"--ca-file",
         [](RunSettings& o, const std::string& v) {
             check_readable_file("--ca-file", v);
             o.measure.ca_file = v;
         }},
        {"--out", [](RunSettings& o, const std::string& v) { o.out = v; }},
        {"--vantage", [](RunSettings& o, const std::string& v) { o.vantage.label = v; }},
        {"--cc", [](RunSettings& o, const std::string& v) { o.vantage.cc = parse_cc(v); }},
        {"--asn", [](RunSettings& o, const std::string& v) { o.vantage.asn = parse_asn(v); }},
        {"--concurrency", [](RunSettings& o, const std::string& v) { o.concurrency = parse_int("--concurrency", v, 1, 1024); }},
        {"--timeout-ms",
         [](RunSettings& o, const std::string& v) { o.measure.timeout_ms = parse_int("--timeout-ms", v, 1, 600000); }},
        {"--capture", [](RunSettings& o, const std::string& v) { o.capture = parse_capture(v); }},
        {"--routable",
         [](RunSettings& o, const std::string& v) {
             auto cidr = parse_cidr(v);
             if (!cidr) throw InputError("bad --routable '" + v + "': expected a CIDR such as 10.0.0.0/8");
             o.measure.routable.push_back(*cidr);
             o.routable.push_back(v);
         }},
        {"--format",
         [](RunSettings& o, const std::string& v) {
             if (v != "text" && v != "json") throw InputError("bad --format '" + v + "': expected text or json");
             o.format = v;
         }},
    };
    return handlers;
}

void add_unique(std::vector<Target>& out, std::set<std::string>& seen, Target t) {
    if (seen.insert(t.service + " " + target_uri(t) + (t.canary ? " canary" : "")).second) out.push_back(std::move(t));
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

}  // namespace

RunSettings parse_run_args(const std::vector<std::string>& args) {
    RunSettings o;
    o.vantage.label = "unnamed";
    if (std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; })) {
        o.help = true;  // help wins over anything else on the line
        return o;
    }
    for (size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i];
        if (name.rfind("--", 0) != 0) throw InputError("unexpected argument '" + name + "' for run (see 'meoktong run --help')");
        auto eq = name.find('=');
        if (eq != std::string::npos) name = name.substr(0, eq);
        auto handler = run_options().find(name);
        if (handler == run_options().end())
            throw InputError("unknown option '" + name + "' for run (see 'meoktong run --help')");
        if (eq == std::string::npos && i + 1 >= args.size())
            throw InputError("option " + name + " needs a value (see 'meoktong run --help')");
        std::string value = eq != std::string::npos ? args[i].substr(eq + 1) : args[++i];
        if (value.empty() && name != "--control-token") throw InputError("option " + name + " needs a non-empty value");
        handler->second(o, value);
    }
    return o;
}

std::vector<TestList> selected_lists(const RunSettings& o) {
    std::vector<std::string> names = o.lists;
    if (names.empty() && o.target_uris.empty()) names.push_back("messengers");
    std::vector<TestList> lists;
    for (const auto& name : names) lists.push_back(load_list(name));
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
        for (const auto& lc : list.canaries) {
            Target t = lc.target;
            t.canary = true;
            if (t.service.empty()) t.service = "canary";
            add_unique(canaries, seen, t);
        }
    }
    if (lists.empty() && !o.services.empty())
        throw InputError("--service selects from test lists, and ad-hoc --target targets have none: add --list");
    for (const auto& s : o.services) {
        if (!services_found.count(s))
            throw InputError("no service '" + s + "' in the selected test lists (see 'meoktong lists')");
    }
    for (const auto& uri : o.target_uris) add_unique(targets, seen, parse_target_uri(uri));
    for (const auto& uri : o.canary_uris) {
        Target t = parse_target_uri(uri);
        t.service = "canary";
        t.canary = true;
        add_unique(canaries, seen, t);
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
    if (t.protocol == "tls")
        return std::any_of(o.tls.begin(), o.tls.end(),
                           [](const TlsObservation& x) { return x.purpose == "target" && !x.failure; });
    return std::any_of(o.http.begin(), o.http.end(), [](const HttpObservation& x) { return !x.failure && x.status > 0; });
}

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
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t i = next++; i < targets.size(); i = next++) {
            Record& r = records[i];
            r.target = targets[i];
            r.started_at = iso_utc_ms(std::chrono::system_clock::now());
            auto start = std::chrono::steady_clock::now();
            try {
                r.observations = measure(targets[i], start);
            } catch (const std::exception& e) {
                std::cerr << "meoktong: measuring " << target_uri(targets[i]) << " failed: " << e.what() << "\n";
            }
            r.runtime_ms = static_cast<int64_t>(ms_since(start));
        }
    };
    size_t workers = std::min<size_t>(static_cast<size_t>(std::max(o.concurrency, 1)), targets.size());
    std::vector<std::thread> pool;
    for (size_t i = 0; i < workers; ++i) pool.emplace_back(work);
    for (auto& t : pool) t.join();
    if (control_thread.joinable()) control_thread.join();
    scrubber.add(address_seen_by_control);

    RunContext context;
    context.routable = o.routable;
    context.capture_enabled = o.capture_active;
    for (const auto& r : records) {
        if (!r.target.canary) continue;
        ++context.canaries_total;
        if (canary_reached(r.target, r.observations)) ++context.canaries_ok;
    }
    for (size_t i = 0; i < records.size(); ++i) {
        if (!o.control_url.empty()) {
            if (i < control.size()) {
                records[i].control = control[i];
            } else {
                records[i].control.failure = "unknown_failure: the control returned no result for this target";
            }
            records[i].control.requested = true;
        }
        complete_record(records[i], o, run_id, context, scrubber);
    }
    return {run_id, std::move(records)};
}

std::string new_uuid() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("cannot get random bytes for a record id");
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += hex[b[i] >> 4];
        s += hex[b[i] & 15];
    }
    return s;
}

}  // namespace meoktong
