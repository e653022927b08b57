// KakaoTalk's LOCO protocol, as far as an unauthenticated probe goes (SPEC §7):
// the booking request GETCONF that every client sends first (over TLS, to
// booking-loco.kakao.com:443), and the judgement of its answer: genuine when a
// GETCONF reply with our packet id carries a well-formed configuration; the
// check-in hosts and ports it names are then measured as discovered targets.
// Facts from public client sources (docs/protocols.md). Pure byte work (no I/O).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meoktong::loco {

// A LOCO packet: the 22-byte little-endian header (packet id, status, an
// 11-byte NUL-padded method, body type 0 = BSON, body length), then the body.
inline constexpr size_t kHeaderBytes = 22;
inline constexpr size_t kMaxReplyBytes = 16 * 1024;  // a GETCONF answer is a few kB

// The GETCONF request a desktop client sends: {MCCMNC: "999", os: "win32", model: ""}.
std::vector<uint8_t> getconf_request(uint32_t packet_id);

// True once `reply` holds one whole packet (or a header announcing more than
// kMaxReplyBytes: the judgement then says why that is not LOCO).
bool reply_complete(std::span<const uint8_t> reply);

struct CheckinEndpoint {
    std::string host;
    uint16_t port = 0;
};

// At most this many check-in endpoints are taken from one answer (hosts
// first, in the answer's order, each with its ports).
inline constexpr size_t kMaxCheckinEndpoints = 6;

struct Judgement {
    bool genuine = false;
    std::optional<std::string> failure;  // app_unexpected_reply | app_not_genuine
    std::string detail;                  // e.g. "GETCONF status -500", "no ticket.lsl"
    std::vector<CheckinEndpoint> checkin;  // genuine answers: ticket.lsl hosts x wifi.ports
};

// Judges a reply for which reply_complete held (or the bytes at the deadline).
Judgement judge_reply(std::span<const uint8_t> reply, uint32_t packet_id);

}  // namespace meoktong::loco
