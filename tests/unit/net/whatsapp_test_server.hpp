// A scripted WhatsApp chat server for unit tests, written from the public
// clients' description of the protocol (the Noise XX pattern with the `WA`
// prologue, HandshakeMessage and CertChain field numbers, XEdDSA-signed
// certificates) independently of probe/net/whatsapp.cpp: its own protobuf
// encoding by hand, the responder side of Noise XX with OpenSSL's HKDF, and a
// certificate chain made by the test (a root and an intermediate that sign
// with Ed25519 keys published as their Curve25519 u, as XEdDSA verifies them,
// and a leaf naming the server's static X25519 key).
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace meoktong::testing::wa {

using Bytes = std::vector<uint8_t>;
using Key32 = std::array<uint8_t, 32>;

inline void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("whatsapp test server: ") + what);
}

// ---- protobuf by hand ----

inline void put_varint(Bytes& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
}
inline void put_len_field(Bytes& out, uint32_t field, std::span<const uint8_t> value) {
    put_varint(out, uint64_t{field} << 3 | 2);
    put_varint(out, value.size());
    out.insert(out.end(), value.begin(), value.end());
}
inline void put_varint_field(Bytes& out, uint32_t field, uint64_t value) {
    put_varint(out, uint64_t{field} << 3);
    put_varint(out, value);
}

// The last length-delimited field `field` of a message holding only varint
// and length-delimited fields; nullopt if absent or malformed.
inline std::optional<Bytes> len_field(std::span<const uint8_t> in, uint32_t field) {
    std::optional<Bytes> found;
    size_t at = 0;
    auto varint = [&](uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64 && at < in.size(); shift += 7) {
            uint8_t b = in[at++];
            v |= uint64_t{b & 0x7fu} << shift;
            if (!(b & 0x80)) return true;
        }
        return false;
    };
    while (at < in.size()) {
        uint64_t key = 0, value = 0;
        if (!varint(key) || !varint(value)) return std::nullopt;
        if ((key & 7) == 0) continue;
        if ((key & 7) != 2 || value > in.size() - at) return std::nullopt;
        if ((key >> 3) == field) found = Bytes(in.begin() + static_cast<long>(at), in.begin() + static_cast<long>(at + value));
        at += value;
    }
    return found;
}

// ---- crypto ----

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline Pkey generate(int type) {
    EVP_PKEY* key = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(type, nullptr);
    check(ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1, "keygen");
    EVP_PKEY_CTX_free(ctx);
    return Pkey(key);
}
inline Key32 raw_public(EVP_PKEY* key) {
    Key32 out{};
    size_t n = out.size();
    check(EVP_PKEY_get_raw_public_key(key, out.data(), &n) == 1 && n == 32, "raw public key");
    return out;
}
inline Key32 x25519_public_of(const Key32& priv) {
    Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), priv.size()));
    check(key != nullptr, "x25519 private key");
    return raw_public(key.get());
}
inline Bytes x25519_shared(EVP_PKEY* mine, std::span<const uint8_t> their_public) {
    Pkey theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, their_public.data(), their_public.size()));
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(mine, nullptr);
    Bytes out(32);
    size_t n = out.size();
    bool ok = theirs && ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, theirs.get()) == 1 &&
              EVP_PKEY_derive(ctx, out.data(), &n) == 1;
    EVP_PKEY_CTX_free(ctx);
    check(ok && n == 32, "x25519");
    return out;
}
inline Key32 sha256(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    Bytes both(a.begin(), a.end());
    both.insert(both.end(), b.begin(), b.end());
    Key32 out{};
    check(EVP_Digest(both.data(), both.size(), out.data(), nullptr, EVP_sha256(), nullptr) == 1, "sha256");
    return out;
}
// HKDF-SHA256 (OpenSSL's KDF) to 64 bytes, empty info.
inline std::array<uint8_t, 64> hkdf64(std::span<const uint8_t> salt, std::span<const uint8_t> input) {
    std::array<uint8_t, 64> out{};
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(input.data()), input.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
        OSSL_PARAM_construct_end()};
    bool ok = ctx && EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    check(ok, "hkdf");
    return out;
}
// AES-256-GCM seal with a zero-based counter nonce (big-endian in bytes 8..11); tag appended.
inline Bytes gcm_seal(std::span<const uint8_t> key, uint32_t counter, std::span<const uint8_t> ad, std::span<const uint8_t> plain) {
    uint8_t iv[12] = {0, 0, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(counter >> 24), static_cast<uint8_t>(counter >> 16),
                      static_cast<uint8_t>(counter >> 8), static_cast<uint8_t>(counter)};
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes out(plain.size() + 16);
    int n = 0, fin = 0;
    bool ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), iv) == 1 &&
              EVP_EncryptUpdate(ctx, nullptr, &n, ad.data(), static_cast<int>(ad.size())) == 1 &&
              EVP_EncryptUpdate(ctx, out.data(), &n, plain.data(), static_cast<int>(plain.size())) == 1 &&
              EVP_EncryptFinal_ex(ctx, out.data() + n, &fin) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + plain.size()) == 1;
    EVP_CIPHER_CTX_free(ctx);
    check(ok, "gcm seal");
    return out;
}

// An Ed25519 key published as the Curve25519 u of its point, u = (1 + y) / (1 - y),
// whose signatures carry the point's sign bit in their top bit (XEdDSA's form).
class XSigner {
public:
    XSigner() : key_(generate(EVP_PKEY_ED25519)) {
        edwards_ = raw_public(key_.get());
        Key32 y_bytes = edwards_;
        y_bytes[31] &= 0x7f;
        BN_CTX* ctx = BN_CTX_new();
        BIGNUM *p = BN_new(), *y = BN_lebin2bn(y_bytes.data(), 32, nullptr), *num = BN_new(), *den = BN_new(), *u = BN_new();
        bool ok = ctx && p && y && num && den && u && BN_set_bit(p, 255) == 1 && BN_sub_word(p, 19) == 1 &&
                  BN_mod_add(num, BN_value_one(), y, p, ctx) == 1 && BN_mod_sub(den, BN_value_one(), y, p, ctx) == 1 &&
                  BN_mod_inverse(den, den, p, ctx) != nullptr && BN_mod_mul(u, num, den, p, ctx) == 1 &&
                  BN_bn2lebinpad(u, montgomery_.data(), 32) == 32;
        for (BIGNUM* b : {p, y, num, den, u}) BN_free(b);
        BN_CTX_free(ctx);
        check(ok, "montgomery u");
    }
    const Key32& montgomery() const { return montgomery_; }
    Bytes sign(std::span<const uint8_t> message) const {
        Bytes sig(64);
        size_t n = sig.size();
        EVP_MD_CTX* md = EVP_MD_CTX_new();
        bool ok = md && EVP_DigestSignInit(md, nullptr, nullptr, nullptr, key_.get()) == 1 &&
                  EVP_DigestSign(md, sig.data(), &n, message.data(), message.size()) == 1;
        EVP_MD_CTX_free(md);
        check(ok && n == 64, "ed25519 sign");
        sig[63] |= edwards_[31] & 0x80;
        return sig;
    }

private:
    Pkey key_;
    Key32 edwards_{};
    Key32 montgomery_{};
};

// What the chain says, and how the answer is spoiled, per test.
struct ChainOptions {
    uint64_t intermediate_serial = 7;
    uint64_t intermediate_issuer = 0;
    uint64_t leaf_serial = 4242;
    uint64_t leaf_issuer = 7;
    std::optional<Key32> leaf_key;  // default: the server's static key
    uint64_t not_before = 1'600'000'000;
    uint64_t not_after = 2'000'000'000;
    bool corrupt_payload = false;  // flip a byte of the sealed payload
};

class Responder {
public:
    Responder() : static_(generate(EVP_PKEY_X25519)) {}

    const Key32& root_public() const { return root_.montgomery(); }
    Key32 static_public() const { return raw_public(static_.get()); }

    Bytes cert_chain(const ChainOptions& o) const {
        auto details = [](uint64_t serial, uint64_t issuer, std::span<const uint8_t> key, uint64_t nb, uint64_t na) {
            Bytes d;
            put_varint_field(d, 1, serial);
            put_varint_field(d, 2, issuer);
            put_len_field(d, 3, key);
            put_varint_field(d, 4, nb);
            put_varint_field(d, 5, na);
            return d;
        };
        auto certificate = [](const Bytes& d, const Bytes& signature) {
            Bytes c;
            put_len_field(c, 1, d);
            put_len_field(c, 2, signature);
            return c;
        };
        Bytes inter = details(o.intermediate_serial, o.intermediate_issuer, intermediate_.montgomery(), o.not_before, o.not_after);
        Key32 leaf_key = o.leaf_key ? *o.leaf_key : static_public();
        Bytes leaf = details(o.leaf_serial, o.leaf_issuer, leaf_key, o.not_before, o.not_after);
        Bytes chain;
        put_len_field(chain, 1, certificate(leaf, intermediate_.sign(leaf)));
        put_len_field(chain, 2, certificate(inter, root_.sign(inter)));
        return chain;
    }

    // The ServerHello frame answering a client's header + ClientHello frame,
    // or nullopt when `request` is not that.
    std::optional<Bytes> answer(std::span<const uint8_t> request, const ChainOptions& o = {}) const {
        if (request.size() < 7 || request[0] != 'W' || request[1] != 'A') return std::nullopt;
        size_t length = size_t{request[4]} << 16 | size_t{request[5]} << 8 | request[6];
        if (request.size() != 7 + length) return std::nullopt;
        auto hello = len_field(request.subspan(7), 2);
        auto client_ephemeral = hello ? len_field(*hello, 1) : std::nullopt;
        if (!client_ephemeral || client_ephemeral->size() != 32) return std::nullopt;

        const std::string protocol("Noise_XX_25519_AESGCM_SHA256\0\0\0\0", 32);
        Key32 h{}, ck{};
        std::copy(protocol.begin(), protocol.end(), h.begin());
        ck = h;
        h = sha256(h, request.first(4));
        h = sha256(h, *client_ephemeral);
        Pkey ephemeral = generate(EVP_PKEY_X25519);
        Key32 ephemeral_public = raw_public(ephemeral.get());
        h = sha256(h, ephemeral_public);
        auto okm = hkdf64(ck, x25519_shared(ephemeral.get(), *client_ephemeral));
        std::copy_n(okm.begin(), 32, ck.begin());
        Key32 static_pub = static_public();
        Bytes sealed_static = gcm_seal(std::span(okm).subspan(32), 0, h, static_pub);
        h = sha256(h, sealed_static);
        okm = hkdf64(ck, x25519_shared(static_.get(), *client_ephemeral));
        Bytes sealed_payload = gcm_seal(std::span(okm).subspan(32), 0, h, cert_chain(o));
        if (o.corrupt_payload) sealed_payload[5] ^= 0x01;

        Bytes server_hello;
        put_len_field(server_hello, 1, ephemeral_public);
        put_len_field(server_hello, 2, sealed_static);
        put_len_field(server_hello, 3, sealed_payload);
        Bytes message;
        put_len_field(message, 3, server_hello);
        Bytes frame{static_cast<uint8_t>(message.size() >> 16), static_cast<uint8_t>(message.size() >> 8),
                    static_cast<uint8_t>(message.size())};
        frame.insert(frame.end(), message.begin(), message.end());
        return frame;
    }

private:
    XSigner root_;
    XSigner intermediate_;
    Pkey static_;
};

}  // namespace meoktong::testing::wa
