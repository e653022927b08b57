// Signal's provisioning WebSocket, as far as an unauthenticated probe goes
// (SPEC §7): inside a TLS session verified against Signal's own roots
// (testlists/signal-roots.pem), the HTTP/1.1 upgrade of
// /v1/websocket/provisioning/ and the judgement of the answer: genuine when
// the server's first message arrives, the request PUT /v1/address carrying a
// ProvisioningAddress. That is what every new, not yet linked device reads
// first; nothing needs or creates an account and nothing is sent after the
// upgrade. The address is a per-session secret: it never leaves the judge.
// Facts from signalapp/Signal-Server (ProvisioningConnectListener.java,
// WebSocketProtocol.proto, TextSecure.proto, WhisperServerService.java,
// RemoteDeprecationFilter.java) and signalapp/libsignal (rust/net/src/env.rs,
// rust/net/src/proto/chat_websocket.proto, chat_provisioning.proto); the
// handshake is RFC 6455 §4. Pure byte work (no I/O): framing by wslay, the
// protobuf wire format by libprotobuf's CodedInputStream.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meoktong::signal {

// The path of the provisioning socket (Signal-Server WhisperServerService,
// libsignal env.rs CHAT_PROVISIONING_PATH); the server asks no query.
inline constexpr const char* kProvisioningPath = "/v1/websocket/provisioning/";

// Bounds on what is read: the 101 head is a few hundred bytes and the first
// message about a hundred.
inline constexpr size_t kMaxHeadBytes = 8 * 1024;
inline constexpr size_t kMaxMessageBytes = 16 * 1024;
inline constexpr size_t kMaxReplyBytes = kMaxHeadBytes + 14 + kMaxMessageBytes;  // 14: the longest frame header

struct Upgrade {
    std::vector<uint8_t> request;  // the bytes to send
    std::string key;               // Sec-WebSocket-Key, for judge_reply
};

// The upgrade request: GET kProvisioningPath with `host` as the Host header
// (a validated host name, with ":port" appended by the caller for a port
// other than 443), the key base64 of `key_bytes` (16 random bytes, RFC 6455
// §4.1), and a User-Agent naming meoktong (the server accepts one it does
// not recognise).
Upgrade upgrade_request(const std::string& host, const std::array<uint8_t, 16>& key_bytes);

// True once `reply` holds the HTTP response head and, for a 101, one whole
// WebSocket frame after it (any other status: the head is enough); also true
// when the head or the frame outgrows the bounds above (the judgement then
// says why that is not Signal).
bool reply_complete(std::span<const uint8_t> reply);

struct Judgement {
    bool genuine = false;
    std::optional<std::string> failure;  // app_unexpected_reply
    std::string detail;                  // e.g. "provisioning address received", "HTTP 503 at the provisioning socket"
};

// Judges a reply for which reply_complete held (or the bytes at the deadline)
// against the request's Sec-WebSocket-Key. Genuine: a 101 with the right
// Sec-WebSocket-Accept, then an unmasked, final binary frame holding a
// WebSocketMessage of type REQUEST, PUT /v1/address, whose body is a
// ProvisioningAddress with a non-empty address. A 5xx or 429 instead of the
// 101 is Signal's own error (genuine, with a failure: the session verified
// against Signal's roots); anything else is an unexpected reply.
Judgement judge_reply(std::span<const uint8_t> reply, const std::string& key);

}  // namespace meoktong::signal
