// Small text helpers used across libraries, one of each: ASCII case folding,
// comparison and hex encoding, trimming, and cutting UTF-8 text.
#pragma once

#include <string>
#include <string_view>

namespace meoktong {

// ASCII lower/upper case (bytes >= 0x80 unchanged).
std::string ascii_lower(std::string_view text);
std::string ascii_upper(std::string_view text);
// Equal when ASCII case is ignored ("Bearer" and "bEARER"); bytes >= 0x80
// must match exactly, and so must the lengths.
bool ascii_iequals(std::string_view a, std::string_view b);
// Lower-case hex of every byte ("\x01\xab" -> "01ab").
std::string hex_encode(std::string_view bytes);
// Without leading and trailing ASCII white space.
std::string_view trim(std::string_view text);
// Cuts s to at most n bytes without splitting a UTF-8 sequence.
void cut_utf8(std::string& s, size_t n);

}  // namespace meoktong
