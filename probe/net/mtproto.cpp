// MTProto's req_pq_multi exchange in the intermediate transport, plain and
// obfuscated (mtproto.hpp). Facts from core.telegram.org: mtproto/description
// (unencrypted messages), mtproto/mtproto-transports (intermediate,
// obfuscation) and the TL schema (req_pq_multi#be7e8ef1, resPQ#05162463).
#include "probe/net/mtproto.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "meoktong/failure.hpp"

namespace meoktong::mtproto {
namespace {

constexpr uint32_t kReqPqMulti = 0xbe7e8ef1;
constexpr uint32_t kResPq = 0x05162463;
constexpr uint32_t kVector = 0x1cb5c415;
constexpr uint32_t kIntermediateTag = 0xeeeeeeee;
constexpr uint32_t kMaxPacket = 64 * 1024;  // a resPQ is under 100 bytes; more is not the protocol

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u64(std::vector<uint8_t>& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get_u32(std::span<const uint8_t> in, size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | in[at + static_cast<size_t>(i)];
    return v;
}

// AES-256-CTR over `data` from the start of the key stream.
std::vector<uint8_t> aes_ctr(const uint8_t* key, const uint8_t* iv, std::span<const uint8_t> data) {
    std::vector<uint8_t> out(data.size());
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    int len = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, key, iv) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data(), &len, data.data(), static_cast<int>(data.size())) != 1)
        out.clear();  // an OpenSSL that cannot do AES-CTR sends nothing: the exchange then fails as data
    return out;
}

// One intermediate-transport packet holding the unencrypted req_pq_multi.
std::vector<uint8_t> req_pq_packet(const Nonce& nonce, uint64_t message_id) {
    std::vector<uint8_t> message;
    put_u64(message, 0);  // auth_key_id: none yet
    put_u64(message, message_id);
    put_u32(message, 4 + 16);
    put_u32(message, kReqPqMulti);
    message.insert(message.end(), nonce.begin(), nonce.end());
    std::vector<uint8_t> packet;
    put_u32(packet, static_cast<uint32_t>(message.size()));
    packet.insert(packet.end(), message.begin(), message.end());
    return packet;
}

Judgement unexpected(std::string detail) { return {false, failure::kAppUnexpectedReply, std::move(detail)}; }

}  // namespace

ObfuscationSeed fix_seed(ObfuscationSeed seed) {
    auto first4 = [&] { return get_u32(seed, 0); };
    static const uint32_t kForbidden[] = {0x44414548 /* HEAD */, 0x54534f50 /* POST */, 0x20544547 /* GET  */,
                                          0x4954504f /* OPTI */, 0xdddddddd, kIntermediateTag, 0x02010316 /* TLS */};
    // Each fix changes a byte the next checks do not depend on, so one pass suffices.
    if (seed[0] == 0xef) seed[0] = 0xee;  // the abridged transport's tag
    if (std::find(std::begin(kForbidden), std::end(kForbidden), first4()) != std::end(kForbidden)) seed[0] ^= 0x01;
    if (seed[0] == 0xef) seed[0] = 0xec;
    if (get_u32(seed, 4) == 0) seed[4] = 0x01;
    for (int i = 0; i < 4; ++i) seed[56 + static_cast<size_t>(i)] = 0xee;
    return seed;
}

uint64_t message_id_at(double unix_seconds) {
    auto id = static_cast<uint64_t>(unix_seconds * 4294967296.0);
    return id & ~uint64_t{3};
}

Exchange::Exchange(const Nonce& nonce, uint64_t message_id, bool obfuscated, const ObfuscationSeed& seed)
    : obfuscated_(obfuscated) {
    std::vector<uint8_t> packet = req_pq_packet(nonce, message_id);
    if (!obfuscated) {
        put_u32(request_, kIntermediateTag);
        request_.insert(request_.end(), packet.begin(), packet.end());
        return;
    }
    // The client's key and IV are bytes 8..55 of the header; the server's are the same bytes reversed.
    std::array<uint8_t, 48> reversed{};
    std::reverse_copy(seed.begin() + 8, seed.begin() + 56, reversed.begin());
    std::copy_n(reversed.begin(), 32, decrypt_key_.begin());
    std::copy_n(reversed.begin() + 32, 16, decrypt_iv_.begin());
    std::vector<uint8_t> stream(seed.begin(), seed.end());
    stream.insert(stream.end(), packet.begin(), packet.end());
    std::vector<uint8_t> encrypted = aes_ctr(seed.data() + 8, seed.data() + 40, stream);
    if (encrypted.empty()) return;
    request_.assign(seed.begin(), seed.begin() + 56);  // the header goes in the clear but for its tag
    request_.insert(request_.end(), encrypted.begin() + 56, encrypted.end());
}

std::vector<uint8_t> Exchange::cleartext(std::span<const uint8_t> reply) const {
    if (!obfuscated_) return {reply.begin(), reply.end()};
    return aes_ctr(decrypt_key_.data(), decrypt_iv_.data(), reply);
}

bool Exchange::reply_complete(std::span<const uint8_t> reply) const {
    if (reply.size() < 4) return false;
    std::vector<uint8_t> clear = cleartext(reply.first(4));
    if (clear.size() < 4) return true;
    uint32_t length = get_u32(clear, 0);
    return length > kMaxPacket || reply.size() >= 4 + static_cast<size_t>(length);
}

Judgement judge_reply(std::span<const uint8_t> clear, const Nonce& nonce) {
    if (clear.size() < 4) return unexpected("a reply of " + std::to_string(clear.size()) + " bytes");
    uint32_t length = get_u32(clear, 0);
    if (length > kMaxPacket || clear.size() < 4 + static_cast<size_t>(length))
        return unexpected("a packet of " + std::to_string(length) + " bytes announced, " +
                          std::to_string(clear.size() - 4) + " received");
    auto packet = clear.subspan(4, length);
    if (length == 4) return unexpected("transport error " + std::to_string(static_cast<int32_t>(get_u32(packet, 0))));
    // auth_key_id(8) message_id(8) length(4) constructor(4) nonce(16) server_nonce(16)
    if (packet.size() < 56) return unexpected("a packet of " + std::to_string(packet.size()) + " bytes, too short for resPQ");
    if (std::any_of(packet.begin(), packet.begin() + 8, [](uint8_t b) { return b != 0; }))
        return unexpected("an encrypted message, not an unencrypted resPQ");
    uint32_t data_length = get_u32(packet, 16);
    if (data_length > packet.size() - 20) return unexpected("a message longer than its packet");
    uint32_t constructor = get_u32(packet, 20);
    if (constructor != kResPq) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "%08x", constructor);
        return unexpected(std::string("constructor 0x") + hex + ", not resPQ");
    }
    if (!std::equal(nonce.begin(), nonce.end(), packet.begin() + 24)) return {false, failure::kAppNotGenuine, "resPQ nonce differs"};
    // pq:string (one length byte below 254, padded to 4), then Vector<long> of fingerprints.
    auto data = packet.subspan(20, data_length);
    size_t at = 4 + 16 + 16;
    if (at >= data.size() || data[at] >= 254) return unexpected("resPQ without a well-formed pq");
    at += (1 + static_cast<size_t>(data[at]) + 3) / 4 * 4;
    if (at + 8 > data.size() || get_u32(data, at) != kVector) return unexpected("resPQ without its key fingerprints");
    uint32_t count = get_u32(data, at + 4);
    if (count == 0 || count > 64 || at + 8 + 8 * static_cast<size_t>(count) > data.size())
        return unexpected("resPQ with a malformed fingerprint vector");
    return {true, std::nullopt, "resPQ echoes the nonce"};
}

}  // namespace meoktong::mtproto
