// libFuzzer target for the fingerprint loader and matchers: the input is
// parsed as a fingerprint file (it must throw FingerprintError or succeed,
// never crash), then used as an HTTP body, title, header value, DNS answer and
// certificate issuer against the shipped fingerprints and any it parsed.
// links: verdict
#include <cstddef>
#include <cstdint>
#include <string>

#include "analysis/verdict/blockpage.hpp"

using namespace meoktong;

namespace {

void match_everything(const FingerprintSet& set, const std::string& text) {
    HttpObservation http;
    http.body_excerpt = text;
    http.title = text.substr(0, 200);
    http.headers = {{"Location", text}, {text.substr(0, 40), text}};
    (void)match_http(set, http);
    (void)match_dns_answer(set, text);
    (void)match_cert_issuer(set, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    FingerprintSet parsed;
    try {
        parsed = parse_fingerprints(text, "fuzz");
    } catch (const FingerprintError&) {
    }
    match_everything(parsed, text);
    match_everything(builtin_fingerprints(), text);
    return 0;
}
