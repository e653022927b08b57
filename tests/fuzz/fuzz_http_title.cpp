// libFuzzer target for the text taken from untrusted HTTP bodies: <title>
// extraction, UTF-8 prefix bounding and sanitising. Outputs must stay within
// their bounds and be valid UTF-8 (checked: abort otherwise).
// links: net
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "probe/net/http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace meoktong::http;
    std::string_view body(reinterpret_cast<const char*>(data), size);
    std::string title = extract_title(body);
    if (title.size() > 256 || valid_utf8_prefix_length(title, title.size()) != title.size()) std::abort();
    size_t n = valid_utf8_prefix_length(body, 2048);
    if (n > 2048 || n > size) std::abort();
    std::string clean = sanitize_utf8(body);
    if (valid_utf8_prefix_length(clean, clean.size()) != clean.size()) std::abort();
    return 0;
}
