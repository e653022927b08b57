// STUN (RFC 8489) as a call-reachability check (SPEC §7): a Binding Request
// over UDP, its retransmission schedule, and the judgement of an answer:
// genuine when it is a Binding response carrying our transaction id. The
// mapped address a server reports back is the probe's own public address: it
// is never parsed out, stored or logged. Pure byte work (no I/O).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meoktong::stun {

using TransactionId = std::array<uint8_t, 12>;

// A Binding Request with no attributes.
std::vector<uint8_t> binding_request(const TransactionId& id);

// RFC 8489 §6.2.1: resend after 500 ms, then doubling, while within `timeout_ms`
// (offsets from the first send: 500, 1500, 3500, ...).
std::vector<int> resend_schedule(int timeout_ms);

// True when `datagram` is a STUN message answering `id` (a response to
// match: success or error); other datagrams are not the reply.
bool answers(std::span<const uint8_t> datagram, const TransactionId& id);

struct Judgement {
    bool genuine = false;
    std::optional<std::string> failure;  // app_unexpected_reply
    std::string detail;                  // e.g. "Binding Success", "Binding Error 401"
};

// Judges a datagram for which answers() held.
Judgement judge_reply(std::span<const uint8_t> datagram);

}  // namespace meoktong::stun
