// libFuzzer target for the DNS response parser the probe's listener uses
// (dns::parse_response + classify_response) on arbitrary packets, as A and
// as AAAA answers. Any input must parse or be rejected, never crash.
// links: net
#include <cstddef>
#include <cstdint>

#include "probe/net/dns.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    for (int qtype : {meoktong::dns::kTypeA, meoktong::dns::kTypeAAAA}) {
        auto parsed = meoktong::dns::parse_response(data, size, qtype);
        if (parsed.valid) meoktong::dns::classify_response(parsed);
    }
    return 0;
}
