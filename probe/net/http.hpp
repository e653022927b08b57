// HTTP(S) GET with libcurl, pinned to one measured address, with a bounded
// body: status, headers, length, SHA-256, <title>, a UTF-8 excerpt and,
// for download targets, the throughput; and the HTTPS POST of bytes that
// carries DNS over HTTPS. Also the text helpers that turn
// untrusted body bytes into record strings (fuzzed: fuzz_http_title).
#pragma once

#include <string>
#include <string_view>

#include "meoktong/record.hpp"
#include "probe/net/net.hpp"

namespace meoktong::http {

// Bounds of record strings: a title or header value this long may have been
// cut, and the scrubber then also blanks a partial address at its end.
inline constexpr size_t kMaxTitleBytes = 256;
inline constexpr size_t kMaxHeaderValue = 1024;

HttpObservation get(const HttpRequest& request, SteadyTime start);

// An HTTPS POST of request.body (Net::https_post): https only, no redirects,
// no proxy, the reply body bounded.
PostReply post(const PostRequest& request, SteadyTime start);

// The page's <title> (case-insensitive tag, first 64 KiB only, common entities
// decoded, whitespace collapsed, at most 256 bytes of valid UTF-8); "" if none.
std::string extract_title(std::string_view body);

// Length of the longest prefix of s that is valid UTF-8 and at most max bytes.
size_t valid_utf8_prefix_length(std::string_view s, size_t max);

// s with every byte that is not part of valid UTF-8 replaced by '?'.
std::string sanitize_utf8(std::string_view s);

}  // namespace meoktong::http
