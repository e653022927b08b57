// Sentence pieces for verdict evidence: endpoints, times, DNS answers and
// step failures in plain language.
#include "analysis/verdict/verdict_evidence.hpp"

#include <cmath>
#include <cstdio>

namespace meoktong::verdict {
namespace {

const char* rcode_name(int rcode) {
    switch (rcode) {
        case 0: return "NOERROR";
        case 2: return "SERVFAIL";
        case 3: return "NXDOMAIN";
        case 5: return "REFUSED";
        default: return nullptr;
    }
}

std::string conn_phrase(Kind k, const std::string& failure) {
    switch (k) {
        case Kind::reset: return "was reset";
        case Kind::refused: return "was refused (a TCP reset answered the SYN)";
        case Kind::timeout: return "timed out";
        case Kind::unreachable: return "was unreachable (" + failure + ")";
        case Kind::eof: return "was closed without an answer";
        case Kind::cert_authority: return "presented a certificate from an unknown authority";
        case Kind::cert_hostname: return "presented a certificate for another name";
        case Kind::cert_invalid: return "presented an invalid certificate (" + failure + ")";
        case Kind::handshake: return "failed (" + failure + ")";
        case Kind::http_5xx: return "got a server error (" + failure + ")";
        case Kind::blockpage: return "got a known blockpage (" + failure + ")";
        case Kind::not_measured: return "was not measured";
        case Kind::unexpected_reply: return "got an answer that is not the protocol's (" + failure + ")";
        case Kind::not_genuine: return "got the protocol's answer, but not to our request (" + failure + ")";
        case Kind::app_error: return "got an error from the server (" + failure + ")";
        default: return "failed (" + failure + ")";
    }
}

}  // namespace

std::string endpoint(const std::string& ip, uint16_t port) {
    std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
    return port ? host + ":" + std::to_string(port) : host;
}

std::string millis(double ms) {
    char buf[32];
    if (ms < 10 && std::fabs(ms - std::round(ms)) > 0.05)
        std::snprintf(buf, sizeof buf, "%.1f ms", ms);
    else
        std::snprintf(buf, sizeof buf, "%.0f ms", ms);
    return buf;
}

std::string join_words(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += i + 1 == items.size() ? " and " : ", ";
        out += items[i];
    }
    return out;
}

std::string list_addresses(const std::vector<std::string>& ips, size_t max) {
    std::vector<std::string> shown(ips.begin(), ips.begin() + static_cast<long>(std::min(max, ips.size())));
    if (ips.size() > max) shown.push_back(std::to_string(ips.size() - max) + " more");
    return join_words(shown);
}

std::string resolver_name(const std::string& resolver) {
    if (resolver.empty() || resolver == "system") return "the system resolver";
    return "resolver " + resolver;
}

std::string answer_summary(const DnsResponse& r) {
    std::vector<std::string> addrs;
    for (const auto& a : r.answers)
        if (a.type == "A" || a.type == "AAAA") addrs.push_back(a.value);
    if (!addrs.empty()) return list_addresses(addrs);
    const char* name = rcode_name(r.rcode);
    if (name && r.rcode != 0) return name;
    return "an empty answer";
}

std::string dns_failure_phrase(Kind k, const std::string& failure) {
    switch (k) {
        case Kind::nxdomain: return "answered NXDOMAIN (no such name)";
        case Kind::servfail: return "answered SERVFAIL";
        case Kind::dns_refused: return "answered REFUSED";
        case Kind::no_answer: return "returned no address";
        case Kind::timeout: return "did not answer (timeout)";
        default: return "failed (" + failure + ")";
    }
}

std::string describe_outcome(const AddressOutcome& a, const std::string& host) {
    std::string ep = endpoint(a.ip, a.port);
    switch (a.failed_step) {
        case Step::tcp: return "the TCP connection to " + ep + " " + conn_phrase(a.kind, a.failure);
        case Step::tls: return "the TLS handshake with " + ep + " (SNI " + host + ") " + conn_phrase(a.kind, a.failure);
        case Step::http: return "the HTTP request to " + ep + " " + conn_phrase(a.kind, a.failure);
        case Step::app: return "the " + a.exchange + " with " + ep + " " + conn_phrase(a.kind, a.failure);
        case Step::passed: return ep + " worked";
        case Step::dns: return "DNS failed";
    }
    return ep;
}

std::string describe_control(const Facts& f) {
    if (!f.control_usable) return "no control vantage was available";
    std::vector<std::string> worked;
    for (const auto& a : f.control)
        if (a.failed_step == Step::passed || a.failed_step > f.here_step) worked.push_back(endpoint(a.ip, a.port));
    switch (f.control_step) {
        case Step::dns:
            return "at the control, the name " + dns_failure_phrase(f.control_kind, f.control_failure);
        case Step::passed:
            if (!f.needs_tcp) return "the control resolved " + f.host + " to " + list_addresses(f.dns_control.addresses);
            return "from the control, " + f.host + " worked through " + list_addresses(worked);
        default:
            if (f.control_kind == Kind::not_measured)
                return "the control resolved the name but measured none of its addresses (it refuses private addresses unless run with --allow-private)";
            for (const auto& a : f.control)
                if (a.failed_step == f.control_step && a.kind == f.control_kind) return "at the control, " + describe_outcome(a, f.host);
            return "the control failed at the " + std::string(step_name(f.control_step)) + " step";
    }
}

std::string describe_here_failures(const Facts& f) {
    if (f.here_step == Step::dns) return "here, DNS for " + f.host + " " + dns_failure_phrase(f.here_kind, f.here_failure);
    std::vector<std::string> parts;
    for (const auto* a : f.failing_here())
        if (a->app_path) parts.push_back(describe_outcome(*a, f.host));
    if (parts.empty()) return "here, " + f.host + " was not measured past DNS";
    if (parts.size() > 4) {
        size_t more = parts.size() - 4;
        parts.resize(4);
        parts.push_back(std::to_string(more) + " more failures");
    }
    return "here, " + join_words(parts);
}

}  // namespace meoktong::verdict
