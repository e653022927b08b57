// libFuzzer target for Signal's provisioning-socket reply reader (SPEC §7):
// arbitrary bytes as the answer to the upgrade (HTTP head, the first
// WebSocket frame through wslay, the protobuf WebSocketMessage and
// ProvisioningAddress). Any input must be judged or rejected, never crash.
// The key is fixed, that of the seeds in corpus/signal_reply/, so that their
// Sec-WebSocket-Accept holds and the fuzzer reaches the frame and message.
// links: net
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "probe/net/signal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string key =
        meoktong::signal::upgrade_request("chat.signal.org", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}).key;
    std::span<const uint8_t> in(data, size);
    (void)meoktong::signal::reply_complete(in);
    (void)meoktong::signal::judge_reply(in, key);
    return 0;
}
