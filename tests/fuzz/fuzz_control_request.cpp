// libFuzzer target for the control server's request parsing: the input is a
// POST /v1/measure body. parse_measure_request must never throw or crash,
// and whatever it accepts must be a target the server can safely measure.
// links: control
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "meoktong/target.hpp"
#include "probe/control/protocol.hpp"
#include "probe/control/server.hpp"

using namespace meoktong;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    auto parsed = control::parse_measure_request(body, 8);
    if (parsed.ok() == parsed.targets.empty()) std::abort();  // accepted batches are never empty, refused ones hold nothing
    if (parsed.targets.size() > 8) std::abort();
    for (const auto& t : parsed.targets) {
        (void)parse_target_uri(target_uri(t));  // accepted targets are valid target URIs (throws -> crash report)
        (void)refused_host(t.host, {});
    }
    if (parsed.ok()) (void)control::measure_request_body(parsed.targets);
    return 0;
}
