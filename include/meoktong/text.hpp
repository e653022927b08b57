// Small text helpers used across libraries, one of each: ASCII case folding,
// hex encoding, and trimming.
#pragma once

#include <string>
#include <string_view>

namespace meoktong {

// ASCII lower/upper case (bytes >= 0x80 unchanged).
std::string ascii_lower(std::string_view text);
std::string ascii_upper(std::string_view text);
// Lower-case hex of every byte ("\x01\xab" -> "01ab").
std::string hex_encode(std::string_view bytes);
// Without leading and trailing ASCII white space.
std::string_view trim(std::string_view text);

}  // namespace meoktong
