// Telegram's MTProto, as far as an unauthenticated probe goes (SPEC §7): the
// first message of the key exchange, req_pq_multi, framed in the intermediate
// transport, plainly or in the obfuscated transport real clients fall back to,
// and the judgement of the reply: genuine when it is a resPQ echoing our nonce.
// Pure byte work (no I/O): the Net seam carries the bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meoktong::mtproto {

using Nonce = std::array<uint8_t, 16>;

// The 64-byte header that opens an obfuscated connection: random, except
// for the bytes a server would take for another protocol (RFC-less; see
// core.telegram.org/mtproto/mtproto-transports).
using ObfuscationSeed = std::array<uint8_t, 64>;

// What one exchange sends and how its reply is read back.
class Exchange {
public:
    // `obfuscated` false: the intermediate transport in the clear (0xeeeeeeee,
    // then length-prefixed packets). true: the same inside AES-256-CTR keyed
    // by `seed` (made usable by fix_seed first).
    Exchange(const Nonce& nonce, uint64_t message_id, bool obfuscated, const ObfuscationSeed& seed);

    const std::vector<uint8_t>& request() const { return request_; }
    // The reply's cleartext: as received, or decrypted for the obfuscated transport.
    std::vector<uint8_t> cleartext(std::span<const uint8_t> reply) const;
    // True once `reply` holds one whole transport packet.
    bool reply_complete(std::span<const uint8_t> reply) const;

private:
    bool obfuscated_;
    std::array<uint8_t, 32> decrypt_key_{};
    std::array<uint8_t, 16> decrypt_iv_{};
    std::vector<uint8_t> request_;
};

// Random bytes rewritten where they would look like another protocol's start
// or an abridged/intermediate tag, then the intermediate tag set at 56..59.
ObfuscationSeed fix_seed(ObfuscationSeed seed);

// A client message id: unix time * 2^32, divisible by 4 (MTProto's rule).
uint64_t message_id_at(double unix_seconds);

struct Judgement {
    bool genuine = false;
    std::optional<std::string> failure;  // app_unexpected_reply | app_not_genuine
    std::string detail;                  // e.g. "transport error -404", "resPQ nonce differs"
};

// Judges the cleartext of a complete reply packet against our nonce.
Judgement judge_reply(std::span<const uint8_t> cleartext, const Nonce& nonce);

}  // namespace meoktong::mtproto
