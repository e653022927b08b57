// STUN Binding Request and the judgement of its answer (stun.hpp). Facts from
// RFC 8489: the 20-byte header (§5), the magic cookie 0x2112A442, message types
// 0x0001/0x0101/0x0111 (§18.2), ERROR-CODE (§14.8), retransmission (§6.2.1).
#include "probe/net/stun.hpp"

#include <algorithm>

#include "meoktong/failure.hpp"

namespace meoktong::stun {
namespace {

constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kBindingError = 0x0111;
constexpr uint16_t kErrorCode = 0x0009;
constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr size_t kHeader = 20;

uint16_t get_u16(std::span<const uint8_t> in, size_t at) {
    return static_cast<uint16_t>((in[at] << 8) | in[at + 1]);
}
uint32_t get_u32(std::span<const uint8_t> in, size_t at) {
    return (uint32_t{get_u16(in, at)} << 16) | get_u16(in, at + 2);
}

// The ERROR-CODE attribute's class*100+number, -1 when absent or malformed.
int error_code(std::span<const uint8_t> message) {
    size_t at = kHeader;
    while (at + 4 <= message.size()) {
        uint16_t type = get_u16(message, at), length = get_u16(message, at + 2);
        if (at + 4 + length > message.size()) return -1;
        if (type == kErrorCode && length >= 4) return (message[at + 6] & 0x07) * 100 + message[at + 7];
        at += 4 + (length + 3u) / 4 * 4;
    }
    return -1;
}

}  // namespace

std::vector<uint8_t> binding_request(const TransactionId& id) {
    std::vector<uint8_t> out = {kBindingRequest >> 8, kBindingRequest & 0xff, 0, 0};
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(kMagicCookie >> shift));
    out.insert(out.end(), id.begin(), id.end());
    return out;
}

std::vector<int> resend_schedule(int timeout_ms) {
    std::vector<int> out;
    for (int rto = 500, at = 500; at < timeout_ms; rto *= 2, at += rto) out.push_back(at);
    return out;
}

bool answers(std::span<const uint8_t> d, const TransactionId& id) {
    if (d.size() < kHeader || (d[0] & 0xc0) != 0 || get_u32(d, 4) != kMagicCookie) return false;
    uint16_t type = get_u16(d, 0);
    if (type != kBindingSuccess && type != kBindingError) return false;
    return std::equal(id.begin(), id.end(), d.begin() + 8);
}

Judgement judge_reply(std::span<const uint8_t> d) {
    size_t length = get_u16(d, 2);
    if (length % 4 != 0 || kHeader + length != d.size())
        return {false, failure::kAppUnexpectedReply, "a STUN header whose length does not match the datagram"};
    if (get_u16(d, 0) == kBindingSuccess) return {true, std::nullopt, "Binding Success"};
    int code = error_code(d);
    return {true, failure::kAppUnexpectedReply,
            code < 0 ? std::string("Binding Error") : "Binding Error " + std::to_string(code)};
}

}  // namespace meoktong::stun
