// The verdict engine (SPEC §2, issues 4 and 5): an ordered table of rules over
// the facts of verdict_facts.cpp. The first rule that applies decides status,
// method and base confidence, and writes the evidence. docs/verdicts.md
// explains every rule, in this order.
#include "analysis/verdict/verdict.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "analysis/verdict/verdict_evidence.hpp"
#include "analysis/verdict/verdict_engine.hpp"

namespace meoktong::verdict {
namespace {

using Ev = std::vector<std::string>;

// ---- small predicates -------------------------------------------------------

bool here_at(const Facts& f, Step s) { return f.here_step == s && f.here_kind != Kind::not_measured; }
bool kind_in(Kind k, std::initializer_list<Kind> ks) { return std::find(ks.begin(), ks.end(), k) != ks.end(); }
bool here_is(const Facts& f, Step s, std::initializer_list<Kind> ks) { return here_at(f, s) && kind_in(f.here_kind, ks); }
bool canaries_fine(const Facts& f) { return f.canaries_ok > 0; }
// Every canary failed, and no other target of the run got through either: a
// lossy link can fail the one canary while the targets it should vouch for work.
bool all_canaries_down(const Facts& f) { return f.canaries_total > 0 && f.canaries_ok == 0 && f.targets_reached <= 0; }

// A target without TLS cannot authenticate its server, so a suspect DNS
// answer keeps it from being called accessible; an answer that merely differs
// from the control's is cleared when the page it led to is the control's page.
bool unverified_dns_suspect(const Facts& f) {
    if (f.needs_tls) return false;
    if (!f.injections.empty() || !f.bogons.empty() || !f.sinkholes.empty()) return true;
    return f.dns_compared && !f.dns_consistent && !f.http_same_as_control;
}

bool reached_past_handshake(const Facts& f) { return f.here_step > (f.needs_tls ? Step::tls : Step::tcp); }

const SniTest* sni_test(const Facts& f, std::initializer_list<Kind> target, bool neutral_completed) {
    for (const auto& t : f.sni_tests)
        if (kind_in(t.target_kind, target) && t.neutral_completed == neutral_completed) return &t;
    return nullptr;
}

// The SNI test on the address whose failure decided here_step, if any.
const SniTest* failing_both_ways(const Facts& f, std::initializer_list<Kind> kinds) {
    for (const auto& t : f.sni_tests)
        if (kind_in(t.target_kind, kinds) && !t.neutral_completed && kind_in(t.neutral_kind, kinds)) return &t;
    return nullptr;
}

// A reset compared with the server's SYN-ACK (compared) or, without one, with an unaged TTL.
const ForgedRst* forged_rst(const Facts& f, std::initializer_list<Step> steps, bool compared = true) {
    for (const auto& r : f.forged_rsts)
        if (std::find(steps.begin(), steps.end(), r.step) != steps.end() &&
            (r.packets.kind == "rst_ttl_mismatch") == compared)
            return &r;
    return nullptr;
}

const CertIssue* interception_cert(const Facts& f) {
    for (const auto& c : f.cert_issues)
        if (c.interception_ca) return &c;
    return nullptr;
}

const CertIssue* cert_issue(const Facts& f, std::initializer_list<Kind> ks, bool out_of_date_only) {
    for (const auto& c : f.cert_issues)
        if (kind_in(c.kind, ks) && (!out_of_date_only || c.out_of_date)) return &c;
    return nullptr;
}

// Throttling singles a destination out: a canary's download from here (the
// probe's own link, measured in the same run) must have run more than six times
// as fast. When it ran no faster than that, the own link explains the rate; when
// no canary download was measured, nothing shows the link could do better (a
// far, lossy vantage is slow to everything), so no throttling is claimed. In the
// lab a lossy link's flows differ up to 3.6-fold; a 2 Mbit/s throttle against a
// clean canary is 11-fold.
bool own_link_as_slow(const Facts& f, double here_kbps) {
    return f.canary_download_kbps >= 0 && f.canary_download_kbps <= 6 * here_kbps;
}
bool singled_out(const Facts& f, double here_kbps) { return f.canary_download_kbps > 6 * here_kbps; }

bool throttled(const Facts& f) {
    double here = f.throughput_here_kbps, ctl = f.throughput_control_kbps;
    return f.control_usable && here >= 0 && ctl > 0 && here <= 0.2 * ctl && here <= 4000 && reached_past_handshake(f) &&
           singled_out(f, here);
}

// A download that stopped dead (the TSPU-style stall: a flow cut silently after
// some kilobytes, no reset): it timed out here after its handshake and had been
// silent for at least 2 s and half its run when the deadline hit, while the
// control downloaded it completely. Over TLS the cut often comes before the
// first 16 kB record is whole, so no byte of the answer may have arrived. A
// throttled flow keeps trickling; a lossy link's retransmission back-off is
// shorter, and the canary check applies.
constexpr double kStallMs = 2000;
bool stalled(const Facts& f) {
    return f.control_usable && f.throughput_control_kbps > 0 && f.stall_here_ms >= kStallMs &&
           2 * f.stall_here_ms >= f.stall_here_run_ms && reached_past_handshake(f) &&
           singled_out(f, std::max(0.0, f.partial_here_kbps));
}

std::string stall_sentence(const Facts& f) {
    std::string after = f.stall_here_bytes > 0 ? "after " + std::to_string(f.stall_here_bytes) + " bytes of the answer"
                                               : "right after its handshake, before a byte of the answer";
    return "the download stopped dead here " + after + ": nothing more arrived in the last " + millis(f.stall_here_ms) +
           " before the deadline, and no reset came";
}

// A timed-out download here at most a tenth of the control's complete one.
bool throttled_partial(const Facts& f) {
    double here = f.partial_here_kbps, ctl = f.throughput_control_kbps;
    return f.control_usable && here >= 0 && ctl > 0 && here * 10 <= ctl && reached_past_handshake(f) && singled_out(f, here);
}

const CertIssue* blockpage_cert(const Facts& f) {
    for (const auto& c : f.cert_issues)
        if (c.blockpage_host) return &c;
    return nullptr;
}

// An app-path address DNS gave here, unlike the control's, turned out to be
// someone else: a wrong or untrusted certificate or a blockpage, where the
// control got past that step, and no address from elsewhere fared the same.
bool impostor_kind(Kind k) { return kind_in(k, {Kind::cert_authority, Kind::cert_hostname, Kind::blockpage}); }
bool dns_led_to_impostor(const Facts& f) {
    if (!f.dns_compared || f.dns_consistent || !impostor_kind(f.here_kind)) return false;
    if (!(here_at(f, Step::tls) || here_at(f, Step::http)) || !f.control_passed(f.here_step)) return false;
    return std::none_of(f.here.begin(), f.here.end(), [](const auto& a) { return !a.app_path && impostor_kind(a.kind); });
}

// ---- evidence ---------------------------------------------------------------

std::string kbps(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f kbit/s", v);
    return buf;
}

// A description without its final period, to sit inside a sentence.
std::string clause(std::string text) {
    if (!text.empty() && text.back() == '.') text.pop_back();
    return text;
}

std::string control_addresses_sentence(const Facts& f) {
    if (!f.control_usable || f.dns_control.addresses.empty()) return "";
    return "; the control resolved " + list_addresses(f.dns_control.addresses);
}

void explain_nothing(const Facts&, Ev& ev) { ev.push_back("nothing was measured for this target"); }

void explain_throttling(const Facts& f, Ev& ev) {
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.1f%%", 100.0 * f.throughput_here_kbps / f.throughput_control_kbps);
    ev.push_back("the download ran at " + kbps(f.throughput_here_kbps) + " here against " + kbps(f.throughput_control_kbps) +
                 " at the control (" + pct + "), while the " + (f.needs_tls ? "TLS handshake" : "connection") +
                 " itself succeeded");
}

void explain_stall(const Facts& f, Ev& ev) {
    ev.push_back(stall_sentence(f) + ", while the control downloaded it completely at " + kbps(f.throughput_control_kbps));
    ev.push_back(std::string("the ") + (f.needs_tls ? "TLS handshake" : "connection") +
                 " itself succeeded: the flow was cut silently once it had started, as a stalling middlebox does");
}

void explain_throttling_partial(const Facts& f, Ev& ev) {
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.1f%%", 100.0 * f.partial_here_kbps / f.throughput_control_kbps);
    ev.push_back("the download ran at " + kbps(f.partial_here_kbps) + " here and timed out after " + std::to_string(f.partial_here_bytes) +
                 " bytes in " + millis(f.partial_here_ms) + ", while the control downloaded it at " + kbps(f.throughput_control_kbps) +
                 " (" + pct + ")");
    ev.push_back(std::string("the ") + (f.needs_tls ? "TLS handshake" : "connection") +
                 " itself succeeded: the path works, at a tenth of the speed or less");
}

void explain_accessible(const Facts& f, Ev& ev) {
    std::vector<std::string> worked;
    for (const auto& a : f.here)
        if (a.app_path && a.failed_step == Step::passed) worked.push_back(endpoint(a.ip, a.port));
    std::string how = f.needs_http ? " (HTTP answer received" : f.needs_tls ? " (TLS handshake with a valid certificate" : " (TCP connection";
    how += f.needs_tls && f.needs_http ? " over TLS with a valid certificate)" : ")";
    for (const auto& a : f.here)
        if (f.needs_app && a.app_path && a.failed_step == Step::passed) how = " (a genuine answer to the " + a.exchange + ")";
    ev.push_back(f.host + " worked from here through " + list_addresses(worked) + how);
    std::vector<std::string> failed;
    for (const auto* a : f.failing_here()) failed.push_back(describe_outcome(*a, f.host));
    if (!failed.empty()) ev.push_back("failing addresses: " + join_words(failed));
    if (!f.connect_retry_worked.empty())
        ev.push_back("the first connection to " + join_words(f.connect_retry_worked) +
                     " timed out and its retry connected: packets lost on the path, not a blocked address");
    double here = f.throughput_here_kbps;
    if (here >= 0 && f.throughput_control_kbps > 0 && here <= 0.2 * f.throughput_control_kbps && own_link_as_slow(f, here))
        ev.push_back("the download ran at " + kbps(here) + " here against " + kbps(f.throughput_control_kbps) + " at the control, but a canary's ran at " +
                     kbps(f.canary_download_kbps) + ": the probe's own link is slow, this destination is not singled out");
    else if (here >= 0 && f.throughput_control_kbps > 0 && here <= 0.2 * f.throughput_control_kbps && f.canary_download_kbps < 0)
        ev.push_back("the download ran at " + kbps(here) + " here against " + kbps(f.throughput_control_kbps) +
                     " at the control, but no canary download measured the probe's own link: a slow link is slow to everything, so this is not called throttling");
    if (!f.needs_tls && f.dns_compared && !f.dns_consistent)
        ev.push_back("its DNS answer (" + list_addresses(f.dns_here.addresses) + ") differs from the control's (" +
                     list_addresses(f.dns_control.addresses) + "), but the page there is the control's page: another node of the same service");
}

void explain_injection(const Facts& f, Ev& ev) {
    const auto& i = f.injections.front();
    std::string ttl1 = i.first.ip_ttl >= 0 ? " (IP TTL " + std::to_string(i.first.ip_ttl) + ")" : "";
    std::string ttl2 = i.later.ip_ttl >= 0 ? " (IP TTL " + std::to_string(i.later.ip_ttl) + ")" : "";
    ev.push_back("two answers to one query (" + i.query_type + " " + f.host + ", " + resolver_name(i.resolver) + "): " +
                 answer_summary(i.first) + " first after " + millis(i.first_ms) + ttl1 + ", then " + answer_summary(i.later) +
                 " after " + millis(i.later_ms) + ttl2);
    ev.push_back("a resolver sends one answer per query; the first answer was injected on the path and is the one the operating system uses");
    if (f.control_usable && !f.dns_control.addresses.empty())
        ev.push_back("the control resolved " + list_addresses(f.dns_control.addresses));
}

void explain_sinkhole(const Facts& f, Ev& ev) {
    const auto& s = f.sinkholes.front();
    ev.push_back("the DNS answer " + s.value + " from " + resolver_name(s.resolver) + " matches the known blocking fingerprint " +
                 s.fingerprint->name + ": " + clause(s.fingerprint->description) + control_addresses_sentence(f));
}

void explain_bogon(const Facts& f, Ev& ev) {
    const auto& b = f.bogons.front();
    std::string article = std::string("aeiou").find(b.why[0]) != std::string::npos ? "an " : "a ";
    ev.push_back("the DNS answer " + b.value + " from " + resolver_name(b.resolver) + " is " + article + b.why +
                 " address, which no public service uses" + control_addresses_sentence(f));
}

void explain_blockpage(const Facts& f, Ev& ev) {
    const auto& b = f.blockpages.front();
    std::string from = b.ip.empty() ? b.url : endpoint(b.ip, 0) + " (" + b.url + ")";
    ev.push_back("the HTTP answer from " + from + " (status " + std::to_string(b.status) + ") matches the known blockpage fingerprint " +
                 b.fingerprint->name + ": " + clause(b.fingerprint->description));
    if (f.dns_compared && !f.dns_consistent)
        ev.push_back("the DNS answer " + list_addresses(f.dns_here.addresses) + " differs from the control's " +
                     list_addresses(f.dns_control.addresses) + ": DNS sent the request to the blockpage");
}

std::string blockpage_cert_sentence(const CertIssue& c, const std::string& host) {
    return "the certificate presented by " + endpoint(c.ip, c.port) + " for " + host + " is for " + c.blockpage_name +
           ", a known blockpage host (" + c.blockpage_host->name + ": " + clause(c.blockpage_host->description) + ")";
}

void explain_blockpage_cert(const Facts& f, Ev& ev) { ev.push_back(blockpage_cert_sentence(*blockpage_cert(f), f.host)); }

void explain_dns_impostor(const Facts& f, Ev& ev) {
    ev.push_back("the DNS answer " + list_addresses(f.dns_here.addresses) + " here shares no address or network with the control's " +
                 list_addresses(f.dns_control.addresses) + ", and the address it gave is not the service's:");
    if (const auto* c = blockpage_cert(f))
        ev.push_back(blockpage_cert_sentence(*c, f.host));
    else if (!f.blockpages.empty())
        explain_blockpage(f, ev);
    else
        ev.push_back(describe_here_failures(f));
    if (f.bypass_works) ev.push_back("the addresses resolved elsewhere work from here");
    ev.push_back(describe_control(f) + "; the first step that was tampered with is DNS, what followed is its consequence");
}

void explain_own_link_down(const Facts& f, Ev& ev) {
    ev.push_back(describe_here_failures(f));
    ev.push_back("every DNS query and every connection from here failed with network_unreachable: this machine has no route "
                 "(interface down or no default route), so nothing left it and nothing about the target can be concluded");
}

void explain_interception_ca(const Facts& f, Ev& ev) {
    const auto* c = interception_cert(f);
    ev.push_back("the certificate presented by " + endpoint(c->ip, c->port) + " for " + f.host + " was issued by \"" + c->issuer +
                 "\", a known interception authority (" + c->interception_ca->name + ": " + clause(c->interception_ca->description) + ")");
}

void explain_sni(const SniTest& t, const char* what, Ev& ev) {
    ev.push_back("TLS with SNI " + t.sni + " " + what + " by " + endpoint(t.ip, t.port) +
                 ", the same address completed a handshake with a neutral SNI (" + t.neutral_sni + ")");
}

void explain_sni_reset(const Facts& f, Ev& ev) {
    const auto* t = sni_test(f, {Kind::reset, Kind::eof}, true);
    explain_sni(*t, t->target_kind == Kind::reset ? "was reset" : "was cut off (connection closed)", ev);
}

void explain_sni_blackhole(const Facts& f, Ev& ev) {
    const auto* t = sni_test(f, {Kind::timeout}, true);
    ev.push_back("TLS with SNI " + t->sni + " to " + endpoint(t->ip, t->port) +
                 " timed out after the ClientHello, the same address completed a handshake with a neutral SNI (" + t->neutral_sni + ")");
}

void explain_transport_differential(const Facts& f, Ev& ev) {
    const auto& t = f.transport_tests.front();
    ev.push_back("the MTProto key exchange in the plain transport to " + endpoint(t.ip, t.port) + " " +
                 (t.plain_kind == Kind::reset ? "was reset" : t.plain_kind == Kind::timeout ? "went unanswered" : "failed (" + t.plain_failure + ")") +
                 ", while the same address answered it genuinely in the obfuscated transport: something on the path recognises the plain protocol");
    ev.push_back("Telegram's apps fall back to the obfuscated transport, so they may still connect");
}

// Why an answer that reports an error still came from the service's own server.
std::string genuine_error_reason(const std::string& protocol) {
    if (protocol == "loco")
        return "the answer to our packet id came inside a TLS session whose certificate verified for the host";
    if (protocol == "whatsapp") return "the ServerHello's certificate chain verified against WhatsApp's root key";
    if (protocol == "signal") return "the answer came inside a TLS session verified against Signal's own roots";
    return "the answer carries our transaction id";
}

void explain_app_error(const Facts& f, Ev& ev) {
    ev.push_back(describe_here_failures(f));
    ev.push_back(genuine_error_reason(f.protocol) + ": the service's own server answered, with an error");
}

void explain_forged_rst_tls(const Facts& f, Ev& ev) {
    ev.push_back(forged_rst(f, {Step::tls})->packets.sentence);
    ev.push_back("the reset cut the TLS handshake right after the ClientHello, which carries the SNI " + f.host);
}

void explain_forged_rst_tcp(const Facts& f, Ev& ev) { ev.push_back(forged_rst(f, {Step::tcp, Step::http})->packets.sentence); }

void explain_unaged_rst_tls(const Facts& f, Ev& ev) {
    ev.push_back(forged_rst(f, {Step::tls}, false)->packets.sentence);
    ev.push_back("the reset cut the TLS handshake right after the ClientHello, which carries the SNI " + f.host);
}

void explain_unaged_rst_tcp(const Facts& f, Ev& ev) {
    ev.push_back(forged_rst(f, {Step::tcp, Step::http}, false)->packets.sentence);
}

// The reset that cut an app protocol's first exchange (MTProto's req_pq_multi)
// after TCP connected: a DPI box that lets the handshake through and kills the
// first application bytes, told by the reset's TTL (compared with the SYN-ACK's, or unaged).
void explain_rst_in_app(const Facts& f, Ev& ev, bool compared) {
    const ForgedRst* rst = forged_rst(f, {Step::app}, compared);
    ev.push_back(rst->packets.sentence);
    ev.push_back("the reset cut the app protocol's first exchange with " + rst->packets.src + " after TCP had connected");
}
void explain_forged_rst_app(const Facts& f, Ev& ev) { explain_rst_in_app(f, ev, true); }
void explain_unaged_rst_app(const Facts& f, Ev& ev) { explain_rst_in_app(f, ev, false); }

const CertIssue* untrusted_cert_from_segment(const Facts& f) {
    for (const auto& c : f.cert_issues)
        if ((c.kind == Kind::cert_authority || c.kind == Kind::cert_hostname) && c.unaged_synack) return &c;
    return nullptr;
}

void explain_unaged_synack(const Facts& f, Ev& ev) {
    const auto* c = untrusted_cert_from_segment(f);
    std::string what = c->kind == Kind::cert_hostname ? "a certificate for another name" : "a certificate from an unknown authority";
    std::string issuer = c->issuer.empty() ? "" : " issued by \"" + c->issuer + "\"";
    ev.push_back(endpoint(c->ip, c->port) + " presented " + what + issuer + " for " + f.host);
    ev.push_back(c->unaged_synack->sentence + " and intercepted the TLS connection");
}

void explain_local_failure(const Facts& f, Ev& ev) {
    ev.push_back("none of the " + std::to_string(f.canaries_total) + " canary hosts (unrelated, reliable sites) was reachable from here");
    ev.push_back(describe_here_failures(f));
}

void explain_here_vs_control(const Facts& f, Ev& ev) {
    ev.push_back(describe_here_failures(f));
    ev.push_back(describe_control(f));
}

void explain_dns_differs(const Facts& f, Ev& ev) {
    ev.push_back("the DNS answer " + list_addresses(f.dns_here.addresses) + " here shares no address or network with the control's " +
                 list_addresses(f.dns_control.addresses));
    if (f.here_step != Step::passed) ev.push_back(describe_here_failures(f));
    if (f.bypass_works) ev.push_back("the addresses resolved elsewhere work from here");
    if (!f.needs_tls)
        ev.push_back("without TLS nothing proves which answer is genuine; a provider may also answer differently per region");
}

void explain_dns_bypass(const Facts& f, Ev& ev) {
    ev.push_back(describe_here_failures(f));
    std::vector<std::string> worked;
    for (const auto& a : f.here)
        if (!a.app_path && a.failed_step == Step::passed) worked.push_back(endpoint(a.ip, a.port));
    std::vector<std::string> resolvers;
    for (const auto& r : f.other_resolvers_ok) resolvers.push_back(resolver_name(r));
    std::string who = resolvers.empty() ? "other sources" : join_words(resolvers);
    ev.push_back("addresses from " + who + " work from here: " + list_addresses(worked));
    ev.push_back("canary hosts resolved through the same resolver, so it works for other names");
}

void explain_doh_differential(const Facts& f, Ev& ev) {
    ev.push_back(describe_here_failures(f) + " at the system resolver");
    ev.push_back("the DNS-over-HTTPS resolver " + join_words(f.doh_resolvers_ok) + " resolved " + f.host +
                 ", and its addresses work from here: " + list_addresses(f.doh_worked));
    ev.push_back("the system resolver denies a name that exists and is reachable: DNS tampering, proven here without a control");
}

void explain_tls_mitm(const Facts& f, Ev& ev) {
    const auto* c = cert_issue(f, {Kind::cert_authority, Kind::cert_hostname}, false);
    std::string issuer = c && !c->issuer.empty() ? " issued by \"" + c->issuer + "\"" : "";
    std::string what = c && c->kind == Kind::cert_hostname ? "a certificate for another name" : "a certificate from an unknown authority";
    if (c) ev.push_back(endpoint(c->ip, c->port) + " presented " + what + issuer + " here");
    ev.push_back(describe_control(f) + " with a valid certificate");
    if (c && !c->sha256.empty() && !f.control_cert_sha256.empty() &&
        std::find(f.control_cert_sha256.begin(), f.control_cert_sha256.end(), c->sha256) == f.control_cert_sha256.end())
        ev.push_back("the certificate seen here (SHA-256 " + c->sha256.substr(0, 16) + "...) is not the one the control received");
}

void explain_tls_any_sni(const Facts& f, Ev& ev) {
    ev.push_back(describe_here_failures(f));
    const auto* t = failing_both_ways(f, {Kind::reset, Kind::eof, Kind::timeout});
    if (t) ev.push_back("a neutral SNI (" + t->neutral_sni + ") failed the same way at " + endpoint(t->ip, t->port) + ": this is not SNI filtering");
    ev.push_back(describe_control(f));
}

void explain_tls_sni_here_only(const Facts& f, Ev& ev) {
    ev.push_back(describe_here_failures(f) + ", right after the ClientHello that carries the SNI");
    ev.push_back(describe_control(f));
}

void explain_expired(const Facts& f, Ev& ev) {
    const auto* c = cert_issue(f, {Kind::cert_invalid}, true);
    ev.push_back("the certificate of " + endpoint(c->ip, c->port) + " for " + f.host + " (issued by \"" + c->issuer + "\") is valid from " +
                 c->not_before + " to " + c->not_after + ", not at the time of the measurement (" + f.started_at +
                 "): an out-of-date certificate is the operator's fault, an interceptor would not present one signed by a trusted authority");
}

void explain_server_error(const Facts& f, Ev& ev) {
    ev.push_back(describe_here_failures(f) + ", from a server that proved its identity with a valid certificate for " + f.host);
}

void explain_dns_resolved(const Facts& f, Ev& ev) {
    ev.push_back(f.host + " resolved to " + list_addresses(f.dns_here.addresses) + ", with no sign of tampering");
    if (f.dns_compared) ev.push_back("the control resolved " + list_addresses(f.dns_control.addresses));
}

// A download that timed out part-way, when no rule could judge it: its rate or its
// silence, and what the canaries said of the probe's own link.
void explain_partial_download(const Facts& f, Ev& ev) {
    bool stall = f.stall_here_ms >= kStallMs;
    if (f.partial_here_kbps < 0 && !stall) return;
    if (own_link_as_slow(f, std::max(0.0, f.partial_here_kbps)))
        ev.push_back("a canary's download ran at " + kbps(f.canary_download_kbps) + ": the probe's own link is slow");
    else if (f.canary_download_kbps < 0)
        ev.push_back("no canary download measured the probe's own link");
    if (stall)
        ev.push_back(stall_sentence(f) + ": a hung server and a stalling middlebox look the same from here");
    else
        ev.push_back("the download ran at " + kbps(f.partial_here_kbps) + " and timed out after " + std::to_string(f.partial_here_bytes) +
                     " bytes: a slow server and a throttled path look the same from here");
}

void explain_undecided(const Facts& f, Ev& ev) {
    ev.push_back(describe_here_failures(f));
    if (f.control_usable) {
        ev.push_back(describe_control(f));
        explain_partial_download(f, ev);
        return;
    }
    const auto* both = failing_both_ways(f, {Kind::reset, Kind::eof, Kind::timeout});
    if (both) ev.push_back("a neutral SNI (" + both->neutral_sni + ") failed the same way: this is not SNI filtering");
    if (const auto* c = cert_issue(f, {Kind::cert_authority}, false); c && !c->issuer.empty())
        ev.push_back("the certificate was issued by \"" + c->issuer + "\", which is not a known interception authority");
    explain_partial_download(f, ev);
    ev.push_back("such a failure can come from the service or from the network; only a control measurement can tell");
}

// ---- the table --------------------------------------------------------------
// {name, status, method, base confidence, in-band, from packets, applies, explain, summary}

const std::vector<Rule> kRules = {
    {"nothing_measured", VerdictStatus::inconclusive, nullptr, 0.0, false, false,
     [](const Facts& f) { return f.nothing_measured; }, explain_nothing,
     "the record holds no observation"},
    {"throttling", VerdictStatus::blocked, "throttling", 0.7, false, false, throttled, explain_throttling,
     "download at most 20% of the control's and at most 4000 kbit/s, handshake fine"},
    {"download_stall", VerdictStatus::blocked, "stall", 0.7, false, false, stalled, explain_stall,
     "download stopped dead here after some bytes (silent for 2 s and half its run), complete at the control"},
    {"throttling_partial_download", VerdictStatus::blocked, "throttling", 0.7, false, false, throttled_partial,
     explain_throttling_partial, "download timed out here at a tenth of the control's rate or less, handshake fine"},
    {"accessible_all_addresses", VerdictStatus::accessible, nullptr, 0.95, false, false,
     [](const Facts& f) { return f.needs_tcp && f.app_path_works() && f.failing_here().empty() && !unverified_dns_suspect(f); },
     explain_accessible, "every address the app would use completed every step"},
    {"accessible_some_addresses", VerdictStatus::accessible, nullptr, 0.85, false, false,
     [](const Facts& f) { return f.needs_tcp && f.app_path_works() && !unverified_dns_suspect(f); }, explain_accessible,
     "at least one address the app would use completed every step; the failing ones are listed"},
    {"dns_injection", VerdictStatus::blocked, "dns_injection", 0.9, true, false,
     [](const Facts& f) { return !f.injections.empty(); }, explain_injection,
     "two different answers to one query, the first faster, with a different IP TTL, or flagged"},
    {"dns_sinkhole_fingerprint", VerdictStatus::blocked, "dns_tampering", 0.9, true, false,
     [](const Facts& f) { return !f.sinkholes.empty(); }, explain_sinkhole,
     "a DNS answer is a known blocking address or name (testlists/blockpages.json)"},
    {"dns_bogon_answer", VerdictStatus::blocked, "dns_tampering", 0.85, true, false,
     [](const Facts& f) { return !f.bogons.empty(); }, explain_bogon,
     "a DNS answer is a private, loopback or reserved address (and the control's is not)"},
    {"dns_differs_to_impostor", VerdictStatus::blocked, "dns_tampering", 0.9, false, false, dns_led_to_impostor, explain_dns_impostor,
     "answers share nothing with the control's and lead to a wrong certificate or a blockpage; the control's pass"},
    {"http_blockpage", VerdictStatus::blocked, "http_blockpage", 0.9, true, false,
     [](const Facts& f) { return !f.blockpages.empty(); }, explain_blockpage,
     "an HTTP answer matches a known blockpage fingerprint the control did not get"},
    {"tls_blockpage_certificate", VerdictStatus::blocked, "http_blockpage", 0.85, true, false,
     [](const Facts& f) { return blockpage_cert(f) != nullptr; }, explain_blockpage_cert,
     "the certificate that did not verify is for a known blockpage host (subject CN or SAN)"},
    {"tls_interception_ca", VerdictStatus::blocked, "tls_mitm", 0.9, true, false,
     [](const Facts& f) { return interception_cert(f) != nullptr; }, explain_interception_ca,
     "the certificate was issued by a known interception CA"},
    {"tls_sni_reset_differential", VerdictStatus::blocked, "tls_sni_reset", 0.9, true, false,
     [](const Facts& f) { return sni_test(f, {Kind::reset, Kind::eof}, true) != nullptr; }, explain_sni_reset,
     "target SNI reset/closed, neutral SNI completed, same address"},
    {"tls_sni_blackhole_differential", VerdictStatus::blocked, "tls_sni_blackhole", 0.85, true, false,
     [](const Facts& f) { return sni_test(f, {Kind::timeout}, true) != nullptr; }, explain_sni_blackhole,
     "target SNI timed out, neutral SNI completed, same address"},
    {"forged_rst_in_tls", VerdictStatus::blocked, "tls_sni_reset", 0.8, true, true,
     [](const Facts& f) { return forged_rst(f, {Step::tls}) != nullptr; }, explain_forged_rst_tls,
     "the reset that cut the TLS handshake has another IP TTL than the server's SYN-ACK"},
    {"forged_rst_in_tcp", VerdictStatus::blocked, "tcp_reset", 0.8, true, true,
     [](const Facts& f) { return forged_rst(f, {Step::tcp, Step::http}) != nullptr; }, explain_forged_rst_tcp,
     "the reset that cut the connection has another IP TTL than the server's SYN-ACK"},
    {"unaged_rst_in_tls", VerdictStatus::blocked, "tls_sni_reset", 0.75, true, true,
     [](const Facts& f) { return forged_rst(f, {Step::tls}, false) != nullptr; }, explain_unaged_rst_tls,
     "no SYN-ACK to compare; the reset that cut the TLS handshake arrived with an initial TTL (64/128/255)"},
    {"unaged_rst_in_tcp", VerdictStatus::blocked, "tcp_reset", 0.75, true, true,
     [](const Facts& f) { return forged_rst(f, {Step::tcp, Step::http}, false) != nullptr; }, explain_unaged_rst_tcp,
     "no SYN-ACK to compare; the reset that refused or cut the connection arrived with an initial TTL (64/128/255)"},
    {"unaged_synack_untrusted_certificate", VerdictStatus::blocked, "tls_mitm", 0.75, true, false,
     [](const Facts& f) { return untrusted_cert_from_segment(f) != nullptr; }, explain_unaged_synack,
     "the address that presented an unverifiable certificate answered the SYN with an initial TTL (64/128/255)"},
    {"local_failure_own_link_down", VerdictStatus::local_failure, nullptr, 0.9, true, false,
     [](const Facts& f) { return f.own_link_down; }, explain_own_link_down,
     "every DNS query and connection here failed with network_unreachable; no canary worked"},
    {"local_failure_control_unreachable", VerdictStatus::local_failure, nullptr, 0.9, false, false,
     [](const Facts& f) { return all_canaries_down(f) && f.control_unreachable; }, explain_local_failure,
     "every canary failed, no other target got through, and the control could not be reached"},
    {"local_failure_no_control", VerdictStatus::local_failure, nullptr, 0.65, false, false,
     [](const Facts& f) { return all_canaries_down(f) && !f.control_usable && !f.control_requested; }, explain_local_failure,
     "every canary failed and no other target got through; no control was configured"},
    {"dns_doh_differential", VerdictStatus::blocked, "dns_tampering", 0.85, true, false,
     [](const Facts& f) { return here_is(f, Step::dns, {Kind::nxdomain, Kind::no_answer}) && !f.doh_worked.empty(); },
     explain_doh_differential, "NXDOMAIN or no address from the system resolver; a DoH answer's address works here"},
    {"dns_differs_from_control", VerdictStatus::blocked, "dns_tampering", 0.85, false, false,
     [](const Facts& f) {
         return f.needs_tls && f.dns_compared && !f.dns_consistent && f.here_step != Step::passed && f.control_passed(f.here_step);
     },
     explain_dns_differs, "answers share no address or /24 with the control's and fail TLS here; the control's work"},
    {"dns_differs_from_control_unverified", VerdictStatus::blocked, "dns_tampering", 0.55, false, false,
     [](const Facts& f) { return !f.needs_tls && f.dns_compared && !f.dns_consistent; }, explain_dns_differs,
     "answers share no address or /24 with the control's; no TLS to verify either"},
    {"dns_nxdomain_here_only", VerdictStatus::blocked, "dns_nxdomain", 0.85, false, false,
     [](const Facts& f) { return here_is(f, Step::dns, {Kind::nxdomain}) && f.control_passed(Step::dns); },
     explain_here_vs_control, "NXDOMAIN here, the control resolved the name"},
    {"dns_timeout_here_only", VerdictStatus::blocked, "dns_blackhole", 0.8, false, false,
     [](const Facts& f) { return here_is(f, Step::dns, {Kind::timeout}) && f.control_passed(Step::dns); },
     explain_here_vs_control, "no DNS answer here, the control resolved the name"},
    {"dns_error_here_only", VerdictStatus::blocked, "dns_tampering", 0.65, false, false,
     [](const Facts& f) { return here_at(f, Step::dns) && f.control_passed(Step::dns); }, explain_here_vs_control,
     "SERVFAIL, REFUSED or no address here, the control resolved the name"},
    {"dns_nxdomain_everywhere", VerdictStatus::provider_down, "dns_nxdomain", 0.85, false, false,
     [](const Facts& f) {
         return here_is(f, Step::dns, {Kind::nxdomain}) && f.control_step == Step::dns && f.control_kind == Kind::nxdomain;
     },
     explain_here_vs_control, "NXDOMAIN here and at the control"},
    {"dns_fails_everywhere", VerdictStatus::provider_down, "dns_servfail", 0.75, false, false,
     [](const Facts& f) { return here_at(f, Step::dns) && f.control_failed_by(Step::dns); }, explain_here_vs_control,
     "the name does not resolve here nor at the control"},
    {"dns_nxdomain_resolver_differential", VerdictStatus::blocked, "dns_nxdomain", 0.75, true, false,
     [](const Facts& f) { return here_is(f, Step::dns, {Kind::nxdomain}) && f.bypass_works && canaries_fine(f); },
     explain_dns_bypass, "NXDOMAIN from the system resolver; addresses from other resolvers work here; canaries fine"},
    {"dns_blackhole_resolver_differential", VerdictStatus::blocked, "dns_blackhole", 0.7, true, false,
     [](const Facts& f) { return here_is(f, Step::dns, {Kind::timeout}) && f.bypass_works && canaries_fine(f); },
     explain_dns_bypass, "no answer from the system resolver; addresses from other resolvers work here; canaries fine"},
    {"dns_error_resolver_differential", VerdictStatus::blocked, "dns_tampering", 0.7, true, false,
     [](const Facts& f) { return here_at(f, Step::dns) && f.bypass_works && canaries_fine(f); }, explain_dns_bypass,
     "SERVFAIL/REFUSED/no address from the system resolver; other resolvers' addresses work here; canaries fine"},
    {"tcp_reset_here_only", VerdictStatus::blocked, "tcp_reset", 0.85, false, false,
     [](const Facts& f) { return here_is(f, Step::tcp, {Kind::reset, Kind::refused}) && f.control_passed(Step::tcp); },
     explain_here_vs_control, "connection reset or refused here, the control connected"},
    {"tcp_blackhole_here_only", VerdictStatus::blocked, "tcp_blackhole", 0.8, false, false,
     [](const Facts& f) { return here_is(f, Step::tcp, {Kind::timeout, Kind::unreachable}) && f.control_passed(Step::tcp); },
     explain_here_vs_control, "connection timed out or unreachable here, the control connected"},
    {"tcp_refused_everywhere", VerdictStatus::provider_down, "tcp_refused", 0.85, false, false,
     [](const Facts& f) { return here_at(f, Step::tcp) && f.control_failed_by(Step::tcp) && f.control_kind == Kind::refused; },
     explain_here_vs_control, "connections fail here and are refused at the control"},
    {"tcp_fails_everywhere", VerdictStatus::provider_down, "tcp_timeout", 0.8, false, false,
     [](const Facts& f) { return here_at(f, Step::tcp) && f.control_failed_by(Step::tcp); }, explain_here_vs_control,
     "connections fail here and at the control"},
    {"tls_mitm_here_only", VerdictStatus::blocked, "tls_mitm", 0.85, false, false,
     [](const Facts& f) {
         return here_is(f, Step::tls, {Kind::cert_authority, Kind::cert_hostname}) && f.control_passed(Step::tls);
     },
     explain_tls_mitm, "untrusted or wrong-name certificate here, valid at the control"},
    {"tls_reset_any_sni_here_only", VerdictStatus::blocked, "tcp_reset", 0.7, false, false,
     [](const Facts& f) {
         return here_is(f, Step::tls, {Kind::reset, Kind::eof}) && f.control_passed(Step::tls) &&
                failing_both_ways(f, {Kind::reset, Kind::eof}) != nullptr;
     },
     explain_tls_any_sni, "TLS reset here whatever the SNI, the control completed it"},
    {"tls_sni_reset_here_only", VerdictStatus::blocked, "tls_sni_reset", 0.8, false, false,
     [](const Facts& f) { return here_is(f, Step::tls, {Kind::reset, Kind::eof}) && f.control_passed(Step::tls); },
     explain_tls_sni_here_only, "TLS reset here after the ClientHello, the control completed it"},
    {"tls_blackhole_any_sni_here_only", VerdictStatus::blocked, "tcp_blackhole", 0.65, false, false,
     [](const Facts& f) {
         return here_is(f, Step::tls, {Kind::timeout}) && f.control_passed(Step::tls) &&
                failing_both_ways(f, {Kind::timeout}) != nullptr;
     },
     explain_tls_any_sni, "TLS times out here whatever the SNI, the control completed it"},
    {"tls_sni_blackhole_here_only", VerdictStatus::blocked, "tls_sni_blackhole", 0.75, false, false,
     [](const Facts& f) { return here_is(f, Step::tls, {Kind::timeout}) && f.control_passed(Step::tls); },
     explain_tls_sni_here_only, "TLS times out here after the ClientHello, the control completed it"},
    {"tls_fails_everywhere", VerdictStatus::provider_down, "tls_failure", 0.85, false, false,
     [](const Facts& f) { return here_at(f, Step::tls) && f.control_failed_by(Step::tls); }, explain_here_vs_control,
     "TLS fails here and at the control"},
    {"http_fails_everywhere", VerdictStatus::provider_down, "http_error", 0.85, false, false,
     [](const Facts& f) { return here_at(f, Step::http) && f.control_failed_by(Step::http); }, explain_here_vs_control,
     "HTTP fails or answers 5xx here and at the control"},
    {"http_reset_here_only", VerdictStatus::blocked, "tcp_reset", 0.7, false, false,
     [](const Facts& f) { return !f.needs_tls && here_is(f, Step::http, {Kind::reset, Kind::eof}) && f.control_passed(Step::http); },
     explain_here_vs_control, "plain-HTTP request reset here, answered at the control"},
    {"http_blackhole_here_only", VerdictStatus::blocked, "tcp_blackhole", 0.65, false, false,
     [](const Facts& f) { return !f.needs_tls && here_is(f, Step::http, {Kind::timeout}) && f.control_passed(Step::http); },
     explain_here_vs_control, "plain-HTTP request unanswered here, answered at the control"},
    {"tls_out_of_date_certificate", VerdictStatus::provider_down, "tls_failure", 0.7, true, false,
     [](const Facts& f) { return here_is(f, Step::tls, {Kind::cert_invalid}) && cert_issue(f, {Kind::cert_invalid}, true); },
     explain_expired, "the server's certificate is expired or not yet valid"},
    {"https_server_error", VerdictStatus::provider_down, "http_error", 0.75, true, false,
     [](const Facts& f) { return f.needs_tls && here_is(f, Step::http, {Kind::http_5xx}); }, explain_server_error,
     "HTTP 5xx from a server authenticated by a valid certificate"},
    {"app_transport_differential", VerdictStatus::blocked, "app_tampering", 0.85, true, false,
     [](const Facts& f) { return here_at(f, Step::app) && !f.transport_tests.empty(); }, explain_transport_differential,
     "MTProto's plain transport fails where the obfuscated one reaches a genuine server, same address"},
    {"forged_rst_in_app", VerdictStatus::blocked, "app_reset", 0.8, true, true,
     [](const Facts& f) { return forged_rst(f, {Step::app}) != nullptr; }, explain_forged_rst_app,
     "the reset that cut the app exchange has another IP TTL than the server's SYN-ACK"},
    {"unaged_rst_in_app", VerdictStatus::blocked, "app_reset", 0.75, true, true,
     [](const Facts& f) { return forged_rst(f, {Step::app}, false) != nullptr; }, explain_unaged_rst_app,
     "no SYN-ACK to compare; the reset that cut the app exchange arrived with an initial TTL (64/128/255)"},
    {"app_reset_here_only", VerdictStatus::blocked, "app_reset", 0.8, false, false,
     [](const Facts& f) { return here_is(f, Step::app, {Kind::reset, Kind::eof}) && f.control_passed(Step::app); },
     explain_here_vs_control, "the app exchange is reset or cut off here, genuine at the control"},
    {"app_blackhole_here_only", VerdictStatus::blocked, "app_blackhole", 0.75, false, false,
     [](const Facts& f) { return !f.over_udp && here_is(f, Step::app, {Kind::timeout}) && f.control_passed(Step::app); },
     explain_here_vs_control, "the app exchange goes unanswered after TCP connected here, genuine at the control"},
    {"udp_blackhole_here_only", VerdictStatus::blocked, "udp_blackhole", 0.75, false, false,
     [](const Facts& f) {
         return f.over_udp && here_is(f, Step::app, {Kind::timeout, Kind::refused, Kind::unreachable}) && f.control_passed(Step::app);
     },
     explain_here_vs_control, "the UDP exchange (STUN) goes unanswered here, genuine at the control"},
    {"app_tampering_here_only", VerdictStatus::blocked, "app_tampering", 0.8, false, false,
     [](const Facts& f) { return here_is(f, Step::app, {Kind::unexpected_reply, Kind::not_genuine}) && f.control_passed(Step::app); },
     explain_here_vs_control, "the app exchange gets an answer that is not a genuine server's here, genuine at the control"},
    {"app_fails_everywhere", VerdictStatus::provider_down, "app_error", 0.75, false, false,
     [](const Facts& f) { return here_at(f, Step::app) && f.control_usable && f.control_step == Step::app && f.control_kind != Kind::not_measured; },
     explain_here_vs_control, "the app exchange fails here and at the control, where the connection worked"},
    {"app_error_genuine_server", VerdictStatus::provider_down, "app_error", 0.7, true, false,
     [](const Facts& f) { return here_is(f, Step::app, {Kind::app_error}); }, explain_app_error,
     "the service's own server answers the app exchange with an error"},
    {"dns_resolved", VerdictStatus::accessible, nullptr, 0.9, true, false,
     [](const Facts& f) { return !f.needs_tcp && f.here_step == Step::passed; }, explain_dns_resolved,
     "DNS target: public answers, no injection, sinkhole, bogon or control mismatch"},
    {"undecided", VerdictStatus::inconclusive, nullptr, 0.0, false, false, [](const Facts&) { return true; }, explain_undecided,
     "nothing above applies: the evidence does not decide"},
};

// ---- confidence and common evidence ------------------------------------------

// A confidence clamped to [0.05, 0.99] and rounded to 0.01, as every verdict carries it.
double bounded_confidence(double c) { return std::round(std::clamp(c, 0.05, 0.99) * 100) / 100; }

double confidence_for(const Rule& rule, const Facts& f) {
    VerdictStatus status = rule.status;
    if (status == VerdictStatus::inconclusive) return 0.0;
    double c = rule.base_confidence;
    bool judged = status == VerdictStatus::blocked || status == VerdictStatus::provider_down;
    if (rule.in_band && !f.control_usable) c -= 0.1;
    if (rule.in_band && f.control_usable && status == VerdictStatus::blocked && f.control_passed(f.here_step)) c += 0.05;
    if (status == VerdictStatus::blocked && !rule.from_packets && (!f.forged_rsts.empty() || !f.dns_packet_ttls.empty())) c += 0.05;
    if (judged && f.canaries_total > 0 && f.canaries_ok < f.canaries_total) c -= 0.1;
    return bounded_confidence(c);
}

void common_evidence(const Rule& rule, const Facts& f, Ev& ev) {
    VerdictStatus status = rule.status;
    if (status != VerdictStatus::accessible && !f.control_usable) {
        std::string why = f.control_unusable_reason.empty() ? "" : " (" + f.control_unusable_reason + ")";
        ev.push_back("no control vantage was available" + why);
    }
    if (status != VerdictStatus::local_failure && f.canaries_total > 0 && f.canaries_ok < f.canaries_total)
        ev.push_back(std::to_string(f.canaries_ok) + " of " + std::to_string(f.canaries_total) + " canary hosts were reachable from here");
    if (!f.dns_packet_ttls.empty() && status == VerdictStatus::blocked) ev.push_back(f.dns_packet_ttls.front().sentence);
    for (const auto& u : f.doh_unusable)
        ev.push_back("the DNS-over-HTTPS resolver " + u + " gave no DNS answer here; that says nothing about " + f.host);
    if (!f.fingerprints_error.empty()) ev.push_back("blockpage fingerprints were not available: " + f.fingerprints_error);
}

const Rule& first_rule(const Facts& f) {
    for (const auto& r : kRules)
        if (r.applies(f)) return r;
    return kRules.back();
}

std::string verdict_words(const Verdict& v) {
    return std::string(verdict_status_name(v.status)) + (v.method ? "/" + *v.method : "");
}

// Whether an earlier try accused the other side than `status` (blocked against provider_down).
bool accused_the_other_side(const Record& record, VerdictStatus status) {
    auto other = status == VerdictStatus::blocked         ? VerdictStatus::provider_down
                 : status == VerdictStatus::provider_down ? VerdictStatus::blocked
                                                          : status;
    return other != status && std::any_of(record.earlier_tries.begin(), record.earlier_tries.end(),
                                          [&](const EarlierTry& t) { return t.verdict.status == other; });
}

// The retest (issue 16): the record's observations are its last try; the
// runner retests a target whose first try came out blocked or provider_down.
// The verdict is the last try's, since a censor or a dead server fails every
// try while a lossy link or a passing fault does not; the earlier tries are
// cited, and a verdict the tries disagree on is held with less confidence.
void weigh_earlier_tries(const Record& record, Verdict& v) {
    if (record.earlier_tries.empty()) return;
    std::string tries = std::to_string(record.tries);
    bool all_agree = true;
    for (size_t i = 0; i < record.earlier_tries.size(); ++i) {
        const Verdict& earlier = record.earlier_tries[i].verdict;
        bool agrees = earlier.status == v.status && earlier.method == v.method;
        all_agree = all_agree && agrees;
        std::string why = earlier.evidence.empty() ? "" : ": " + earlier.evidence.front();
        v.evidence.push_back("try " + std::to_string(i + 1) + " of " + tries + " (" + record.earlier_tries[i].started_at +
                             ") came out " + verdict_words(earlier) + why);
    }
    if (all_agree) {
        v.evidence.push_back("the retest came out the same: " + verdict_words(v) + " on all " + tries + " tries");
        return;
    }
    if (v.status == VerdictStatus::accessible) {
        v.evidence.push_back("the retest completed every step, so the earlier failure was transient (a lossy link, a "
                             "passing fault) and is not counted as blocking");
    } else if (accused_the_other_side(record, v.status)) {
        // The same failure here, but the control's view changed between the tries (its own
        // network flapped, or the provider failed or recovered meanwhile): neither side is proven.
        v.status = VerdictStatus::inconclusive;
        v.method.reset();
        v.confidence = 0;
        v.evidence.push_back("one try came out blocked and another provider_down: the tries contradict each other, so "
                             "neither is published");
        return;
    } else {
        v.evidence.push_back("the tries disagree; this verdict is the last try's");
    }
    if (v.status != VerdictStatus::inconclusive) v.confidence = bounded_confidence(v.confidence - 0.1);
}

Verdict decide_with(const Record& record, const FingerprintSet& fps, const std::string& fps_error) {
    Facts f = compute_facts(record, fps);
    f.fingerprints_error = fps_error;
    const Rule& rule = first_rule(f);
    Verdict v;
    v.status = rule.status;
    if (rule.method) v.method = rule.method;
    rule.explain(f, v.evidence);
    common_evidence(rule, f, v.evidence);
    v.confidence = confidence_for(rule, f);
    weigh_earlier_tries(record, v);
    if (!record.target.discovered_from.empty())
        v.evidence.push_back("this endpoint was not listed: the genuine answer of " + record.target.discovered_from +
                             " named it, so the run measured it too");
    return v;
}

}  // namespace

const std::vector<Rule>& rules() { return kRules; }

Verdict decide(const Record& record, const FingerprintSet& fingerprints) { return decide_with(record, fingerprints, ""); }

std::string deciding_rule(const Record& record, const FingerprintSet& fingerprints) {
    return first_rule(compute_facts(record, fingerprints)).name;
}

}  // namespace meoktong::verdict

namespace meoktong {

Verdict decide_verdict(const Record& record) {
    return verdict::decide_with(record, builtin_fingerprints(), builtin_fingerprints_error());
}

}  // namespace meoktong
