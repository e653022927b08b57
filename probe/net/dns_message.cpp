// The one reader of DNS messages: header bounds-checked here, names and
// address records through c-ares. See dns_message.hpp.
#include "probe/net/dns_message.hpp"

#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>

#include <cctype>
#include <climits>

namespace meoktong {
namespace {

constexpr size_t kHeaderBytes = 12;
constexpr int kMaxDnsAddresses = 64;  // records read per type; more are dropped

uint16_t be16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

DnsAnswer answer_of(const char* type, int af, const void* address, int ttl) {
    char text[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(af, address, text, sizeof text)) text[0] = '\0';
    return DnsAnswer{type, text, ttl < 0 ? 0u : static_cast<uint32_t>(ttl)};
}

}  // namespace

std::optional<DnsHeader> parse_dns_header(std::span<const uint8_t> message) {
    if (message.size() < kHeaderBytes) return std::nullopt;
    DnsHeader h;
    h.id = be16(message, 0);
    h.is_response = (message[2] & 0x80) != 0;
    h.truncated = (message[2] & 0x02) != 0;
    h.rcode = message[3] & 0x0f;
    h.questions = be16(message, 4);
    return h;
}

std::optional<DnsQuestion> dns_question(std::span<const uint8_t> message) {
    auto header = parse_dns_header(message);
    if (!header || header->questions == 0 || message.size() <= kHeaderBytes ||
        message.size() > static_cast<size_t>(INT_MAX))
        return std::nullopt;
    char* name = nullptr;
    long encoded_length = 0;
    if (ares_expand_name(message.data() + kHeaderBytes, message.data(), static_cast<int>(message.size()), &name,
                         &encoded_length) != ARES_SUCCESS)
        return std::nullopt;
    DnsQuestion q{name, kHeaderBytes + static_cast<size_t>(encoded_length)};
    ares_free_string(name);
    if (!q.name.empty() && q.name.back() == '.') q.name.pop_back();
    if (q.type_class_at + 4 > message.size()) return std::nullopt;
    return q;
}

std::optional<std::string> dns_question_name(std::span<const uint8_t> message) {
    auto q = dns_question(message);
    if (!q) return std::nullopt;
    for (char& c : q->name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return q->name;
}

DnsAddressRecords dns_address_records(std::span<const uint8_t> message, int qtype) {
    DnsAddressRecords out;
    out.ares_status = ARES_EBADRESP;
    if (message.size() < kHeaderBytes || message.size() > static_cast<size_t>(INT_MAX)) return out;
    int length = static_cast<int>(message.size());
    int n = kMaxDnsAddresses;
    if (qtype == kDnsTypeAAAA) {
        ares_addr6ttl v6[kMaxDnsAddresses];
        out.ares_status = ares_parse_aaaa_reply(message.data(), length, nullptr, v6, &n);
        for (int i = 0; out.ares_status == ARES_SUCCESS && i < n; ++i)
            out.answers.push_back(answer_of("AAAA", AF_INET6, &v6[i].ip6addr, v6[i].ttl));
    } else {
        ares_addrttl v4[kMaxDnsAddresses];
        out.ares_status = ares_parse_a_reply(message.data(), length, nullptr, v4, &n);
        for (int i = 0; out.ares_status == ARES_SUCCESS && i < n; ++i)
            out.answers.push_back(answer_of("A", AF_INET, &v4[i].ipaddr, v4[i].ttl));
    }
    return out;
}

std::vector<DnsAnswer> dns_address_answers(std::span<const uint8_t> message) {
    std::vector<DnsAnswer> answers = dns_address_records(message, kDnsTypeA).answers;
    for (auto& a : dns_address_records(message, kDnsTypeAAAA).answers) answers.push_back(std::move(a));
    return answers;
}

std::string dns_answers_summary(int rcode, const std::vector<DnsAnswer>& answers) {
    std::string out = "rcode " + std::to_string(rcode) + ": ";
    if (answers.empty()) return out + "no address";
    for (size_t i = 0; i < answers.size(); ++i) {
        if (i) out += ", ";
        out += answers[i].type + " " + answers[i].value + " ttl " + std::to_string(answers[i].ttl);
    }
    return out;
}

}  // namespace meoktong
