// `meoktong run`'s options: the command line parsed into typed values
// (cli/options.hpp, the core parsers), merged over the config file into
// RunSettings, and the usage text. See run_options.hpp.
#include "cli/run_options.hpp"

#include <unistd.h>

#include "cli/options.hpp"
#include "meoktong/ipaddr.hpp"
#include "meoktong/target.hpp"
#include "probe/net/dns.hpp"
#include "probe/net/doh.hpp"

namespace meoktong {

const char* const kRunUsage =
    "usage: meoktong run [OPTIONS]\n"
    "\n"
    "Measures targets (DNS, TCP, TLS, HTTP) and writes a JSONL report, one record per target.\n"
    "\n"
    "  --list NAME|FILE        test list (repeatable); default: the built-in \"messengers\" list\n"
    "  --target URI            ad-hoc target (repeatable): tls://HOST[:PORT], tcp://HOST:PORT,\n"
    "                          https://HOST[:PORT]/PATH, http://HOST[:PORT]/PATH, dns://HOST,\n"
    "                          mtproto://HOST:PORT, stun://HOST:PORT, loco://HOST:PORT,\n"
    "                          whatsapp://HOST:PORT, signal://HOST[:PORT]\n"
    "  --service NAME          only the list targets of this service (repeatable)\n"
    "  --canary URI            canary target (repeatable): replaces the lists' and built-in canaries;\n"
    "                          without it, ad-hoc --target runs on public hosts borrow the built-in ones\n"
    "  --resolver IP[:PORT]    extra UDP resolver to query besides the system one (repeatable)\n"
    "  --doh URL               DNS-over-HTTPS resolver to query too, e.g. https://dns.example/dns-query\n"
    "                          (RFC 8484; repeatable); its host is resolved by the system resolver\n"
    "  --control URL           control vantage, e.g. https://ctl.example.org:8443\n"
    "  --control-token TOKEN   bearer token for the control\n"
    "  --ca-file PATH          trust store for TLS (default: the system's)\n"
    "  --app-roots DIR         pinned roots of the app protocols (signal-roots.pem,\n"
    "                          whatsapp-root-key.json); default: the shipped ones (labs only)\n"
    "  --out PATH              report file (*.jsonl) or directory (default: ./reports/)\n"
    "  --vantage LABEL         free-form name of this vantage\n"
    "  --cc CC                 country code of this vantage (e.g. KR)\n"
    "  --asn ASN               network of this vantage (e.g. AS4766)\n"
    "  --concurrency N         targets in flight at once (default 16)\n"
    "  --timeout-ms N          per-step timeout in milliseconds (default 5000)\n"
    "  --retests N             measure a blocked or provider_down target again, with the control\n"
    "                          before and after, up to N times while it still fails (0-3, default 1)\n"
    "  --capture IFACE|auto|off  packet capture for injection evidence (default off)\n"
    "  --routable CIDR         treat this private range as public (labs; repeatable)\n"
    "  --format text|json      stdout: a table for people (default) or the records as JSONL\n"
    "  --strict                refuse a Citizen Lab list with any unusable row (default: skip\n"
    "                          the row with a warning and count it in the run summary)\n"
    "  --help                  this text\n"
    "\n"
    "Exit status: 0 when the run completed (whatever the verdicts), 2 for bad usage or input,\n"
    "1 for other failures (e.g. the report cannot be written).\n"
    "\n"
    "unattended operation (docs/operations.md):\n"
    "  --config PATH           config file (default /etc/meoktong/config.json if it exists);\n"
    "                          options on the command line override it\n"
    "  --max-runtime DURATION  bound on the run: 90, 90s, 20m, 2h\n"
    "  --geoip-db PATH         MaxMind-format database for cc/asn (repeatable: country + ASN)\n"
    "  --upload URL            send finished reports to this collector (https://), queued locally;\n"
    "                          ooni+https://HOST submits them to an OONI collector instead\n"
    "                          (public OONI data, docs/ooni.md)\n"
    "  --log stderr|syslog     where the one-line-per-event logs go (default stderr)\n"
    "  --retention-days N      keep the reports of the last N days in the output directory\n"
    "  --retention-mb N        keep at most N MiB of reports (never today's)\n"
    "  A second run while one is under way (same output directory) exits 0 at once.\n";

namespace {

const CommandSpec& run_spec() {
    static const CommandSpec spec{
        "run",
        {{"--list"}, {"--target"}, {"--service"}, {"--canary"}, {"--resolver"}, {"--doh"}, {"--control"},
         {"--control-token", true, true}, {"--ca-file"}, {"--app-roots"}, {"--out"}, {"--vantage"}, {"--cc"}, {"--asn"},
         {"--concurrency"}, {"--retests"}, {"--timeout-ms"}, {"--capture"}, {"--routable"}, {"--format"}, {"--strict", false},
         {"--config"}, {"--max-runtime"}, {"--geoip-db"}, {"--upload"}, {"--log"}, {"--retention-days"}, {"--retention-mb"}},
        false};
    return spec;
}

std::string target_option(const std::string& uri) {
    parse_target_uri(uri);  // throws InputError naming the URI
    return uri;
}

void apply_run_option(RunCommandLine& cl, const std::string& name, const std::string& v) {
    RunConfig& o = cl.values;
    if (name == "--list") o.lists.push_back(v);
    else if (name == "--target") cl.target_uris.push_back(target_option(v));
    else if (name == "--canary") o.canaries.push_back(target_option(v));
    else if (name == "--service") o.services.push_back(v);
    else if (name == "--resolver") {
        if (!dns::normalise_resolver(v)) throw InputError("bad --resolver '" + v + "': expected IP or IP:PORT ([IPv6]:PORT)");
        o.resolvers.push_back(v);
    } else if (name == "--doh") {
        if (!doh::url_host(v)) throw InputError("bad --doh '" + v + "': expected an https:// URL, e.g. https://dns.example/dns-query");
        o.doh.push_back(v);
    } else if (name == "--control") {
        if (v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0)
            throw InputError("bad --control '" + v + "': expected an http(s):// URL");
        o.control_url = v;
    } else if (name == "--control-token") o.control_token = v;
    else if (name == "--ca-file") o.ca_file = v;
    else if (name == "--app-roots") o.app_roots = app_roots_option(name, v);
    else if (name == "--out") o.out = v;
    else if (name == "--vantage") o.vantage = v;
    else if (name == "--cc") o.cc = country_code_option(name, v);
    else if (name == "--asn") o.asn = asn_option(name, v);
    else if (name == "--concurrency") o.concurrency = static_cast<int>(integer_option(name, v, 1, kMaxConcurrency));
    else if (name == "--retests") o.retests = static_cast<int>(integer_option(name, v, 0, kMaxRetests));
    else if (name == "--timeout-ms") o.timeout_ms = static_cast<int>(integer_option(name, v, 1, kMaxTimeoutMs));
    else if (name == "--capture") {
        if (!is_capture_setting(v)) throw InputError("bad --capture '" + v + "': expected an interface name, auto or off");
        o.capture = v;
    } else if (name == "--routable") {
        if (!parse_cidr(v)) throw InputError("bad --routable '" + v + "': expected a CIDR such as 10.0.0.0/8");
        o.routable.push_back(v);
    } else if (name == "--format") {
        if (v != "text" && v != "json") throw InputError("bad --format '" + v + "': expected text or json");
        cl.format = v;
    } else if (name == "--strict") cl.strict = true;
    else if (name == "--config") cl.config_path = v;
    else if (name == "--max-runtime") o.max_runtime_s = static_cast<int>(duration_option(name, v, 1, kMaxRuntimeSeconds));
    else if (name == "--geoip-db") o.geoip_db.push_back(v);
    else if (name == "--upload") {
        check_upload_url(v, "bad --upload");
        o.upload_url = v;
    } else if (name == "--log") {
        if (!is_log_destination(v)) throw InputError("bad --log '" + v + "': expected stderr or syslog");
        o.log = v;
    } else if (name == "--retention-days") o.retention_days = static_cast<int>(integer_option(name, v, 1, kMaxRetentionDays));
    else if (name == "--retention-mb") o.retention_mb = integer_option(name, v, 1, kMaxRetentionMegabytes);
}

}  // namespace

RunCommandLine parse_run_command_line(const Args& args) {
    ParsedArgs parsed = parse_command_line(args, run_spec());
    RunCommandLine cl;
    cl.help = parsed.help;
    for (const auto& option : parsed.options) apply_run_option(cl, option.name, option.value);
    return cl;
}

RunSettings run_settings(const RunConfig& merged, const RunCommandLine& command_line) {
    RunSettings s;
    bool only_targets = !command_line.target_uris.empty() && command_line.values.lists.empty();
    if (!only_targets) s.lists = merged.lists;
    s.target_uris = command_line.target_uris;
    s.canary_uris = merged.canaries;
    s.services = merged.services;
    s.measure.resolvers = merged.resolvers;
    s.measure.doh = merged.doh;
    s.routable = merged.routable;
    for (const auto& cidr : merged.routable) s.measure.routable.push_back(parse_cidr(cidr).value());
    if (merged.ca_file) {
        if (::access(merged.ca_file->c_str(), R_OK) != 0)
            throw InputError("bad --ca-file '" + *merged.ca_file + "': cannot read the file");
        s.measure.ca_file = *merged.ca_file;
    }
    if (merged.app_roots) s.measure.app_roots_dir = *merged.app_roots;
    if (merged.timeout_ms) s.measure.timeout_ms = *merged.timeout_ms;
    s.control_url = merged.control_url.value_or("");
    s.control_token = resolve_control_token(merged).value_or("");
    if (merged.out) s.out = *merged.out;
    s.vantage.label = merged.vantage.value_or("unnamed");
    if (merged.concurrency) s.concurrency = *merged.concurrency;
    if (merged.retests) s.retests = *merged.retests;
    if (merged.capture) s.capture = *merged.capture;
    if (command_line.format) s.format = *command_line.format;
    s.strict_lists = command_line.strict;
    return s;
}

}  // namespace meoktong
