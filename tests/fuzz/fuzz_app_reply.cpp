// libFuzzer target for the app-protocol reply readers (SPEC §7): arbitrary
// bytes as an MTProto reply (framing check, both transports' cleartext, the
// resPQ judgement), as a STUN datagram (answers, judgement) and as a LOCO
// GETCONF answer (framing, BSON body, configuration). Any input must be judged
// or rejected, never crash. The nonce and ids are the input's own bytes, so
// the fuzzer can reach the genuine paths.
// links: net
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "probe/net/loco.hpp"
#include "probe/net/mtproto.hpp"
#include "probe/net/stun.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> in(data, size);
    meoktong::mtproto::Nonce nonce{};
    std::copy_n(in.begin(), std::min(in.size(), nonce.size()), nonce.begin());
    for (bool obfuscated : {false, true}) {
        meoktong::mtproto::Exchange ex(nonce, 4, obfuscated, meoktong::mtproto::fix_seed({}));
        if (ex.reply_complete(in)) (void)meoktong::mtproto::judge_reply(ex.cleartext(in), nonce);
    }
    (void)meoktong::mtproto::judge_reply(in, nonce);
    meoktong::stun::TransactionId id{};
    if (in.size() >= 20) std::copy_n(in.begin() + 8, id.size(), id.begin());
    if (meoktong::stun::answers(in, id)) (void)meoktong::stun::judge_reply(in);
    uint32_t packet_id = 0;
    for (size_t i = 0; i < std::min<size_t>(4, in.size()); ++i) packet_id |= uint32_t{in[i]} << (8 * i);
    if (meoktong::loco::reply_complete(in)) (void)meoktong::loco::judge_reply(in, packet_id);
    return 0;
}
