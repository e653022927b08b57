// The ops library (probe/ops/): running unattended from cron or systemd.
// The config file (this header), the run lock, the max runtime, retention,
// the upload queue, GeoIP and progress.
//
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
    std::vector<std::string> doh;             // --doh URL (DNS-over-HTTPS resolvers)
    std::vector<std::string> routable;        // --routable CIDR
    std::vector<std::string> canaries;        // --canary URI: replaces the lists' and built-in canaries
    std::optional<std::string> control_url;   // --control
    std::optional<std::string> control_token; // --control-token
    std::optional<std::string> control_token_file;  // file holding the token (config only)
    std::optional<std::string> ca_file;       // --ca-file
    std::optional<std::string> app_roots;     // --app-roots DIR (command line only: labs)
    std::optional<std::string> vantage;       // --vantage LABEL
    std::optional<std::string> cc;            // --cc, normalised to upper case ("KR")
    std::optional<std::string> asn;           // --asn, normalised to "AS<number>"
    std::optional<std::string> out;           // --out
    std::optional<std::string> capture;       // --capture IFACE|auto|off
    std::optional<int> concurrency;           // --concurrency
    std::optional<int> retests;               // --retests
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

// Limits and checks shared by the config file and the command line (cli/),
// so a value means the same wherever it is written.
inline constexpr int kMaxConcurrency = 1024;
inline constexpr int kMaxRetests = 3;
inline constexpr int kMaxTimeoutMs = 10 * 60 * 1000;
inline constexpr int kMaxRuntimeSeconds = 7 * 24 * 3600;
inline constexpr int kMaxRetentionDays = 100000;
inline constexpr int64_t kMaxRetentionMegabytes = int64_t{1} << 40;
// A packet capture setting: auto, off or an interface name (at most 15 of
// letters, digits and _ . - : @).
bool is_capture_setting(const std::string& text);
// A log destination: stderr or syslog.
bool is_log_destination(const std::string& text);
// https:// anywhere; http:// only to a loopback host (tests, local relays);
// either after "ooni+" for an OONI collector (upload.hpp).
// Throws InputError with `what` (e.g. "bad --upload") in front.
void check_upload_url(const std::string& url, const std::string& what);

}  // namespace meoktong
