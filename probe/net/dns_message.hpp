// The one reader of DNS messages from untrusted bytes, for the resolver
// (dns.cpp) and for captured packets (capture.cpp): the 12-byte header read
// here with bounds checks, the question name and the A/AAAA answers left to
// c-ares (ares_expand_name, ares_parse_a_reply / ares_parse_aaaa_reply follow
// compression pointers and stop on loops and overruns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "meoktong/record.hpp"

namespace meoktong {

inline constexpr int kDnsTypeA = 1;
inline constexpr int kDnsTypeAAAA = 28;

// The fixed 12-byte DNS header fields meoktong uses.
struct DnsHeader {
    uint16_t id = 0;
    bool is_response = false;  // QR bit
    bool truncated = false;    // TC bit
    int rcode = 0;
    uint16_t questions = 0;    // QDCOUNT
};
std::optional<DnsHeader> parse_dns_header(std::span<const uint8_t> message);

// The first question: its name as c-ares expands it (as written, final dot
// removed) and the offset of its 4 bytes of type and class; nullopt when there
// is no question or it does not fit.
struct DnsQuestion {
    std::string name;
    size_t type_class_at = 0;
};
std::optional<DnsQuestion> dns_question(std::span<const uint8_t> message);

// The first question's name in lower case, without the final dot.
std::optional<std::string> dns_question_name(std::span<const uint8_t> message);

// The records of one address type (kDnsTypeA or kDnsTypeAAAA) of a response,
// with c-ares's status (ARES_SUCCESS, ARES_ENODATA, ARES_EBADRESP...).
struct DnsAddressRecords {
    int ares_status = 0;
    std::vector<DnsAnswer> answers;
};
DnsAddressRecords dns_address_records(std::span<const uint8_t> message, int qtype);

// The A and then AAAA records of a response; empty when there are none or
// the message does not parse.
std::vector<DnsAnswer> dns_address_answers(std::span<const uint8_t> message);

// "rcode 0: A 192.0.2.1 ttl 60, AAAA 2001:db8::1 ttl 60" / "rcode 3: no address".
std::string dns_answers_summary(int rcode, const std::vector<DnsAnswer>& answers);

}  // namespace meoktong
