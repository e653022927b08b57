// WhatsApp's Noise XX start and the ServerHello's judgement (whatsapp.hpp).
// Facts from tulir/whatsmeow (socket/noisehandshake.go, handshake.go,
// socket/constants.go, socket/noisesocket.go, proto/waWa6, proto/waCert),
// WhiskeySockets/Baileys (src/Utils/noise-handler.ts, src/Defaults/index.ts)
// and tulir/libsignal-protocol-go (ecc/SignCurve25519.go):
//  - protocol name "Noise_XX_25519_AESGCM_SHA256\0\0\0\0" is 32 bytes, so it
//    is the initial hash itself; the chaining key starts equal to it; the
//    connection header is mixed in as the prologue, then our ephemeral key;
//  - MixKey is HKDF-SHA256(salt = chaining key, input = X25519 output, no
//    info) to 64 bytes: the new chaining key, then the AES-256-GCM key, whose
//    nonce counter restarts at 0; the nonce is 12 bytes, the counter
//    big-endian in the last 4; the associated data is the handshake hash,
//    which then absorbs the ciphertext;
//  - HandshakeMessage{clientHello = 2 {ephemeral = 1}, serverHello = 3
//    {ephemeral = 1, static = 2, payload = 3}}; CertChain{leaf = 1,
//    intermediate = 2}, each {details = 1, signature = 2}, details{serial = 1,
//    issuerSerial = 2, key = 3, notBefore = 4, notAfter = 5};
//  - signatures are XEdDSA: the Curve25519 key u becomes the Edwards y =
//    (u - 1) / (u + 1), the sign bit moves from the signature's last byte into
//    that key, and the rest is Ed25519 verification.
#include "probe/net/whatsapp.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <climits>
#include <exception>
#include <map>
#include <memory>

#include "meoktong/failure.hpp"

namespace meoktong::whatsapp {
namespace {

using google::protobuf::internal::WireFormatLite;
using Bytes = std::vector<uint8_t>;
using Block = std::array<uint8_t, 32>;

constexpr char kNoiseProtocol[] = "Noise_XX_25519_AESGCM_SHA256\0\0\0";  // with the literal's own NUL: 32 bytes
static_assert(sizeof kNoiseProtocol == 32);
constexpr size_t kGcmTagBytes = 16;
constexpr size_t kSignatureBytes = 64;

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX, BN_CTX_free>>;

Judgement unexpected(std::string detail) { return {false, failure::kAppUnexpectedReply, std::move(detail)}; }
Judgement not_genuine(std::string detail) { return {false, failure::kAppNotGenuine, std::move(detail)}; }

// ---- protobuf wire format ----

// The length-delimited and varint fields of one message (the last of a
// repeated number wins); other wire types are skipped. nullopt when the
// bytes are not a well-formed message.
struct Fields {
    std::map<uint32_t, Bytes> bytes;
    std::map<uint32_t, uint64_t> numbers;

    std::optional<std::span<const uint8_t>> get_bytes(uint32_t field) const {
        auto it = bytes.find(field);
        if (it == bytes.end()) return std::nullopt;
        return std::span<const uint8_t>(it->second);
    }
    uint64_t get_number(uint32_t field) const {  // proto2's default for an absent number is 0
        auto it = numbers.find(field);
        return it == numbers.end() ? 0 : it->second;
    }
};

std::optional<Fields> read_fields(std::span<const uint8_t> in) {
    if (in.size() > static_cast<size_t>(INT_MAX)) return std::nullopt;
    google::protobuf::io::CodedInputStream stream(in.data(), static_cast<int>(in.size()));
    Fields fields;
    for (uint32_t tag = stream.ReadTag(); tag != 0; tag = stream.ReadTag()) {
        uint32_t field = WireFormatLite::GetTagFieldNumber(tag);
        if (field == 0) return std::nullopt;
        switch (WireFormatLite::GetTagWireType(tag)) {
            case WireFormatLite::WIRETYPE_VARINT: {
                uint64_t value = 0;
                if (!stream.ReadVarint64(&value)) return std::nullopt;
                fields.numbers[field] = value;
                break;
            }
            case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
                uint32_t length = 0;
                if (!stream.ReadVarint32(&length) || length > in.size()) return std::nullopt;
                std::string value;
                if (!stream.ReadString(&value, static_cast<int>(length))) return std::nullopt;
                fields.bytes[field] = Bytes(value.begin(), value.end());
                break;
            }
            default:
                if (!WireFormatLite::SkipField(&stream, tag)) return std::nullopt;
        }
    }
    if (!stream.ConsumedEntireMessage()) return std::nullopt;
    return fields;
}

// One length-delimited field: tag, length, bytes.
void put_bytes_field(google::protobuf::io::CodedOutputStream& out, uint32_t field, std::span<const uint8_t> value) {
    out.WriteTag(WireFormatLite::MakeTag(static_cast<int>(field), WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint32(static_cast<uint32_t>(value.size()));
    out.WriteRaw(value.data(), static_cast<int>(value.size()));
}

Bytes message_with(uint32_t field, std::span<const uint8_t> value) {
    std::string encoded;
    {
        google::protobuf::io::StringOutputStream sink(&encoded);
        google::protobuf::io::CodedOutputStream out(&sink);
        put_bytes_field(out, field, value);
    }
    return Bytes(encoded.begin(), encoded.end());
}

// ---- primitives (OpenSSL) ----

std::optional<Key> x25519_public(const Key& private_key) {
    PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), private_key.size()));
    Key out{};
    size_t length = out.size();
    if (!key || EVP_PKEY_get_raw_public_key(key.get(), out.data(), &length) != 1 || length != out.size())
        return std::nullopt;
    return out;
}

// nullopt for a peer key OpenSSL refuses (one of low order gives all zeros).
std::optional<Block> x25519(const Key& private_key, std::span<const uint8_t> peer_public) {
    PkeyPtr mine(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), private_key.size()));
    PkeyPtr theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(), peer_public.size()));
    if (!mine || !theirs) return std::nullopt;
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new(mine.get(), nullptr));
    Block out{};
    size_t length = out.size();
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
        EVP_PKEY_derive(ctx.get(), out.data(), &length) != 1 || length != out.size())
        return std::nullopt;
    return out;
}

Block sha256_of(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    Block out{};
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 || EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out.data(), nullptr) != 1)
        out.fill(0);  // no SHA-256: every decryption then fails, and the answer is judged not genuine
    return out;
}

Block hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
    Block out{};
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &length);
    return out;
}

// AES-256-GCM open of ciphertext || tag; nullopt when the tag does not verify.
std::optional<Bytes> gcm_open(const Block& key, uint32_t counter, std::span<const uint8_t> associated,
                              std::span<const uint8_t> sealed) {
    if (sealed.size() < kGcmTagBytes || sealed.size() > static_cast<size_t>(INT_MAX)) return std::nullopt;
    std::array<uint8_t, 12> iv{};
    for (int i = 0; i < 4; ++i) iv[8 + static_cast<size_t>(i)] = static_cast<uint8_t>(counter >> (24 - 8 * i));
    auto ciphertext = sealed.first(sealed.size() - kGcmTagBytes);
    Bytes tag(sealed.end() - kGcmTagBytes, sealed.end());
    Bytes plain(ciphertext.size() + 16);
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int length = 0;
    int final_length = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), iv.data()) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &length, associated.data(), static_cast<int>(associated.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), plain.data(), &length, ciphertext.data(), static_cast<int>(ciphertext.size())) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()), tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), plain.data() + length, &final_length) != 1)
        return std::nullopt;
    plain.resize(static_cast<size_t>(length + final_length));
    return plain;
}

// XEdDSA verification of `signature` over `message` by the Curve25519 key `signer`.
bool xeddsa_verify(std::span<const uint8_t> signer, std::span<const uint8_t> message, std::span<const uint8_t> signature) {
    if (signer.size() != 32 || signature.size() != kSignatureBytes) return false;
    Key u{};
    std::copy(signer.begin(), signer.end(), u.begin());
    u[31] &= 0x7f;
    BnCtxPtr bn_ctx(BN_CTX_new());
    BnPtr prime(BN_new()), x(BN_lebin2bn(u.data(), static_cast<int>(u.size()), nullptr)), minus(BN_new()), plus(BN_new()),
        y(BN_new());
    if (!bn_ctx || !prime || !x || !minus || !plus || !y || BN_set_bit(prime.get(), 255) != 1 ||
        BN_sub_word(prime.get(), 19) != 1 ||
        BN_mod_sub(minus.get(), x.get(), BN_value_one(), prime.get(), bn_ctx.get()) != 1 ||
        BN_mod_add(plus.get(), x.get(), BN_value_one(), prime.get(), bn_ctx.get()) != 1)
        return false;
    BnPtr inverse(BN_mod_inverse(nullptr, plus.get(), prime.get(), bn_ctx.get()));
    Key edwards{};
    if (!inverse || BN_mod_mul(y.get(), minus.get(), inverse.get(), prime.get(), bn_ctx.get()) != 1 ||
        BN_bn2lebinpad(y.get(), edwards.data(), static_cast<int>(edwards.size())) != static_cast<int>(edwards.size()))
        return false;
    edwards[31] |= signature[63] & 0x80;
    std::array<uint8_t, kSignatureBytes> ed_signature{};
    std::copy(signature.begin(), signature.end(), ed_signature.begin());
    ed_signature[63] &= 0x7f;
    PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, edwards.data(), edwards.size()));
    MdCtxPtr md(EVP_MD_CTX_new());
    return key && md && EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
           EVP_DigestVerify(md.get(), ed_signature.data(), ed_signature.size(), message.data(), message.size()) == 1;
}

// ---- Noise XX, the initiator's reading side ----

class NoiseReader {
public:
    explicit NoiseReader(std::span<const uint8_t> prologue) {
        std::copy_n(kNoiseProtocol, hash_.size(), hash_.begin());
        chaining_key_ = hash_;
        mix_hash(prologue);
    }
    void mix_hash(std::span<const uint8_t> data) { hash_ = sha256_of(hash_, data); }
    void mix_key(const Block& input) {
        // HKDF-SHA256, two blocks of output, empty info.
        Block pseudo_random = hmac_sha256(chaining_key_, input);
        Bytes first_input{0x01};
        Block first = hmac_sha256(pseudo_random, first_input);
        Bytes second_input(first.begin(), first.end());
        second_input.push_back(0x02);
        chaining_key_ = first;
        key_ = hmac_sha256(pseudo_random, second_input);
        counter_ = 0;
    }
    std::optional<Bytes> decrypt_and_hash(std::span<const uint8_t> ciphertext) {
        auto plain = gcm_open(key_, counter_++, hash_, ciphertext);
        if (plain) mix_hash(ciphertext);
        return plain;
    }

private:
    Block hash_{};
    Block chaining_key_{};
    Block key_{};
    uint32_t counter_ = 0;
};

uint32_t frame_length(std::span<const uint8_t> in) {
    return uint32_t{in[0]} << 16 | uint32_t{in[1]} << 8 | uint32_t{in[2]};
}

// One certificate of the chain: its signed details' bytes and the parsed details.
struct Certificate {
    Bytes details_bytes;
    Bytes signature;
    Fields details;
};

enum DetailField : uint32_t { kSerial = 1, kIssuerSerial = 2, kKey = 3, kNotBefore = 4, kNotAfter = 5 };

std::optional<Certificate> read_certificate(const Fields& chain, uint32_t field) {
    auto raw = chain.get_bytes(field);
    if (!raw) return std::nullopt;
    auto cert = read_fields(*raw);
    if (!cert) return std::nullopt;
    auto details = cert->get_bytes(1);
    auto signature = cert->get_bytes(2);
    if (!details || !signature) return std::nullopt;
    auto parsed = read_fields(*details);
    if (!parsed) return std::nullopt;
    return Certificate{Bytes(details->begin(), details->end()), Bytes(signature->begin(), signature->end()),
                       std::move(*parsed)};
}

std::optional<std::string> outside_validity(const char* which, const Fields& details, uint64_t now) {
    uint64_t not_before = details.get_number(kNotBefore);
    uint64_t not_after = details.get_number(kNotAfter);
    if (now < not_before) return std::string("the ") + which + " certificate is not valid before " + std::to_string(not_before);
    if (now > not_after) return std::string("the ") + which + " certificate expired at " + std::to_string(not_after);
    return std::nullopt;
}

Judgement judge_chain_unguarded(std::span<const uint8_t> cert_chain, const Key& server_static, const Key& root_public,
                                int64_t unix_now) {
    try {
        auto chain = read_fields(cert_chain);
        if (!chain) return not_genuine("the ServerHello's payload is not a CertChain");
        auto intermediate = read_certificate(*chain, 2);
        auto leaf = read_certificate(*chain, 1);
        if (!intermediate || !leaf)
            return not_genuine("a CertChain without a well-formed leaf and intermediate (details, signature)");
        if (!xeddsa_verify(root_public, intermediate->details_bytes, intermediate->signature))
            return not_genuine("the intermediate certificate is not signed by the root key");
        uint64_t issuer = intermediate->details.get_number(kIssuerSerial);
        if (issuer != kRootIssuerSerial)
            return not_genuine("the intermediate certificate's issuer serial is " + std::to_string(issuer) + ", not " +
                               std::to_string(kRootIssuerSerial));
        auto intermediate_key = intermediate->details.get_bytes(kKey);
        if (!intermediate_key || intermediate_key->size() != 32)
            return not_genuine("the intermediate certificate has no 32-byte key");
        if (!xeddsa_verify(*intermediate_key, leaf->details_bytes, leaf->signature))
            return not_genuine("the leaf certificate is not signed by the intermediate's key");
        uint64_t serial = intermediate->details.get_number(kSerial);
        if (leaf->details.get_number(kIssuerSerial) != serial)
            return not_genuine("the leaf certificate's issuer serial is " +
                               std::to_string(leaf->details.get_number(kIssuerSerial)) + ", not the intermediate's " +
                               std::to_string(serial));
        auto leaf_key = leaf->details.get_bytes(kKey);
        if (!leaf_key || !std::equal(leaf_key->begin(), leaf_key->end(), server_static.begin(), server_static.end()))
            return not_genuine("the leaf certificate's key is not the ServerHello's static key");
        uint64_t now = unix_now < 0 ? 0 : static_cast<uint64_t>(unix_now);
        for (auto [which, cert] : {std::pair{"intermediate", &*intermediate}, std::pair{"leaf", &*leaf}})
            if (auto outside = outside_validity(which, cert->details, now))
                return {true, failure::kAppUnexpectedReply, *outside};
        return {true, std::nullopt,
                "the ServerHello's certificate chain verifies against the root key (intermediate serial " +
                    std::to_string(serial) + ", leaf serial " + std::to_string(leaf->details.get_number(kSerial)) + ")"};
    } catch (const std::exception& e) {
        return unexpected(std::string("the certificate chain could not be judged: ") + e.what());
    }
}

Judgement judge_unguarded(std::span<const uint8_t> reply, const Key& ephemeral_private, const Key& ephemeral_public,
                          const Key& root_public, int64_t unix_now) {
    if (reply.size() < kFrameLengthBytes) return unexpected("a reply of " + std::to_string(reply.size()) + " bytes");
    uint32_t length = frame_length(reply);
    if (length > kMaxReplyFrame || reply.size() < kFrameLengthBytes + length)
        return unexpected("a frame of " + std::to_string(length) + " bytes announced, " +
                          std::to_string(reply.size() - kFrameLengthBytes) + " received");
    auto message = read_fields(reply.subspan(kFrameLengthBytes, length));
    if (!message) return unexpected("a frame that is not a HandshakeMessage");
    auto hello_bytes = message->get_bytes(3);
    if (!hello_bytes) return unexpected("a HandshakeMessage without a ServerHello");
    auto hello = read_fields(*hello_bytes);
    if (!hello) return unexpected("a ServerHello that is not a well-formed message");
    auto server_ephemeral = hello->get_bytes(1);
    auto static_sealed = hello->get_bytes(2);
    auto payload_sealed = hello->get_bytes(3);
    if (!server_ephemeral || server_ephemeral->size() != 32 || !static_sealed || !payload_sealed)
        return unexpected("a ServerHello without its 32-byte ephemeral key, static key and payload");

    NoiseReader noise(kConnectionHeader);
    noise.mix_hash(ephemeral_public);
    noise.mix_hash(*server_ephemeral);
    auto ee = x25519(ephemeral_private, *server_ephemeral);
    if (!ee) return not_genuine("the ServerHello's ephemeral key gives no X25519 secret");
    noise.mix_key(*ee);
    auto server_static = noise.decrypt_and_hash(*static_sealed);
    if (!server_static) return not_genuine("the ServerHello's static key does not decrypt under the Noise keys");
    if (server_static->size() != 32)
        return not_genuine("the ServerHello's static key decrypts to " + std::to_string(server_static->size()) + " bytes");
    auto es = x25519(ephemeral_private, *server_static);
    if (!es) return not_genuine("the ServerHello's static key gives no X25519 secret");
    noise.mix_key(*es);
    auto payload = noise.decrypt_and_hash(*payload_sealed);
    if (!payload) return not_genuine("the ServerHello's payload does not decrypt under the Noise keys");
    Key static_key{};
    std::copy(server_static->begin(), server_static->end(), static_key.begin());
    return judge_chain_unguarded(*payload, static_key, root_public, unix_now);
}

}  // namespace

Handshake::Handshake(const Key& ephemeral_private) : ephemeral_private_(ephemeral_private) {
    auto ephemeral_public = x25519_public(ephemeral_private);
    if (!ephemeral_public) return;
    ephemeral_public_ = *ephemeral_public;
    Bytes client_hello = message_with(1, ephemeral_public_);
    Bytes handshake_message = message_with(2, client_hello);
    request_.assign(kConnectionHeader.begin(), kConnectionHeader.end());
    for (int shift : {16, 8, 0}) request_.push_back(static_cast<uint8_t>(handshake_message.size() >> shift));
    request_.insert(request_.end(), handshake_message.begin(), handshake_message.end());
}

bool Handshake::reply_complete(std::span<const uint8_t> reply) const {
    if (reply.size() < kFrameLengthBytes) return false;
    uint32_t length = frame_length(reply);
    return length > kMaxReplyFrame || reply.size() >= kFrameLengthBytes + length;
}

Judgement Handshake::judge(std::span<const uint8_t> reply, const Key& root_public, int64_t unix_now) const {
    Judgement judgement;
    try {
        judgement = judge_unguarded(reply, ephemeral_private_, ephemeral_public_, root_public, unix_now);
    } catch (const std::exception& e) {
        judgement = unexpected(std::string("the reply could not be judged: ") + e.what());
    }
    ERR_clear_error();  // refusals above leave OpenSSL errors that are no one else's
    return judgement;
}

Judgement judge_cert_chain(std::span<const uint8_t> cert_chain, const Key& server_static, const Key& root_public,
                           int64_t unix_now) {
    Judgement judgement = judge_chain_unguarded(cert_chain, server_static, root_public, unix_now);
    ERR_clear_error();
    return judgement;
}

}  // namespace meoktong::whatsapp
