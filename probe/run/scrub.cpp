// Removes the probe's own addresses from report text (see scrub.hpp).
#include "probe/run/scrub.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "meoktong/target.hpp"
#include "meoktong/text.hpp"
#include "probe/net/http.hpp"

namespace meoktong {
namespace {

// A character that would make a match part of a longer address (for hex
// spellings, hex digits and ':' too).
bool continues_address(char c, bool hex) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isdigit(u)) return true;
    return hex && (std::isxdigit(u) || c == ':');
}

void scrub_optional(const Scrubber& s, std::optional<std::string>& v) {
    if (v) v = s.apply(*v);
}

void scrub_answers(const Scrubber& s, std::vector<DnsAnswer>& answers) {
    for (auto& a : answers) a.value = s.apply(a.value);
}

std::string join_bytes(const unsigned char* b, const char* format, char sep, bool reversed) {
    std::string out;
    for (int i = 0; i < 4; ++i) {
        if (i > 0) out += sep;
        char buf[8];
        std::snprintf(buf, sizeof buf, format, b[reversed ? 3 - i : i]);
        out += buf;
    }
    return out;
}

// 10.77.1.2, 2.1.77.10 (in-addr.arpa), 10-77-1-2, 2-1-77-10 and 10_77_1_2
// (ISP host names), 010.077.001.002 (zero-padded), 0a4d0102 (hex) and
// 172818690 (the address as one integer, as some echo services print it).
std::vector<Scrubber::Spelling> ipv4_spellings(const in_addr& a) {
    const auto* b = reinterpret_cast<const unsigned char*>(&a.s_addr);
    uint32_t as_integer = ntohl(a.s_addr);
    return {{join_bytes(b, "%u", '.', false), false}, {join_bytes(b, "%u", '.', true), false},
            {join_bytes(b, "%u", '-', false), false}, {join_bytes(b, "%u", '-', true), false},
            {join_bytes(b, "%u", '_', false), false}, {join_bytes(b, "%03u", '.', false), false},
            {hex_encode(std::string_view(reinterpret_cast<const char*>(b), 4)), true},
            {std::to_string(as_integer), false}};
}

// Compressed (as inet_ntop writes it), with dashes (ipv6-literal host names),
// every group with and without leading zeros, the 32 hex digits alone, and
// the ip6.arpa nibbles.
std::vector<Scrubber::Spelling> ipv6_spellings(const in6_addr& a, const std::string& compressed) {
    std::string dashed = compressed, expanded, unpadded, nibbles;
    std::replace(dashed.begin(), dashed.end(), ':', '-');
    const std::string packed = hex_encode(std::string_view(reinterpret_cast<const char*>(a.s6_addr), 16));
    for (size_t g = 0; g < 8; ++g) {
        std::string_view group = std::string_view(packed).substr(4 * g, 4);
        if (g > 0) expanded += ':', unpadded += ':';
        expanded += group;
        unpadded += group.substr(std::min(group.find_first_not_of('0'), size_t{3}));
    }
    for (size_t digit = packed.size(); digit > 0; --digit) {  // one nibble per label, the last one first
        nibbles += packed[digit - 1];
        if (digit > 1) nibbles += '.';
    }
    std::vector<Scrubber::Spelling> out;
    for (auto& text : {compressed, dashed, expanded, unpadded, packed, nibbles}) out.push_back({text, true});
    return out;
}

std::vector<Scrubber::Spelling> spellings_of(const std::string& address) {
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return ipv4_spellings(v4);
    if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return {};
    auto out = ipv6_spellings(v6, address);
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {  // ::ffff:a.b.c.d is a.b.c.d too (after the longer IPv6 spellings)
        std::memcpy(&v4.s_addr, &v6.s6_addr[12], 4);
        for (auto& spelling : ipv4_spellings(v4)) out.push_back(std::move(spelling));
    }
    return out;
}

}  // namespace

void Scrubber::add(const std::string& address) {
    if (!is_ip_literal(address)) return;
    std::string a = ascii_lower(address);
    if (std::find(addresses_.begin(), addresses_.end(), a) != addresses_.end()) return;
    addresses_.push_back(a);
    for (auto& spelling : spellings_of(a)) {
        bool known = std::any_of(spellings_.begin(), spellings_.end(),
                                 [&](const Spelling& s) { return s.text == spelling.text; });
        if (!known) spellings_.push_back(std::move(spelling));
    }
}

std::string Scrubber::apply(std::string_view text) const {
    std::string out(text);
    std::string folded = ascii_lower(out);  // folded again only after a replacement
    for (const auto& [addr, hex] : spellings_) {
        if (folded.find(addr) == std::string::npos) continue;
        std::string result;
        size_t pos = 0;
        for (size_t hit = folded.find(addr); hit != std::string::npos; hit = folded.find(addr, hit + 1)) {
            size_t end = hit + addr.size();
            bool whole = (hit == 0 || !continues_address(folded[hit - 1], hex)) &&
                         (end == folded.size() || !continues_address(folded[end], hex));
            if (!whole || hit < pos) continue;
            result.append(out, pos, hit - pos);
            result += kScrubbed;
            pos = end;
        }
        if (pos == 0) continue;  // found only inside longer numbers
        result.append(out, pos, std::string::npos);
        out = std::move(result);
        folded = ascii_lower(out);
    }
    return out;
}

// Blanks a trailing beginning of a spelling too, from kMinCutFragment
// characters on: one or two digits ("width: 1", "class=c") tell nothing of
// an address and are far more often something else.
std::string Scrubber::apply_cut(std::string_view text) const {
    constexpr size_t kMinCutFragment = 3;
    std::string out = apply(text);
    std::string folded = ascii_lower(out);
    size_t tail = 0;  // length of the longest trailing beginning of a spelling
    for (const auto& [spelling, hex] : spellings_) {
        for (size_t k = std::min(spelling.size() - 1, folded.size()); k > tail && k >= kMinCutFragment; --k) {
            size_t at = folded.size() - k;
            if (folded.compare(at, k, spelling, 0, k) == 0 && (at == 0 || !continues_address(folded[at - 1], hex))) {
                tail = k;
                break;
            }
        }
    }
    if (tail > 0) out.replace(out.size() - tail, tail, kScrubbed);
    return out;
}

// A lying resolver can answer with the probe's own address (as "what is my
// IP" names do): then answers, the addresses connected to and the packets'
// sources carry it too.
void Scrubber::apply(Observations& obs) const {
    if (addresses_.empty()) return;
    for (auto& d : obs.dns) {
        d.resolver = apply(d.resolver);                  // a DoH URL's host may be this host's address
        d.resolver_address = apply(d.resolver_address);  // a resolver on this host's own address
        scrub_optional(*this, d.failure);
        d.raw_error = apply(d.raw_error);
        scrub_answers(*this, d.answers);
        for (auto& r : d.responses) scrub_answers(*this, r.answers);
    }
    for (auto& t : obs.tcp) {
        t.ip = apply(t.ip);
        scrub_optional(*this, t.failure);
        t.raw_error = apply(t.raw_error);
    }
    for (auto& t : obs.tls) {
        t.ip = apply(t.ip);
        scrub_optional(*this, t.failure);
        t.raw_error = apply(t.raw_error);
        for (auto& c : t.peer_certificates) {
            c.subject = apply(c.subject);
            c.issuer = apply(c.issuer);
            for (auto& n : c.dns_names) n = apply(n);
        }
    }
    for (auto& h : obs.http) {
        h.url = apply(h.url);
        h.ip = apply(h.ip);
        scrub_optional(*this, h.failure);
        h.raw_error = apply(h.raw_error);
        for (auto& [name, value] : h.headers) {
            name = apply(name);
            value = value.size() >= http::kMaxHeaderValue ? apply_cut(value) : apply(value);
        }
        h.title = h.title.size() + 3 >= http::kMaxTitleBytes ? apply_cut(h.title) : apply(h.title);
        bool excerpt_cut = static_cast<int64_t>(h.body_excerpt.size()) < h.body_length;
        h.body_excerpt = excerpt_cut ? apply_cut(h.body_excerpt) : apply(h.body_excerpt);
    }
    for (auto& p : obs.packets) {
        p.src = apply(p.src);
        p.detail = apply(p.detail);
        scrub_answers(*this, p.answers);
    }
}

void Scrubber::apply(Record& record) const {
    apply(record.observations);
    apply(record.control.observations);
    scrub_optional(*this, record.control.failure);
    for (auto& e : record.verdict.evidence) e = apply(e);
    for (auto& t : record.earlier_tries)
        for (auto& e : t.verdict.evidence) e = apply(e);
}

}  // namespace meoktong
