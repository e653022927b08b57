// Progress bar: drawn only when enabled (a TTY), silent otherwise.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "probe/ops/progress.hpp"

using namespace meoktong;

namespace {
std::string contents(std::FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string text;
    for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
    return text;
}
}  // namespace

TEST_CASE("the bar line shows done/total and the label, fitted to the width") {
    CHECK(render_progress_line(0, 4, "", 80) == "[........................] 0/4");
    CHECK(render_progress_line(2, 4, "line.me", 80) == "[############............] 2/4  line.me");
    CHECK(render_progress_line(4, 4, "", 80) == "[########################] 4/4");
    CHECK(render_progress_line(9, 4, "", 80) == "[########################] 4/4");
    CHECK(render_progress_line(1, 2, "a\nb", 80).find('\n') == std::string::npos);
    CHECK(render_progress_line(1, 2, std::string(200, 'x'), 40).size() == 39);
}

TEST_CASE("silent when not enabled, drawn and cleared when enabled") {
    std::FILE* quiet = std::tmpfile();
    Progress off(3, quiet, false);
    off.advance("a");
    off.advance("b");
    off.finish();
    CHECK(off.done() == 2);
    CHECK(contents(quiet).empty());
    std::fclose(quiet);

    std::FILE* tty = std::tmpfile();
    Progress on(2, tty, true);
    on.advance("talk.kakao.com");
    on.finish();
    on.advance("late");  // after finish: counted, not drawn
    std::string text = contents(tty);
    CHECK(text.find("1/2  talk.kakao.com") != std::string::npos);
    CHECK(text.find("late") == std::string::npos);
    CHECK(text.substr(text.size() - 4) == "\r\033[K");
    std::fclose(tty);
}
