// The operator's configuration file (/etc/meoktong/config.json or --config
// PATH) and its merge with command-line options: every key is optional, a
// value given on the command line wins. Errors are one line naming the file
// and the key. Keys are documented in docs/operations.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meoktong {

inline constexpr const char* kDefaultConfigPath = "/etc/meoktong/config.json";

// Options of an unattended run, from the config file or the command line.
// Unset (nullopt / empty) means "not given here".
struct RunConfig {
    std::vector<std::string> lists;           // --list
    std::vector<std::string> services;        // --service
    std::vector<std::string> resolvers;       // --resolver IP[:PORT]
    std::vector<std::string> routable;        // --routable CIDR
    std::optional<std::string> control_url;   // --control
    std::optional<std::string> control_token; // --control-token
    std::optional<std::string> control_token_file;  // file holding the token (config only)
    std::optional<std::string> ca_file;       // --ca-file
    std::optional<std::string> vantage;       // --vantage LABEL
    std::optional<std::string> cc;            // --cc, normalised to upper case ("KR")
    std::optional<std::string> asn;           // --asn, normalised to "AS<number>"
    std::optional<std::string> out;           // --out
    std::optional<std::string> capture;       // --capture IFACE|auto|off
    std::optional<int> concurrency;           // --concurrency
    std::optional<int> timeout_ms;            // --timeout-ms
    std::optional<int> max_runtime_s;         // --max-runtime (seconds)
    std::optional<int> retention_days;        // --retention-days
    std::optional<int64_t> retention_mb;      // --retention-mb
    std::optional<std::string> upload_url;    // --upload URL
    std::optional<std::string> upload_token;  // bearer token for the collector (config only)
    std::vector<std::string> geoip_db;        // --geoip-db PATH (repeatable: country + ASN databases)
    std::optional<std::string> log;           // --log stderr|syslog
};

// Reads and validates a config file. Throws InputError
// ("config /etc/meoktong/config.json: key 'retention.days': must be an integer >= 1").
RunConfig load_config(const std::string& path);
// Same, from text; `origin` names the source in errors.
RunConfig parse_config(const std::string& text, const std::string& origin);
// The config a run uses: `explicit_path` if given (must exist), else the
// default path if it exists, else an empty RunConfig.
RunConfig load_run_config(const std::optional<std::string>& explicit_path);

// Command-line values override config values. A list given on the command
// line replaces the config's list as a whole (e.g. --list kr drops the
// config's lists); --control-token overrides control_token_file too.
RunConfig merge_options(const RunConfig& config, const RunConfig& command_line);

// The control token: control_token, else the token in control_token_file
// (core read_token_file: its first line, trimmed), else nullopt. Throws
// InputError if the file cannot be read or is empty.
std::optional<std::string> resolve_control_token(const RunConfig& options);

// Value checks shared by the config parser and the command line; each throws
// InputError with `what` (e.g. "--max-runtime" or "config F: key 'x'") in front.
int parse_duration_seconds(const std::string& text, const std::string& what);  // "90", "90s", "20m", "2h"
std::string normalise_cc(const std::string& text, const std::string& what);     // "kr" -> "KR"
std::string normalise_asn(const std::string& text, const std::string& what);    // "4766"/"as4766" -> "AS4766"
// https:// anywhere; http:// only to a loopback host (tests, local relays).
void check_upload_url(const std::string& url, const std::string& what);

// ---- Command-line side of `meoktong run` ----

// The run options that belong to unattended operation, for `run --help`.
extern const char* const kOpsUsage;

// `run` arguments split into the ops options (--config, --max-runtime,
// --geoip-db, --upload, --log, --retention-days, --retention-mb; "--x V" or
// "--x=V") and everything else, left in order for parse_run_args.
struct OpsArgs {
    std::optional<std::string> config_path;   // --config
    RunConfig options;                        // the ops options given
    std::vector<std::string> run_args;        // the rest
};
// Throws InputError on a bad value or a missing one.
OpsArgs take_ops_options(const std::vector<std::string>& args);

// True when `args` gives option `name` ("--list" matches "--list X" and "--list=X").
bool has_option(const std::vector<std::string>& args, const std::string& name);

// Measurement options of the config file as `run` arguments, each only when
// `command_line` does not give it (the command line wins): --list (unless the
// command line has --list or --target), --service, --resolver, --routable,
// --control, --control-token (resolved from token_file), --ca-file, --out,
// --vantage, --capture, --concurrency, --timeout-ms. cc and asn are not
// included: resolve_vantage (geoip.hpp) orders them. Throws InputError if the
// token file cannot be read.
std::vector<std::string> config_run_args(const RunConfig& file, const std::vector<std::string>& command_line);

}  // namespace meoktong
