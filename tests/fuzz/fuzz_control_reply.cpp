// libFuzzer target for the probe's control client reply parsing: the input is
// a reply body from a (possibly hostile) control. parse_measure_reply must
// never throw or crash and must answer one result per target, each either
// believed or carrying a failure.
// links: control
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "probe/control/protocol.hpp"

using namespace meoktong;

namespace {

std::vector<Target> asked_targets() {
    Target tls, dns;
    tls.host = "line.me";
    tls.port = 443;
    tls.protocol = "tls";
    dns.host = "kakao.com";
    dns.protocol = "dns";
    return {tls, dns};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const auto targets = asked_targets();
    std::string_view body(reinterpret_cast<const char*>(data), size);
    for (size_t count : {size_t(1), size_t(2)}) {  // one- and two-result replies
        std::vector<Target> asked(targets.begin(), targets.begin() + static_cast<long>(count));
        auto results = control::parse_measure_reply(body, asked);
        if (results.size() != asked.size()) std::abort();
        for (const auto& r : results) {
            if (!r.requested) std::abort();
            if (!r.observations.packets.empty()) std::abort();
            if (r.failure) {
                std::string_view f = *r.failure;
                if (f.empty() || f.size() > 300 || f.find('\n') != std::string_view::npos) std::abort();
            }
        }
    }
    return 0;
}
