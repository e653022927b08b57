// Text helpers: ASCII case folding leaves other bytes alone, hex of every
// byte, trimming of ASCII white space only.
#include <doctest/doctest.h>

#include "meoktong/text.hpp"

using namespace meoktong;

TEST_CASE("case folding is ASCII only") {
    CHECK(ascii_lower("LINE.Me") == "line.me");
    CHECK(ascii_upper("kr") == "KR");
    CHECK(ascii_lower("\xC3\x89") == "\xC3\x89");
    CHECK(ascii_lower("") == "");
}

TEST_CASE("ascii_iequals ignores ASCII case only") {
    CHECK(ascii_iequals("Bearer ", "bEARER "));
    CHECK(ascii_iequals("", ""));
    CHECK_FALSE(ascii_iequals("bearer", "bearer "));
    CHECK_FALSE(ascii_iequals("\xC3\x89", "\xC3\xA9"));  // É and é: not ASCII, not folded
    CHECK_FALSE(ascii_iequals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
    CHECK_FALSE(ascii_iequals("[", "{"));  // 0x5B and 0x7B differ by the case bit but are not letters
}

TEST_CASE("hex_encode writes two lower-case digits per byte") {
    CHECK(hex_encode(std::string_view("\x01\xab\x00\xff", 4)) == "01ab00ff");
    CHECK(hex_encode("") == "");
}

TEST_CASE("trim removes ASCII white space at both ends only") {
    CHECK(trim("  a b \t\n") == "a b");
    CHECK(trim(" \t ") == "");
    CHECK(trim("x") == "x");
    CHECK(trim("\xC2\xA0x") == "\xC2\xA0x");
}
