// libFuzzer target for the WhatsApp ServerHello reader (probe/net/whatsapp.hpp):
// arbitrary bytes as the reply to a fixed ClientHello (framing, the
// HandshakeMessage and ServerHello protobufs, the Noise decryption) judged
// against WhatsApp's published root key, and as a decrypted certificate chain
// (CertChain and Details protobufs, XEdDSA verification, serials, validity).
// Any input must be judged or rejected, never crash. The seed ServerHello
// answers this target's ephemeral key, so the fuzzer starts past decryption.
// links: net
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "probe/net/whatsapp.hpp"

namespace {

meoktong::whatsapp::Key fuzz_ephemeral() {
    meoktong::whatsapp::Key k{};
    for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(3 + 7 * i);
    return k;
}

// WhatsApp's root key (testlists/whatsapp-root-key.json).
constexpr meoktong::whatsapp::Key kRoot = {0x14, 0x23, 0x75, 0x57, 0x4d, 0x0a, 0x58, 0x71, 0x66, 0xaa, 0xe7,
                                           0x1e, 0xbe, 0x51, 0x64, 0x37, 0xc4, 0xa2, 0x8b, 0x73, 0xe3, 0x69,
                                           0x5c, 0x6c, 0xe1, 0xf7, 0xf9, 0x54, 0x5d, 0xa8, 0xee, 0x6b};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const meoktong::whatsapp::Handshake handshake(fuzz_ephemeral());
    std::span<const uint8_t> in(data, size);
    if (handshake.reply_complete(in)) (void)handshake.judge(in, kRoot, 1'700'000'000);
    meoktong::whatsapp::Key server_static{};
    std::copy_n(in.begin(), std::min(in.size(), server_static.size()), server_static.begin());
    (void)meoktong::whatsapp::judge_cert_chain(in, server_static, kRoot, 1'700'000'000);
    return 0;
}
