// Text helpers over untrusted HTTP bodies: <title> extraction and UTF-8
// bounding. No network.
#include <doctest/doctest.h>

#include "probe/net/http.hpp"

using namespace meoktong::http;

TEST_CASE("title is found case-insensitively, decoded and whitespace-collapsed") {
    CHECK(extract_title("<html><head><TITLE>\n  Warning &amp; Notice\t</TITLE>") == "Warning & Notice");
    CHECK(extract_title("<title lang=\"ko\">불법·유해정보(사이트)에 대한 차단 안내</title>") ==
          "불법·유해정보(사이트)에 대한 차단 안내");
    CHECK(extract_title("<titlex>no</titlex><title>yes</title>") == "yes");
    CHECK(extract_title("<title>unterminated") == "unterminated");
    CHECK(extract_title("no title here").empty());
    CHECK(extract_title("<title").empty());
}

TEST_CASE("title is bounded and stays valid UTF-8") {
    std::string longtitle = "<title>" + std::string(1000, 'a') + "</title>";
    CHECK(extract_title(longtitle).size() == 256);
    std::string korean;
    for (int i = 0; i < 200; ++i) korean += "가";  // 3 bytes each
    auto t = extract_title("<title>" + korean + "</title>");
    CHECK(t.size() <= 256);
    CHECK(t.size() % 3 == 0);
    CHECK(extract_title("<title>a\xff\xfe b</title>") == "a?? b");
}

TEST_CASE("valid UTF-8 prefix stops before invalid or cut sequences") {
    CHECK(valid_utf8_prefix_length("hello", 3) == 3);
    CHECK(valid_utf8_prefix_length("가나", 4) == 3);
    CHECK(valid_utf8_prefix_length("ab\x80" "cd", 10) == 2);
    CHECK(valid_utf8_prefix_length("\xed\xa0\x80", 10) == 0);  // surrogate
    CHECK(valid_utf8_prefix_length("\xc0\xaf", 10) == 0);      // overlong
    CHECK(sanitize_utf8("ok\xc3") == "ok?");
    CHECK(sanitize_utf8("é") == "é");
}
