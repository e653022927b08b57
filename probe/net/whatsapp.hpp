// WhatsApp's chat protocol, as far as a probe without an account goes (SPEC §7):
// the start of the Noise XX handshake every client sends (the `WA` connection
// header, which is also the Noise prologue, then one framed HandshakeMessage
// carrying the ClientHello with our ephemeral X25519 key), and the judgement
// of the server's answer: genuine when the ServerHello's static key and
// payload decrypt under the Noise keys and the payload is a certificate chain
// that verifies against WhatsApp's published root key and names that static
// key. The probe stops there: no ClientFinish, no login payload is ever sent.
//
// Facts from tulir/whatsmeow (socket/constants.go, socket/noisehandshake.go,
// socket/noisesocket.go, socket/framesocket.go, handshake.go,
// proto/waWa6/WAWebProtobufsWa6.proto, proto/waCert/WACert.proto),
// WhiskeySockets/Baileys (src/Utils/noise-handler.ts, src/Defaults/index.ts,
// src/Utils/crypto.ts) and tulir/libsignal-protocol-go (ecc/SignCurve25519.go,
// the XEdDSA verification the certificates are signed for).
// Pure byte work (no I/O): the Net seam carries the bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meoktong::whatsapp {

// An X25519 (Curve25519, Montgomery u) key, private or public.
using Key = std::array<uint8_t, 32>;

// 'W' 'A', the magic 6 and the dictionary version 3: sent once before the
// first frame and mixed into the handshake hash as the prologue.
inline constexpr std::array<uint8_t, 4> kConnectionHeader = {'W', 'A', 6, 3};

// Frames are a 3-byte big-endian length, then that many bytes. A ServerHello
// is a few hundred bytes; a frame announcing more than this is not one.
inline constexpr size_t kFrameLengthBytes = 3;
inline constexpr size_t kMaxReplyFrame = 64 * 1024;

// The intermediate certificate's expected issuer serial (the root's).
inline constexpr uint64_t kRootIssuerSerial = 0;

struct Judgement {
    bool genuine = false;
    std::optional<std::string> failure;  // app_unexpected_reply | app_not_genuine
    std::string detail;                  // which check failed, or what verified
};

// One client's start of the handshake, from its ephemeral private key.
class Handshake {
public:
    explicit Handshake(const Key& ephemeral_private);

    // The connection header and the framed ClientHello. Empty when OpenSSL
    // cannot make the key's public half (the exchange then fails as data).
    const std::vector<uint8_t>& request() const { return request_; }

    // True once `reply` holds one whole frame, or a length past kMaxReplyFrame
    // (the judgement then says why that is not a ServerHello).
    bool reply_complete(std::span<const uint8_t> reply) const;

    // Judges the reply's first frame against the root key (whose signatures
    // are XEdDSA over Curve25519) at `unix_now`, for the certificates'
    // validity. A chain that verifies but is outside its validity is the
    // genuine server's own fault: genuine, with app_unexpected_reply.
    Judgement judge(std::span<const uint8_t> reply, const Key& root_public, int64_t unix_now) const;

private:
    Key ephemeral_private_{};
    Key ephemeral_public_{};
    std::vector<uint8_t> request_;
};

// The certificate chain check alone: `cert_chain` is the decrypted ServerHello
// payload, `server_static` the decrypted static key. Used by judge(); public
// for tests and fuzzing.
Judgement judge_cert_chain(std::span<const uint8_t> cert_chain, const Key& server_static, const Key& root_public,
                           int64_t unix_now);

}  // namespace meoktong::whatsapp
