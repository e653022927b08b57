// Removes the probe's own addresses from report text (see scrub.hpp).
#include "probe/scrub.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

#include "meoktong/target.hpp"

namespace meoktong {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// A character that would make a match part of a longer address.
bool continues_address(char c, bool ipv6) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isdigit(u)) return true;
    return ipv6 && (std::isxdigit(u) || c == ':');
}

void scrub_optional(const Scrubber& s, std::optional<std::string>& v) {
    if (v) v = s.apply(*v);
}

}  // namespace

void Scrubber::add(const std::string& address) {
    if (!is_ip_literal(address)) return;
    std::string a = lower(address);
    if (std::find(addresses_.begin(), addresses_.end(), a) == addresses_.end()) addresses_.push_back(a);
}

std::string Scrubber::apply(std::string_view text) const {
    std::string out(text);
    for (const auto& addr : addresses_) {
        bool ipv6 = addr.find(':') != std::string::npos;
        std::string folded = lower(out);
        std::string result;
        size_t pos = 0;
        for (size_t hit = folded.find(addr); hit != std::string::npos; hit = folded.find(addr, hit + 1)) {
            size_t end = hit + addr.size();
            bool whole = (hit == 0 || !continues_address(folded[hit - 1], ipv6)) &&
                         (end == folded.size() || !continues_address(folded[end], ipv6));
            if (!whole || hit < pos) continue;
            result.append(out, pos, hit - pos);
            result += kScrubbed;
            pos = end;
        }
        result.append(out, pos, std::string::npos);
        out = std::move(result);
    }
    return out;
}

void Scrubber::apply(Observations& obs) const {
    if (addresses_.empty()) return;
    for (auto& d : obs.dns) {
        d.resolver_address = apply(d.resolver_address);  // a resolver on this host's own address
        scrub_optional(*this, d.failure);
        d.raw_error = apply(d.raw_error);
    }
    for (auto& t : obs.tcp) {
        scrub_optional(*this, t.failure);
        t.raw_error = apply(t.raw_error);
    }
    for (auto& t : obs.tls) {
        scrub_optional(*this, t.failure);
        t.raw_error = apply(t.raw_error);
    }
    for (auto& h : obs.http) {
        scrub_optional(*this, h.failure);
        h.raw_error = apply(h.raw_error);
        for (auto& [name, value] : h.headers) value = apply(value);
        h.title = apply(h.title);
        h.body_excerpt = apply(h.body_excerpt);
    }
    for (auto& p : obs.packets) p.detail = apply(p.detail);
}

void Scrubber::apply(Record& record) const {
    apply(record.observations);
    apply(record.control.observations);
    scrub_optional(*this, record.control.failure);
    for (auto& e : record.verdict.evidence) e = apply(e);
}

std::vector<std::string> local_addresses() {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_LOOPBACK) != 0) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (i->ifa_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
        else if (i->ifa_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, text, sizeof text);
        else
            continue;
        out.emplace_back(text);
    }
    freeifaddrs(list);
    return out;
}

}  // namespace meoktong
