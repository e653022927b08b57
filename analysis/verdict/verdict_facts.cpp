// The verdict engine's first pass: turns a record into Facts — per step, what
// happened here and at the control, and every piece of in-band evidence
// (injected DNS answers, bogons, sinkholes, SNI differential, certificates,
// forged resets and other packet evidence from packet_evidence.hpp,
// blockpages, throughput, a partial download), and whether the probe's own
// link was down. Pure.
#include <algorithm>
#include <map>
#include <set>

#include "meoktong/failure.hpp"
#include "meoktong/ipaddr.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "analysis/verdict/verdict_engine.hpp"
#include "analysis/verdict/verdict_evidence.hpp"

namespace meoktong::verdict {
namespace {

Kind classify(const std::string& f) {
    namespace fl = failure;
    static const std::map<std::string, Kind> kinds = {
        {fl::kConnectionReset, Kind::reset},          {fl::kConnectionRefused, Kind::refused},
        {fl::kTimeout, Kind::timeout},                {fl::kHostUnreachable, Kind::unreachable},
        {fl::kNetworkUnreachable, Kind::unreachable}, {fl::kEof, Kind::eof},
        {fl::kSslUnknownAuthority, Kind::cert_authority}, {fl::kSslInvalidHostname, Kind::cert_hostname},
        {fl::kSslInvalidCertificate, Kind::cert_invalid}, {fl::kSslFailedHandshake, Kind::handshake},
        {fl::kDnsNxdomain, Kind::nxdomain},           {fl::kDnsServfail, Kind::servfail},
        {fl::kDnsRefused, Kind::dns_refused},         {fl::kDnsNoAnswer, Kind::no_answer},
        {fl::kAppUnexpectedReply, Kind::unexpected_reply}, {fl::kAppNotGenuine, Kind::not_genuine},
    };
    auto it = kinds.find(f);
    return it == kinds.end() ? Kind::other : it->second;
}

bool is_cert_kind(Kind k) { return k == Kind::cert_authority || k == Kind::cert_hostname || k == Kind::cert_invalid; }

std::vector<std::string> addresses_of(const std::vector<DnsAnswer>& answers) {
    std::vector<std::string> out;
    for (const auto& a : answers)
        if ((a.type == "A" || a.type == "AAAA") && std::find(out.begin(), out.end(), a.value) == out.end())
            out.push_back(a.value);
    return out;
}

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
    for (const auto& v : from)
        if (std::find(to.begin(), to.end(), v) == to.end()) to.push_back(v);
}

bool share_any(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (const auto& x : a)
        if (std::find(b.begin(), b.end(), x) != b.end()) return true;
    return false;
}

bool share_network(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (const auto& x : a)
        for (const auto& y : b)
            if (network_of(x) == network_of(y)) return true;
    return false;
}

// The addresses (IP:PORT) the system resolver's queries went to.
std::vector<std::string> system_resolver_addresses(const std::vector<DnsObservation>& dns) {
    std::vector<std::string> out;
    for (const auto& o : dns)
        if (o.resolver == "system" && !o.resolver_address.empty()) add_unique(out, {o.resolver_address});
    return out;
}

bool at_system_resolver(const DnsObservation& o, const std::vector<std::string>& system_addresses) {
    return o.resolver == "system" ||
           std::find(system_addresses.begin(), system_addresses.end(), o.resolver_address) != system_addresses.end();
}

// The observations an app would rely on: the system resolver's (with any
// query sent to the same server by its address: one of them lost on a lossy
// path is not the server's silence), else all.
std::vector<const DnsObservation*> app_resolver_obs(const std::vector<DnsObservation>& dns,
                                                   const std::vector<std::string>& system_addresses) {
    std::vector<const DnsObservation*> system, all;
    for (const auto& o : dns) {
        all.push_back(&o);
        if (at_system_resolver(o, system_addresses)) system.push_back(&o);
    }
    bool has_system = std::any_of(dns.begin(), dns.end(), [](const auto& o) { return o.resolver == "system"; });
    return has_system ? system : all;
}

DnsSide make_dns_side(const std::vector<const DnsObservation*>& obs) {
    DnsSide side;
    side.measured = !obs.empty();
    for (const auto* o : obs) add_unique(side.addresses, addresses_of(o->answers));
    if (!side.measured || !side.addresses.empty()) return side;
    const DnsObservation* pick = nullptr;
    for (const auto* o : obs)
        if (o->failure && (!pick || (o->query_type == "A" && pick->query_type != "A"))) pick = o;
    side.failure = pick ? *pick->failure : failure::kDnsNoAnswer;
    side.kind = classify(side.failure);
    return side;
}

std::vector<const DnsObservation*> all_of(const std::vector<DnsObservation>& dns) {
    std::vector<const DnsObservation*> out;
    for (const auto& o : dns) out.push_back(&o);
    return out;
}

bool is_flagged(const std::vector<std::string>& addrs, const std::vector<Cidr>& routable, const FingerprintSet& fps) {
    for (const auto& a : addrs)
        if (special_purpose(a, routable) || match_dns_answer(fps, a)) return true;
    return false;
}

// Two different answers to one query, the first one suspicious, per DNS observation.
void find_injections(const DnsObservation& o, const std::vector<Cidr>& routable, const FingerprintSet& fps,
                     std::vector<Injection>& out) {
    if (o.responses.empty()) return;
    auto first_addrs = addresses_of(o.answers);
    DnsResponse first{o.t_ms, o.rcode, -1, o.answers};
    size_t start = 0;
    if (addresses_of(o.responses[0].answers) == first_addrs) {
        first = o.responses[0];
        start = 1;
    }
    for (size_t i = start; i < o.responses.size(); ++i) {
        const auto& later = o.responses[i];
        auto later_addrs = addresses_of(later.answers);
        bool differ = first_addrs.empty() != later_addrs.empty() ||
                      (!first_addrs.empty() && !share_any(first_addrs, later_addrs));
        if (!differ) continue;
        double first_ms = first.t_ms - o.t0_ms, later_ms = later.t_ms - o.t0_ms;
        bool fast = first_ms >= 0 && later_ms > first_ms && first_ms * 2 <= later_ms;
        bool ttl_differs = first.ip_ttl >= 0 && later.ip_ttl >= 0 && first.ip_ttl != later.ip_ttl;
        if (!fast && !ttl_differs && !is_flagged(first_addrs, routable, fps)) continue;
        out.push_back({o.resolver, o.query_type, first, later, first_ms, later_ms});
        return;
    }
}

template <typename Obs>
const Obs* find_by_ip(const std::vector<Obs>& list, const std::string& ip) {
    for (const auto& o : list)
        if (o.ip == ip) return &o;
    return nullptr;
}

const TlsObservation* find_tls(const std::vector<TlsObservation>& list, const std::string& ip, const std::string& purpose) {
    for (const auto& o : list)
        if (o.ip == ip && o.purpose == purpose) return &o;
    return nullptr;
}

bool fingerprint_seen_at_control(const Fingerprint* f, const Observations& control, const FingerprintSet& fps) {
    for (const auto& h : control.http)
        if (match_http(fps, h) == f) return true;
    return false;
}

struct StepNeeds {
    bool tcp, tls, http, app;
    const char* exchange;  // the app exchange's name in sentences
};

const char* exchange_name(const std::string& protocol) {
    if (protocol == "mtproto") return "MTProto req_pq_multi exchange";
    if (protocol == "stun") return "STUN Binding Request";
    if (protocol == "loco") return "LOCO GETCONF booking exchange";
    if (protocol == "whatsapp") return "WhatsApp Noise handshake";
    if (protocol == "signal") return "Signal provisioning WebSocket";
    return "";
}

// The connection to ip that counts: one that connected (the retry of a
// connect that timed out, measure.hpp) over one that failed.
const TcpObservation* connection_to(const std::vector<TcpObservation>& list, const std::string& ip) {
    const TcpObservation* first = nullptr;
    for (const auto& o : list) {
        if (o.ip != ip) continue;
        if (!o.failure) return &o;
        if (!first) first = &o;
    }
    return first;
}

// The address an app observation's "IP:PORT" names.
std::string app_ip(const AppObservation& a) {
    auto hp = split_host_port(a.address);
    return hp ? hp->host : a.address;
}

// An address's first app exchange (MTProto's plain transport; STUN's one).
const AppObservation* first_app(const std::vector<AppObservation>& list, const std::string& ip) {
    for (const auto& a : list)
        if (app_ip(a) == ip) return &a;
    return nullptr;
}

// Carries one address through TCP -> TLS -> HTTP -> app; stops at the first failing step.
AddressOutcome evaluate_address(const std::string& ip, const Observations& obs, const StepNeeds& needs,
                                const FingerprintSet* fps, const Observations* control) {
    AddressOutcome out;
    out.ip = ip;
    out.exchange = needs.exchange;
    const auto* tcp = connection_to(obs.tcp, ip);
    const auto* tls = find_tls(obs.tls, ip, "target");
    const auto* http = find_by_ip(obs.http, ip);
    out.port = tcp ? tcp->port : tls ? tls->port : http ? http->port : 0;
    if (const auto* app = first_app(obs.app, ip); app && out.port == 0) {
        auto hp = split_host_port(app->address);
        out.port = hp && hp->port ? *hp->port : 0;
    }
    auto fail = [&](Step s, Kind k, const std::string& f) {
        out.failed_step = s;
        out.kind = k;
        out.failure = f;
        return out;
    };
    if (tcp && tcp->failure) return fail(Step::tcp, classify(*tcp->failure), *tcp->failure);
    if (!tcp && !tls && !http && !(needs.app && first_app(obs.app, ip)))
        return fail(needs.tcp ? Step::tcp : Step::app, Kind::not_measured, "not measured");
    if (needs.tls && tls) {
        if (tls->failure) return fail(Step::tls, classify(*tls->failure), *tls->failure);
        if (!tls->certificate_valid) return fail(Step::tls, Kind::cert_invalid, "certificate not valid for the host");
    } else if (needs.tls && !http) {
        return fail(Step::tls, Kind::not_measured, "not measured");
    }
    if (needs.http) {
        if (!http) return fail(Step::http, Kind::not_measured, "not measured");
        out.http_status = http->status;
        if (http->failure) {
            Kind k = classify(*http->failure);
            return fail(is_cert_kind(k) || k == Kind::handshake ? Step::tls : Step::http, k, *http->failure);
        }
        if (fps) {
            const Fingerprint* f = match_http(*fps, *http);
            if (f && !(control && fingerprint_seen_at_control(f, *control, *fps)))
                return fail(Step::http, Kind::blockpage, f->name);
        }
        if (http->status >= 500) return fail(Step::http, Kind::http_5xx, "HTTP " + std::to_string(http->status));
    }
    if (needs.app) {
        const auto* app = first_app(obs.app, ip);
        if (!app) return fail(Step::app, Kind::not_measured, "not measured");
        std::string detail = app->raw_error.empty() ? app->failure.value_or("") : app->raw_error;
        if (app->genuine == true && app->failure) return fail(Step::app, Kind::app_error, detail);
        if (app->failure) return fail(Step::app, classify(*app->failure), detail);
        if (app->genuine != true) return fail(Step::app, Kind::not_genuine, "the reply was not judged genuine");
    }
    return out;
}

std::vector<std::string> measured_ips(const Observations& obs) {
    std::vector<std::string> ips;
    for (const auto& t : obs.tcp) add_unique(ips, {t.ip});
    for (const auto& t : obs.tls)
        if (t.purpose == "target") add_unique(ips, {t.ip});
    for (const auto& h : obs.http)
        if (!h.ip.empty()) add_unique(ips, {h.ip});
    for (const auto& a : obs.app) add_unique(ips, {app_ip(a)});
    return ips;
}

int kind_rank(Kind k) {  // among outcomes at the same step, the most telling first
    static const Kind order[] = {Kind::blockpage, Kind::cert_authority, Kind::cert_hostname, Kind::reset,
                                 Kind::refused,   Kind::eof,            Kind::timeout,       Kind::unreachable,
                                 Kind::handshake, Kind::cert_invalid,   Kind::http_5xx,      Kind::not_genuine,
                                 Kind::unexpected_reply, Kind::app_error, Kind::other, Kind::not_measured};
    for (size_t i = 0; i < std::size(order); ++i)
        if (order[i] == k) return static_cast<int>(i);
    return static_cast<int>(std::size(order));
}

// The address that got furthest (the app's best chance), most telling failure first.
const AddressOutcome* best_of(const std::vector<AddressOutcome>& list, bool app_only) {
    const AddressOutcome* best = nullptr;
    for (const auto& a : list) {
        if (app_only && !a.app_path) continue;
        if (!best || a.failed_step > best->failed_step ||
            (a.failed_step == best->failed_step && kind_rank(a.kind) < kind_rank(best->kind)))
            best = &a;
    }
    return best;
}

// First failing step of one side: DNS, else the best address.
void side_outcome(const DnsSide& dns, const std::vector<AddressOutcome>& addrs, bool needs_tcp, bool app_only,
                  Step& step, Kind& kind, std::string& failure) {
    if (dns.measured && dns.addresses.empty()) {
        step = Step::dns, kind = dns.kind, failure = dns.failure;
        return;
    }
    if (!needs_tcp) {
        step = dns.measured ? Step::passed : Step::dns;
        kind = dns.measured ? Kind::ok : Kind::not_measured;
        failure = dns.measured ? "" : "not measured";
        return;
    }
    const AddressOutcome* best = best_of(addrs, app_only);
    if (!best) {
        step = Step::tcp, kind = Kind::not_measured, failure = "not measured";
        return;
    }
    step = best->failed_step, kind = best->kind, failure = best->failure;
}

// The control does not measure private addresses unless told to (target_not_allowed).
bool refused_by_control(const Observations& ctl, const std::string& ip) {
    const auto* tcp = find_by_ip(ctl.tcp, ip);
    return tcp && tcp->failure == failure::kTargetNotAllowed;
}

std::string control_unusable_reason(const ControlResult& c) {
    const auto& o = c.observations;
    bool any = !o.dns.empty() || !o.tcp.empty() || !o.tls.empty() || !o.http.empty() || !o.app.empty();
    if (c.failure) return "the control did not answer: " + *c.failure;
    if (!any) return c.requested ? "the control returned no observations for this target" : "";
    auto refused = [](const auto& list) {
        return std::all_of(list.begin(), list.end(), [](const auto& x) { return x.failure == failure::kTargetNotAllowed; });
    };
    if (refused(o.dns) && refused(o.tcp) && refused(o.tls) && refused(o.http) && refused(o.app))
        return "the control refused to measure this target (target_not_allowed)";
    return "";
}

// MTProto addresses where the plain transport failed and the obfuscated one
// reached a genuine server: a middlebox that knows the plain protocol.
void find_transport_tests(const std::vector<AppObservation>& app, Facts& f) {
    for (const auto& plain : app) {
        if (plain.transport != "intermediate" || plain.genuine == true) continue;
        for (const auto& obf : app) {
            if (obf.transport != "obfuscated" || obf.address != plain.address || obf.genuine != true || obf.failure) continue;
            auto hp = split_host_port(plain.address);
            Kind k = plain.failure ? classify(*plain.failure) : Kind::not_genuine;
            f.transport_tests.push_back({app_ip(plain), hp && hp->port ? *hp->port : f.port, k,
                                         plain.raw_error.empty() ? plain.failure.value_or("") : plain.raw_error});
        }
    }
}

// The resets among the packet evidence that cut an address's connection here.
void find_forged_rsts(const std::vector<PacketEvidence>& evidence, const std::vector<AddressOutcome>& here,
                      std::vector<ForgedRst>& out) {
    for (const auto& e : evidence) {
        if (e.kind != "rst_ttl_mismatch" && e.kind != "rst_unaged_ttl") continue;
        auto src = split_host_port(e.src);
        for (const auto& a : here) {
            bool cut = a.kind == Kind::reset || a.kind == Kind::refused || a.kind == Kind::eof;
            if (!src || a.ip != src->host || !cut || a.failed_step == Step::passed) continue;
            out.push_back({e, a.failed_step});
            break;
        }
    }
}

// A SYN-ACK from a remote address with an initial TTL crossed no router: a
// machine on this segment answered in the server's name. Noted on the
// addresses whose certificate did not verify (a transparent interceptor).
void note_unaged_synacks(const std::vector<PacketEvidence>& evidence, std::vector<CertIssue>& cert_issues) {
    for (const auto& e : evidence) {
        auto src = split_host_port(e.src);
        if (e.kind != "synack_unaged_ttl" || !src) continue;
        for (auto& c : cert_issues)
            if (c.ip == src->host) c.unaged_synack = e;
    }
}

// DNS answers claiming one source but arriving with different IP TTLs.
std::vector<PacketEvidence> dns_packet_ttls(const std::vector<PacketEvidence>& evidence) {
    std::vector<PacketEvidence> out;
    for (const auto& e : evidence)
        if (e.dns_id >= 0 && e.ttl_difference > 0) out.push_back(e);
    return out;
}

// ISO 8601 timestamps compare as text on their first 19 characters.
bool before(const std::string& a, const std::string& b) {
    if (a.size() < 19 || b.size() < 19) return false;
    return a.compare(0, 19, b, 0, 19) < 0;
}

void find_cert_issues(const Record& r, const FingerprintSet& fps, Facts& f) {
    for (const auto& t : r.observations.tls) {
        if (t.purpose != "target") continue;
        Kind k = t.failure ? classify(*t.failure) : (t.certificate_valid ? Kind::ok : Kind::cert_invalid);
        if (!is_cert_kind(k)) continue;
        CertIssue c;
        c.ip = t.ip, c.port = t.port, c.kind = k;
        if (!t.peer_certificates.empty()) {
            const auto& leaf = t.peer_certificates.front();
            c.subject = leaf.subject, c.issuer = leaf.issuer, c.sha256 = leaf.sha256;
            c.not_before = leaf.not_before, c.not_after = leaf.not_after;
            c.out_of_date = before(c.not_after, r.started_at) || before(r.started_at, c.not_before);
        }
        for (const auto& cert : t.peer_certificates)
            if (!c.interception_ca) c.interception_ca = match_cert_issuer(fps, cert.issuer);
        if (!t.peer_certificates.empty() && !match_dns_answer(fps, r.target.host)) {
            auto named = match_cert_names(fps, t.peer_certificates.front());
            c.blockpage_host = named.fingerprint, c.blockpage_name = named.name;
        }
        f.cert_issues.push_back(c);
    }
    for (const auto& t : r.control.observations.tls)
        if (t.purpose == "target" && !t.failure && t.certificate_valid && !t.peer_certificates.empty())
            f.control_cert_sha256.push_back(t.peer_certificates.front().sha256);
}

void find_sni_tests(const Observations& obs, Facts& f) {
    for (const auto& t : obs.tls) {
        if (t.purpose != "target" || !t.failure) continue;
        const auto* n = find_tls(obs.tls, t.ip, "neutral_sni");
        if (!n || n->port != t.port) continue;
        Kind nk = n->failure ? classify(*n->failure) : Kind::ok;
        SniTest s;
        s.ip = t.ip, s.port = t.port, s.sni = t.sni, s.neutral_sni = n->sni;
        s.target_kind = classify(*t.failure), s.neutral_kind = nk;
        s.neutral_completed = nk == Kind::ok || is_cert_kind(nk);
        f.sni_tests.push_back(s);
    }
}

void find_dns_flags(const Record& r, const std::vector<Cidr>& routable, const FingerprintSet& fps, Facts& f) {
    std::set<std::string> control_bogons, control_sinkholes;
    for (const auto& o : r.control.observations.dns)
        for (const auto& a : o.answers) {
            if ((a.type == "A" || a.type == "AAAA") && special_purpose(a.value, routable)) control_bogons.insert(a.value);
            if (const auto* fp = match_dns_answer(fps, a.value)) control_sinkholes.insert(fp->name);
        }
    std::set<std::string> seen;
    auto check = [&](const std::string& resolver, const DnsAnswer& a) {
        if (!seen.insert(resolver + "|" + a.value).second) return;
        const auto* fp = match_dns_answer(fps, a.value);
        if (fp && !control_sinkholes.count(fp->name)) f.sinkholes.push_back({resolver, a.value, "", fp});
        if (a.type != "A" && a.type != "AAAA") return;
        auto why = special_purpose(a.value, routable);
        if (why && control_bogons.empty()) f.bogons.push_back({resolver, a.value, *why, nullptr});
    };
    for (const auto& o : r.observations.dns) {
        for (const auto& a : o.answers) check(o.resolver, a);
        for (const auto& resp : o.responses)
            for (const auto& a : resp.answers) check(o.resolver, a);
    }
}

// DNS over HTTPS: the bypass addresses its answers led to that passed every
// step here, and the DoH resolvers no DNS answer came back from (the
// transport failed, an HTTP error, not a DNS message), one line each.
void find_doh(const std::vector<DnsObservation>& dns, Facts& f) {
    for (const auto& o : dns) {
        if (o.transport != "doh") continue;
        if (o.failure && o.rcode < 0) {
            std::string line = o.resolver + " (" + *o.failure + ")";
            bool named = std::any_of(f.doh_unusable.begin(), f.doh_unusable.end(),
                                     [&](const auto& u) { return u.rfind(o.resolver + " (", 0) == 0; });
            if (!named) f.doh_unusable.push_back(line);
            continue;
        }
        auto answered = addresses_of(o.answers);
        for (const auto& a : f.here) {
            if (a.app_path || a.failed_step != Step::passed) continue;
            if (std::find(answered.begin(), answered.end(), a.ip) == answered.end()) continue;
            add_unique(f.doh_worked, {endpoint(a.ip, a.port)});
            add_unique(f.doh_resolvers_ok, {o.resolver});
        }
    }
}

// Only a successful (2xx) download measures the path: an error page is not
// a throughput figure.
double max_throughput(const std::vector<HttpObservation>& http) {
    double best = -1;
    for (const auto& h : http)
        if (!h.failure && h.status >= 200 && h.status < 300) best = std::max(best, h.throughput_kbps);
    return best;
}

// The page here is the control's own page: the same URL answered with the
// same status and either the same body or the same non-empty title with a
// body length within 30 % (as OONI's web_connectivity compares). That is what
// another node of a CDN or a geo-DNS answer serves, not what a censor does.
bool same_page_as_control(const std::vector<HttpObservation>& here, const std::vector<HttpObservation>& ctl) {
    for (const auto& h : here) {
        if (h.failure || h.status == 0) continue;
        for (const auto& c : ctl) {
            if (c.failure || c.url != h.url || c.status != h.status) continue;
            if (!h.body_sha256.empty() && h.body_sha256 == c.body_sha256) return true;
            auto longer = std::max(h.body_length, c.body_length), shorter = std::min(h.body_length, c.body_length);
            if (!h.title.empty() && h.title == c.title && longer > 0 && shorter * 10 >= longer * 7) return true;
        }
    }
    return false;
}

// A download (it carries a rate) that timed out after some bytes arrived: the
// fastest such, as what arrived, its rate and its duration.
void find_partial_download(const std::vector<HttpObservation>& http, Facts& f) {
    for (const auto& h : http) {
        if (h.failure != failure::kTimeout || h.throughput_kbps < 0 || h.body_length <= 0) continue;
        if (h.throughput_kbps <= f.partial_here_kbps) continue;
        f.partial_here_kbps = h.throughput_kbps;
        f.partial_here_bytes = h.body_length;
        f.partial_here_ms = h.transfer_ms >= 0 ? h.transfer_ms : h.t_ms - h.t0_ms;
    }
}

// A download that timed out after its handshake and then fell silent (stall_ms
// measured, also when no byte of the answer came): the longest such silence.
void find_stalled_download(const std::vector<HttpObservation>& http, Facts& f) {
    for (const auto& h : http) {
        if (h.failure != failure::kTimeout || h.stall_ms < 0 || h.stall_ms <= f.stall_here_ms) continue;
        f.stall_here_ms = h.stall_ms;
        f.stall_here_bytes = h.body_length;
        f.stall_here_run_ms = h.transfer_ms >= 0 ? h.transfer_ms : h.t_ms - h.t0_ms;
    }
}

// Every DNS query, connection and UDP exchange here failed for want of a route
// (network_unreachable; a connection may also be host_unreachable after DNS
// failed so). Without DNS (an address target), the connections alone decide
// unless the control connected: a router's ICMP could then be aimed at it.
bool own_link_down(const Observations& obs, const Facts& f) {
    auto is = [](const std::optional<std::string>& fail, bool host_too) {
        return fail == failure::kNetworkUnreachable || (host_too && fail == failure::kHostUnreachable);
    };
    if (f.canaries_ok > 0 || (obs.dns.empty() && obs.tcp.empty() && obs.app.empty())) return false;
    bool dns_down = std::all_of(obs.dns.begin(), obs.dns.end(), [&](const auto& o) { return is(o.failure, false); });
    bool tcp_down = std::all_of(obs.tcp.begin(), obs.tcp.end(), [&](const auto& o) { return is(o.failure, !obs.dns.empty()); });
    bool udp_down = std::all_of(obs.app.begin(), obs.app.end(), [&](const auto& o) { return is(o.failure, !obs.dns.empty()); });
    if (!dns_down || !tcp_down || !udp_down) return false;
    return !obs.dns.empty() || !f.control_passed(Step::tcp);
}

}  // namespace

const char* step_name(Step s) {
    switch (s) {
        case Step::dns: return "dns";
        case Step::tcp: return "tcp";
        case Step::tls: return "tls";
        case Step::http: return "http";
        case Step::app: return "app";
        case Step::passed: return "passed";
    }
    return "?";
}

bool Facts::control_passed(Step s) const { return control_usable && control_step > s; }
bool Facts::control_failed_by(Step s) const {
    return control_usable && control_step <= s && control_kind != Kind::not_measured;
}

// A download that ran into its deadline part-way is not a working path, even
// when every handshake and the first page passed.
bool Facts::app_path_works() const { return here_step == Step::passed && partial_here_kbps < 0 && stall_here_ms < 0; }

std::vector<const AddressOutcome*> Facts::failing_here() const {
    std::vector<const AddressOutcome*> out;
    for (const auto& a : here)
        if (a.failed_step != Step::passed) out.push_back(&a);
    return out;
}

Facts compute_facts(const Record& r, const FingerprintSet& fps) {
    Facts f;
    const auto& obs = r.observations;
    const auto& ctl = r.control.observations;
    f.host = r.target.host;
    f.port = r.target.port;
    f.protocol = r.target.protocol;
    f.needs_tcp = f.protocol != "dns";
    f.needs_tls = f.protocol == "tls" || f.protocol == "https" || f.protocol == "loco" || f.protocol == "signal";
    f.needs_http = f.protocol == "http" || f.protocol == "https";
    f.needs_app = is_app_protocol(f.protocol);
    f.over_udp = f.protocol == "stun";
    f.started_at = r.started_at;
    f.nothing_measured = obs.dns.empty() && obs.tcp.empty() && obs.tls.empty() && obs.http.empty() && obs.app.empty();

    f.control_requested = r.control.requested;
    f.control_unreachable = r.control.failure.has_value();
    f.control_unusable_reason = control_unusable_reason(r.control);
    bool control_any = !ctl.dns.empty() || !ctl.tcp.empty() || !ctl.tls.empty() || !ctl.http.empty() || !ctl.app.empty();
    f.control_usable = !r.control.failure && control_any && f.control_unusable_reason.empty();
    f.canaries_total = r.context.canaries_total;
    f.canaries_ok = r.context.canaries_ok;
    f.targets_reached = r.context.targets_reached;
    f.canary_download_kbps = r.context.canary_download_kbps;

    std::vector<Cidr> routable;
    for (const auto& text : r.context.routable)
        if (auto c = parse_cidr(text)) routable.push_back(*c);

    // DNS, here and at the control.
    auto system_addresses = system_resolver_addresses(obs.dns);
    auto app_obs = app_resolver_obs(obs.dns, system_addresses);
    f.dns_here = make_dns_side(app_obs);
    if (f.control_usable) f.dns_control = make_dns_side(all_of(ctl.dns));
    f.dns_compared = !f.dns_here.addresses.empty() && !f.dns_control.addresses.empty();
    f.dns_consistent = f.dns_compared && (share_any(f.dns_here.addresses, f.dns_control.addresses) ||
                                          share_network(f.dns_here.addresses, f.dns_control.addresses));
    bool has_system = std::any_of(obs.dns.begin(), obs.dns.end(), [](const auto& o) { return o.resolver == "system"; });
    for (const auto& o : obs.dns)
        if (has_system && !at_system_resolver(o, system_addresses) && !addresses_of(o.answers).empty())
            add_unique(f.other_resolvers_ok, {o.resolver});
    for (const auto& o : obs.dns) find_injections(o, routable, fps, f.injections);
    find_dns_flags(r, routable, fps, f);
    auto packet_evidence = packet_injection_evidence(obs.packets, routable);
    f.dns_packet_ttls = dns_packet_ttls(packet_evidence);

    // Addresses, here and at the control.
    StepNeeds needs{f.needs_tcp && !f.over_udp, f.needs_tls, f.needs_http, f.needs_app, exchange_name(f.protocol)};
    auto ips = measured_ips(obs);
    bool any_app = std::any_of(ips.begin(), ips.end(), [&](const auto& ip) {
        return std::find(f.dns_here.addresses.begin(), f.dns_here.addresses.end(), ip) != f.dns_here.addresses.end();
    });
    for (const auto& ip : ips) {
        AddressOutcome a = evaluate_address(ip, obs, needs, &fps, f.control_usable ? &ctl : nullptr);
        bool resolved_here = std::find(f.dns_here.addresses.begin(), f.dns_here.addresses.end(), ip) != f.dns_here.addresses.end();
        a.app_path = !f.dns_here.measured ? true : f.dns_here.addresses.empty() ? false : any_app ? resolved_here : true;
        if (a.port == 0) a.port = f.port;
        f.here.push_back(a);
        if (!a.app_path && a.failed_step == Step::passed) f.bypass_works = true;
    }
    side_outcome(f.dns_here, f.here, f.needs_tcp, true, f.here_step, f.here_kind, f.here_failure);
    find_doh(obs.dns, f);
    if (f.control_usable) {
        for (const auto& ip : measured_ips(ctl)) {
            if (refused_by_control(ctl, ip)) continue;
            AddressOutcome a = evaluate_address(ip, ctl, needs, nullptr, nullptr);
            a.app_path = true;
            f.control.push_back(a);
        }
        side_outcome(f.dns_control, f.control, f.needs_tcp, false, f.control_step, f.control_kind, f.control_failure);
    }

    // In-band evidence.
    find_sni_tests(obs, f);
    find_transport_tests(obs.app, f);
    find_cert_issues(r, fps, f);
    find_forged_rsts(packet_evidence, f.here, f.forged_rsts);
    note_unaged_synacks(packet_evidence, f.cert_issues);
    for (const auto& h : obs.http) {
        const Fingerprint* fp = match_http(fps, h);
        if (fp && !(f.control_usable && fingerprint_seen_at_control(fp, ctl, fps)))
            f.blockpages.push_back({h.ip, h.url, h.status, fp});
    }
    f.http_same_as_control = f.control_usable && same_page_as_control(obs.http, ctl.http);
    f.throughput_here_kbps = max_throughput(obs.http);
    if (f.control_usable) f.throughput_control_kbps = max_throughput(ctl.http);
    find_partial_download(obs.http, f);
    find_stalled_download(obs.http, f);
    for (const auto& t : obs.tcp)
        if (t.attempt > 1 && !t.failure) f.connect_retry_worked.push_back(endpoint(t.ip, t.port));
    f.own_link_down = own_link_down(obs, f);
    return f;
}

}  // namespace meoktong::verdict
