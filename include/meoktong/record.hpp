// The core library (include/meoktong/, core/): what every other library
// shares. The data model (this record, its JSON, failure names, targets,
// addresses, test-list types, the verdict status) and one of each helper:
// value parsers, HOST:PORT, files, text, time, the worker pool, the logger.
// It uses no other library of meoktong and does no network I/O.
//
// The measurement record of SPEC §4 as C++ types: one Record per target per
// run, holding every observation (DNS, TCP, TLS, HTTP, app, packets), the control
// vantage's observations and the verdict. Shared by probe, control and analysis.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meoktong {

inline constexpr const char* kSchema = "meoktong.measurement/v1";
inline constexpr const char* kSoftwareName = "meoktong";
// The build's provenance, fixed by CMake at configure time (core/software.cpp):
// the version (CMake's project version, which the Debian package version
// follows), the git commit ("unknown" outside git) and the UTC build date
// (from SOURCE_DATE_EPOCH when set, so a rebuild of one commit is identical).
extern const char* const kSoftwareVersion;
extern const char* const kSoftwareCommit;     // e.g. "6337e34a1b2c"
extern const char* const kSoftwareBuildDate;  // e.g. "2026-12-02T14:48:02Z"

// What to measure: one service endpoint.
struct Target {
    std::string service;            // e.g. "line"; "adhoc" for --target
    std::string host;               // name or IP literal
    uint16_t port = 0;
    std::string protocol;           // "dns" | "tcp" | "tls" | "https" | "http" | "mtproto" | "stun" | "loco" | "whatsapp" | "signal"
    std::string path = "/";         // for http/https
    std::string role;               // e.g. "messaging", "login", "media", "web"
    std::vector<std::string> cert_names;  // names the certificate must carry (default: host)
    std::string download_url;       // optional throughput URL
    bool canary = false;            // unrelated reliable host: tells if our own network works
    // A target the run added from an app answer (loco:// GETCONF's check-in
    // hosts): the URI of the target whose answer named it. Empty for listed targets.
    std::string discovered_from;
};

// One step's outcome; failure is empty on success.
struct Timing {
    double t0_ms = 0;  // start, relative to the measurement start
    double t_ms = 0;   // end, relative to the measurement start
};

struct DnsAnswer {
    std::string type;   // "A", "AAAA", "CNAME"
    std::string value;  // address or name
    uint32_t ttl = 0;
};

// One DNS response packet as it arrived (the first and any late/duplicate one).
struct DnsResponse {
    double t_ms = 0;
    int rcode = -1;
    int ip_ttl = -1;                  // IP TTL / hop limit of the packet, -1 unknown
    std::vector<DnsAnswer> answers;
};

struct DnsObservation : Timing {
    std::string resolver;          // "system", "IP:PORT" given with --resolver, or a --doh URL's host
    std::string resolver_address;  // the server actually asked, IP:PORT
    std::string transport = "udp";  // "udp" | "doh" (DNS over HTTPS, RFC 8484)
    std::string hostname;
    std::string query_type;        // "A" | "AAAA"
    std::optional<std::string> failure;
    std::string raw_error;         // e.g. "ARES_ENOTFOUND", "rcode=2"
    int rcode = -1;
    std::vector<DnsAnswer> answers;        // the first response's answers: what an OS would use
    std::vector<DnsResponse> responses;    // every response received in the listening window
};

struct TcpObservation : Timing {
    std::string ip;
    uint16_t port = 0;
    std::optional<std::string> failure;
    std::string raw_error;   // e.g. "ECONNREFUSED"
    int attempt = 1;         // 2: the one retry of a connect that timed out (measure.hpp)
};

struct CertificateInfo {
    std::string subject;
    std::string issuer;
    std::string not_before;  // ISO 8601 UTC
    std::string not_after;
    std::vector<std::string> dns_names;
    std::string sha256;      // fingerprint of the DER
};

struct TlsObservation : Timing {
    std::string ip;
    uint16_t port = 0;
    std::string sni;               // the server name sent ("" = none)
    std::string purpose = "target";  // "target" | "neutral_sni" | "neutral_address"
    std::optional<std::string> failure;
    std::string raw_error;
    std::string tls_version;
    std::string cipher;
    bool certificate_valid = false;   // chain and name verified for the target host
    std::vector<CertificateInfo> peer_certificates;  // leaf first
};

struct HttpObservation : Timing {
    std::string url;
    std::string ip;
    uint16_t port = 0;
    std::optional<std::string> failure;
    std::string raw_error;
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    int64_t body_length = 0;
    bool body_truncated = false;
    std::string body_sha256;
    std::string title;
    std::string body_excerpt;      // first bytes of the body, scrubbed, for fingerprinting
    double throughput_kbps = -1;   // for download targets (also of a timed-out one: what arrived), -1 when not measured
    double transfer_ms = -1;       // for download targets: how long the transfer ran, -1 when not measured
    double stall_ms = -1;          // for a download that timed out after its handshake: how long no byte of
                                   // the answer had arrived when the deadline hit (since the last one, or since
                                   // the handshake if none came: a flow stopped dead), -1 when not measured
};

// Facts read from captured packets (issue 5): TTL/ID of what the server and
// anything on the path sent.
struct PacketObservation {
    double t_ms = 0;
    std::string kind;      // "syn_ack" | "rst" | "fin" | "dns_response" | ...
    std::string src;       // remote IP:PORT the packet claims to come from
    int ip_ttl = -1;
    int ip_id = -1;
    std::string detail;    // e.g. DNS answer summary
    std::string tcp_flags;            // TCP packets: "SA", "RA", "R", "FA"...; "" otherwise
    int dns_id = -1;                  // dns_response: the DNS message id
    int dns_rcode = -1;               // dns_response: the rcode
    std::vector<DnsAnswer> answers;   // dns_response: its A/AAAA records
};

// One app-protocol exchange (SPEC §7): the service's own first,
// unauthenticated exchange, and whether the answer proves a genuine server.
struct AppObservation : Timing {
    std::string protocol;            // "mtproto" | "stun" | "loco" | "whatsapp" | "signal" | "signal"
    std::string transport;           // mtproto: "intermediate" | "obfuscated"; stun: "udp"; loco, signal: "tls"; whatsapp: "noise"
    std::string address;             // the server asked, "IP:PORT" / "[IPv6]:PORT"
    std::optional<std::string> failure;
    std::string raw_error;           // e.g. "ECONNRESET", "resPQ nonce differs"
    std::optional<bool> genuine;     // null when no reply could be judged
    std::vector<std::string> discovered;  // loco: the "HOST:PORT" check-in endpoints a genuine answer named
};

struct Observations {
    std::vector<DnsObservation> dns;
    std::vector<TcpObservation> tcp;
    std::vector<TlsObservation> tls;
    std::vector<HttpObservation> http;
    std::vector<AppObservation> app;
    std::vector<PacketObservation> packets;
};

struct ControlResult {
    bool requested = false;                 // a control was configured for this run
    std::optional<std::string> failure;     // why no control answer (null when it answered)
    Observations observations;
};

// What the rest of the run tells about this vantage's own network.
struct RunContext {
    int canaries_total = 0;
    int canaries_ok = 0;
    bool capture_enabled = false;
    std::vector<std::string> routable;      // --routable CIDRs: private ranges treated as public
    int list_rows_skipped = 0;              // unusable Citizen Lab list rows the run skipped
    int targets_reached = -1;               // the run's other targets (not canaries) reached here; -1: not counted (older records)
    double canary_download_kbps = -1;       // the fastest canary download of the run here (a timed-out one: what it achieved), -1 when none
};

// A verdict's status (SPEC §2). Reports and every text carry its name.
enum class VerdictStatus : uint8_t { accessible, blocked, provider_down, local_failure, inconclusive };
inline constexpr int kVerdictStatusCount = 5;
// "accessible", "blocked", "provider_down", "local_failure", "inconclusive".
const char* verdict_status_name(VerdictStatus status);
// The inverse; nullopt for any other text.
std::optional<VerdictStatus> parse_verdict_status(std::string_view name);

struct Verdict {
    VerdictStatus status = VerdictStatus::inconclusive;
    std::optional<std::string> method;
    double confidence = 0;
    std::vector<std::string> evidence;
};

// A try of the target made earlier in the same run, before the retest whose
// observations the record holds: when it started,
// how long it ran and the verdict its own observations got. "tries" and
// "earlier_tries" extend the record of SPEC §4 (docs/verdicts.md, "Retest before accusing").
struct EarlierTry {
    std::string started_at;
    int64_t runtime_ms = 0;
    Verdict verdict;
};

struct Vantage {
    std::string label;
    std::string cc = "ZZ";
    std::string asn = "AS0";
};

// Where a record read from an OONI measurement came from (SPEC §8): the
// measurement's identity and OONI's own conclusions, kept beside ours.
struct OoniOrigin {
    std::string test_name;        // "whatsapp", "web_connectivity", ...
    std::string test_version;
    std::string report_id;
    std::string measurement_uid;  // the measurement's own id (measurement_uid, or the older "id"; "" when OONI gave none)
    std::string input;            // the measured URL, "" for tests without input
    std::string blocking_json;    // OONI's blocking keys of that test as one JSON object, e.g. {"signal_backend_status":"ok"}
};

struct Record {
    std::string schema = kSchema;
    std::string id;
    std::string run_id;
    std::string software_name = kSoftwareName;
    std::string software_version = kSoftwareVersion;
    std::string software_commit = kSoftwareCommit;
    std::string software_build_date = kSoftwareBuildDate;
    Vantage vantage;
    std::string started_at;   // ISO 8601 UTC with milliseconds
    int64_t runtime_ms = 0;
    Target target;
    Observations observations;
    ControlResult control;
    RunContext context;
    Verdict verdict;
    int tries = 1;                           // how many times this run measured the target (retests included)
    std::vector<EarlierTry> earlier_tries;   // the tries before the one observed here, oldest first
    std::string source;                // "" when meoktong measured it; "ooni" for an OONI measurement
    std::optional<OoniOrigin> ooni;    // set when source is "ooni"
};

}  // namespace meoktong
