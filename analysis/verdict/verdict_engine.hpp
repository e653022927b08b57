// Inside the verdict engine (docs/verdicts.md): the facts computed once from a
// record, and the ordered rule table evaluated over them. Exposed for tests
// and for the documentation; callers normally use decide_verdict().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/verdict/blockpage.hpp"
#include "analysis/verdict/packet_evidence.hpp"
#include "meoktong/record.hpp"

namespace meoktong::verdict {

// The steps of a measurement in order; `passed` means every required step
// succeeded. `app` is an app protocol's own first exchange (SPEC §7).
enum class Step { dns = 1, tcp, tls, http, app, passed };

// What went wrong at a step, in a vocabulary the rules can reason with.
enum class Kind {
    ok,
    reset,           // connection_reset
    refused,         // connection_refused (a TCP reset answering the SYN)
    timeout,
    unreachable,     // host/network unreachable (ICMP)
    eof,             // closed without a reset
    cert_authority,  // ssl_unknown_authority
    cert_hostname,   // ssl_invalid_hostname
    cert_invalid,    // ssl_invalid_certificate (expired, not yet valid, bad signature)
    handshake,       // ssl_failed_handshake (e.g. an alert from the server)
    nxdomain,
    servfail,
    dns_refused,
    no_answer,
    http_5xx,
    blockpage,
    unexpected_reply,  // app_unexpected_reply: not the protocol's answer
    not_genuine,       // app_not_genuine: the protocol's answer, not to our request
    app_error,         // a genuine server answered with an error (e.g. a STUN error response)
    not_measured,
    other,
};

const char* step_name(Step s);

// One address (IP:port) carried through TCP, TLS and HTTP.
struct AddressOutcome {
    std::string ip;
    uint16_t port = 0;
    bool app_path = false;         // resolved by the system resolver (what an app would use)
    Step failed_step = Step::passed;
    Kind kind = Kind::ok;
    std::string failure;           // the observation's failure string (or a description)
    int http_status = 0;
    std::string exchange;          // app targets: the exchange's name, e.g. "STUN Binding Request"
};

// One side's name resolution (here: the app's resolver; control: all of its resolvers).
struct DnsSide {
    bool measured = false;
    std::vector<std::string> addresses;  // A/AAAA values of the first responses
    Kind kind = Kind::ok;                // why nothing resolved
    std::string failure;
};

struct Injection {
    std::string resolver;
    std::string query_type;
    DnsResponse first;       // the answer the OS would have used
    DnsResponse later;       // a different answer to the same query
    double first_ms = 0;     // latencies since the query was sent
    double later_ms = 0;
};

struct DnsAnswerFlag {  // a bogon or sinkhole-fingerprinted answer
    std::string resolver;
    std::string value;
    std::string why;                 // "private", "loopback"... for bogons
    const Fingerprint* fingerprint = nullptr;
};

struct SniTest {  // target SNI vs neutral SNI on the same address
    std::string ip;
    uint16_t port = 0;
    std::string sni, neutral_sni;
    Kind target_kind = Kind::ok;
    Kind neutral_kind = Kind::ok;
    bool neutral_completed = false;  // the neutral handshake got a certificate
};

struct TransportTest {  // MTProto: the plain transport failed where the obfuscated one reached a genuine server
    std::string ip;
    uint16_t port = 0;
    Kind plain_kind = Kind::ok;
    std::string plain_failure;
};

struct CertIssue {  // a certificate that did not verify for the host
    std::string ip;
    uint16_t port = 0;
    Kind kind = Kind::ok;
    std::string subject, issuer, not_before, not_after, sha256;
    bool out_of_date = false;          // not_after before (or not_before after) the measurement
    const Fingerprint* interception_ca = nullptr;
    const Fingerprint* blockpage_host = nullptr;  // the certificate names a known blockpage host (subject CN or SAN)
    std::string blockpage_name;                   // that name
    std::optional<PacketEvidence> unaged_synack;  // the address's SYN-ACK arrived with an initial TTL (captured)
};

struct ForgedRst {  // a RST whose IP TTL differs from the server's SYN-ACK, or is unaged, that cut a step
    PacketEvidence packets;  // kind rst_ttl_mismatch (compared with the SYN-ACK) or rst_unaged_ttl
    Step step = Step::tcp;   // the step the reset cut
};

struct BlockpageHit {
    std::string ip;
    std::string url;
    int status = 0;
    const Fingerprint* fingerprint = nullptr;
};

struct Facts {
    std::string host;
    uint16_t port = 0;
    std::string protocol;
    bool needs_tcp = false, needs_tls = false, needs_http = false;  // needs_tcp: measures addresses (stun's over UDP)
    bool needs_app = false;          // an app-protocol target (SPEC §7): its exchange must reach a genuine server
    bool over_udp = false;           // stun: no TCP connection
    std::string started_at;

    // Control and canaries.
    bool control_requested = false;
    bool control_usable = false;
    bool control_unreachable = false;     // a control was asked and did not answer at all
    std::string control_unusable_reason;  // "" when no control was configured
    int canaries_total = 0, canaries_ok = 0;
    int targets_reached = -1;  // the run's non-canary targets reached here (-1: not counted)
    double canary_download_kbps = -1;     // the run's fastest complete canary download here, -1 when none

    // DNS.
    DnsSide dns_here;      // the app's resolver ("system"), or all resolvers when it was not asked
    DnsSide dns_control;
    bool dns_compared = false;            // both sides resolved
    bool dns_consistent = false;          // they share an address or a /24 (/48)
    bool http_same_as_control = false;    // an HTTP answer here is the control's page (status, body or title and length)
    std::vector<std::string> other_resolvers_ok;  // resolvers other than the app's that resolved
    // DNS over HTTPS (transport "doh"): the resolvers (a URL's host) whose
    // answers gave a bypass address that passed every step here, those
    // addresses ("IP:PORT"), and the resolvers that could not be used at all
    // (no DNS answer came back: "dns.example (generic_timeout_error)").
    std::vector<std::string> doh_resolvers_ok;
    std::vector<std::string> doh_worked;
    std::vector<std::string> doh_unusable;
    std::vector<Injection> injections;
    std::vector<DnsAnswerFlag> bogons;
    std::vector<DnsAnswerFlag> sinkholes;
    std::vector<PacketEvidence> dns_packet_ttls;  // captured DNS answers from one source with different TTLs

    // Per address, here and at the control.
    std::vector<AddressOutcome> here;
    std::vector<AddressOutcome> control;
    Step here_step = Step::passed;        // first failing step of the best app path
    Kind here_kind = Kind::ok;
    std::string here_failure;
    Step control_step = Step::passed;
    Kind control_kind = Kind::ok;
    std::string control_failure;
    bool bypass_works = false;            // an address not from the app's resolver passed every step

    // In-band evidence.
    std::vector<SniTest> sni_tests;
    std::vector<TransportTest> transport_tests;
    std::vector<CertIssue> cert_issues;
    std::vector<std::string> control_cert_sha256;
    std::vector<ForgedRst> forged_rsts;
    std::vector<BlockpageHit> blockpages;
    double throughput_here_kbps = -1, throughput_control_kbps = -1;
    // A download here that timed out part-way: what arrived, and its rate (-1 when none).
    double partial_here_kbps = -1, partial_here_ms = 0;
    // The download here that timed out longest silent after its handshake (stall_ms): how
    // long, after how many bytes of the answer (maybe 0), in a transfer of how long.
    double stall_here_ms = -1, stall_here_run_ms = 0;
    int64_t stall_here_bytes = 0;
    int64_t partial_here_bytes = 0;

    // Addresses whose connect timed out once and connected on its retry ("IP:PORT").
    std::vector<std::string> connect_retry_worked;

    // The probe's own first hop failed: every DNS query and every connection here
    // failed with network_unreachable (no route, interface down) and no canary worked.
    bool own_link_down = false;

    bool nothing_measured = false;
    std::string fingerprints_error;

    bool control_passed(Step s) const;           // the control got past step s
    bool control_failed_by(Step s) const;        // the control failed at s or before
    bool app_path_works() const;                 // every step passed, no download timed out after its handshake
    std::vector<const AddressOutcome*> failing_here() const;
};

Facts compute_facts(const Record& record, const FingerprintSet& fingerprints);

// One row of the rule table.
struct Rule {
    const char* name;
    VerdictStatus status;
    const char* method;       // nullptr for accessible, local_failure, inconclusive
    double base_confidence;
    bool in_band;             // proves by itself: stands without a control (with lower confidence)
    bool from_packets;        // decided by captured packets: their corroboration adds no confidence
    bool (*applies)(const Facts&);
    void (*explain)(const Facts&, std::vector<std::string>&);
    const char* summary;      // one line for docs and tests
};

const std::vector<Rule>& rules();

// The verdict with an explicit fingerprint set (decide_verdict uses the built-in one).
Verdict decide(const Record& record, const FingerprintSet& fingerprints);
// Name of the rule that decided (for tests); "" never happens: the last rule always applies.
std::string deciding_rule(const Record& record, const FingerprintSet& fingerprints);

}  // namespace meoktong::verdict
