// A scripted MTProto server for unit tests, written from the transport
// description (core.telegram.org/mtproto/mtproto-transports) independently
// of probe/net/mtproto.cpp: it reads a client's req_pq_multi, plain or
// obfuscated, and answers a resPQ (or what a test tells it to answer instead).
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

namespace meoktong::testing {

inline std::vector<uint8_t> ctr(const uint8_t* key, const uint8_t* iv, std::span<const uint8_t> data) {
    std::vector<uint8_t> out(data.size());
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), nullptr, key, iv);
    EVP_EncryptUpdate(ctx, out.data(), &len, data.data(), static_cast<int>(data.size()));
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

struct MtprotoRequest {
    bool obfuscated = false;
    std::array<uint8_t, 16> nonce{};
    uint32_t constructor = 0;
    std::array<uint8_t, 48> server_key_iv{};  // obfuscated: the reversed header bytes 8..55
};

// Reads what a client sent; nullopt when it is neither transport's req_pq_multi framing.
inline std::optional<MtprotoRequest> read_request(std::span<const uint8_t> in) {
    MtprotoRequest r;
    std::vector<uint8_t> packet;
    if (in.size() >= 4 && std::all_of(in.begin(), in.begin() + 4, [](uint8_t b) { return b == 0xee; })) {
        packet.assign(in.begin() + 4, in.end());
    } else if (in.size() >= 64) {
        r.obfuscated = true;
        auto clear = ctr(in.data() + 8, in.data() + 40, in);
        if (!std::all_of(clear.begin() + 56, clear.begin() + 60, [](uint8_t b) { return b == 0xee; })) return std::nullopt;
        packet.assign(clear.begin() + 64, clear.end());
        std::reverse_copy(in.begin() + 8, in.begin() + 56, r.server_key_iv.begin());
    } else {
        return std::nullopt;
    }
    if (packet.size() < 4 + 40) return std::nullopt;
    r.constructor = uint32_t{packet[24]} | uint32_t{packet[25]} << 8 | uint32_t{packet[26]} << 16 | uint32_t{packet[27]} << 24;
    std::copy_n(packet.begin() + 28, 16, r.nonce.begin());
    return r;
}

// The resPQ packet (intermediate framing) answering `nonce`. Written byte by byte into a
// fixed array: GCC 12 at -O3 warns falsely (-Warray-bounds, -Wstringop-overflow) on vectors
// grown by insert from short initializer lists.
inline std::vector<uint8_t> respq_packet(const std::array<uint8_t, 16>& nonce) {
    constexpr size_t kData = 4 + 16 + 16 + 12 + 8 + 8, kMessage = 8 + 8 + 4 + kData;
    std::array<uint8_t, 4 + kMessage> packet{};
    size_t at = 0;
    auto put = [&](std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes) packet[at++] = b;
    };
    put({uint8_t(kMessage), 0, 0, 0});                                       // intermediate length
    at += 8;                                                                 // auth_key_id 0
    put({1, 0, 0, 0, 0x10, 0x22, 0x33, 0x44});                               // message_id
    put({uint8_t(kData), 0, 0, 0});
    put({0x63, 0x24, 0x16, 0x05});                                           // resPQ
    for (uint8_t b : nonce) packet[at++] = b;
    for (int i = 0; i < 16; ++i) packet[at++] = 0x5a;                        // server_nonce
    put({8, 0x17, 0xed, 0x48, 0x94, 0x1a, 0x08, 0xf9, 0x81, 0, 0, 0});      // pq, padded
    put({0x15, 0xc4, 0xb5, 0x1c, 1, 0, 0, 0});                               // Vector<long>, one
    put({0x21, 0x6b, 0xe8, 0x6c, 0x02, 0x2b, 0xb4, 0xc3});                   // fingerprint
    return {packet.begin(), packet.end()};
}

// The bytes on the wire for a reply packet: encrypted for an obfuscated client.
inline std::vector<uint8_t> on_the_wire(const MtprotoRequest& r, const std::vector<uint8_t>& packet) {
    if (!r.obfuscated) return packet;
    return ctr(r.server_key_iv.data(), r.server_key_iv.data() + 32, packet);
}

}  // namespace meoktong::testing
