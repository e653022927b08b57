// Structured logs: one line per event, key=value, quoting, secrets redacted.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "meoktong/target.hpp"
#include "meoktong/log.hpp"

using namespace meoktong;

namespace {

struct Captured {
    std::vector<std::string> lines;
    Logger logger(LogLevel min = LogLevel::info) {
        return Logger([this](LogLevel, const std::string& line) { lines.push_back(line); }, min);
    }
};

}  // namespace

TEST_CASE("a line is ts, level, event, then the fields in order") {
    Logger logger = Logger::discard();
    std::string line = logger.format("2026-11-22T03:00:00.123Z", LogLevel::info, "run_start",
                                     {{"run_id", "abc"}, {"targets", "42"}});
    CHECK(line == "ts=2026-11-22T03:00:00.123Z level=info event=run_start run_id=abc targets=42");
}

TEST_CASE("values with spaces, quotes or newlines are quoted and stay on one line") {
    Logger logger = Logger::discard();
    std::string line = logger.format("t", LogLevel::warn, "upload_failed",
                                     {{"error", "Couldn't connect \"x\"\nnext=1"}, {"empty", ""}, {"bad key!", "v"}});
    CHECK(line == R"(ts=t level=warn event=upload_failed error="Couldn't connect \"x\"\nnext=1" empty="" bad_key_=v)");
    CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("other control bytes and DEL are written as lower-case \\xHH") {
    Logger logger = Logger::discard();
    std::string line = logger.format("t", LogLevel::info, "e", {{"path", std::string("/a\x01\x1b[2J\x7f", 8)}});
    CHECK(line == R"(ts=t level=info event=e path="/a\x01\x1b[2J\x7f")");
}

TEST_CASE("the process logger discards until a command sets one, then every library's line goes there") {
    Captured out;
    process_logger().info("before");
    set_process_logger(out.logger());
    process_logger().warn("capture_off", {{"reason", "no permission"}});
    set_process_logger(Logger::discard());
    process_logger().error("after");
    REQUIRE(out.lines.size() == 1);
    CHECK(out.lines[0].find("level=warn event=capture_off reason=\"no permission\"") != std::string::npos);
}

TEST_CASE("the control token never reaches a log line") {
    Captured out;
    Logger logger = out.logger();
    logger.add_secret("tok-3f9a8c");
    logger.info("control_request", {{"url", "https://ctl.example.org/v1/measure?t=tok-3f9a8c"},
                                    {"header", "Authorization: Bearer tok-3f9a8c"},
                                    {"token", "anything"},
                                    {"control_token", "other-value"}});
    logger.error("control tok-3f9a8c failed");
    REQUIRE(out.lines.size() == 2);
    for (const auto& line : out.lines) {
        CAPTURE(line);
        CHECK(line.find("tok-3f9a8c") == std::string::npos);
        CHECK(line.find("[redacted]") != std::string::npos);
    }
    CHECK(out.lines[0].find("anything") == std::string::npos);
    CHECK(out.lines[0].find("other-value") == std::string::npos);
}

TEST_CASE("a secret repeated back to back is fully redacted; tiny secrets are ignored") {
    Captured out;
    Logger logger = out.logger();
    logger.add_secret("abcd");
    logger.add_secret("x");
    logger.info("e", {{"v", "abcdabcd-x"}});
    REQUIRE(out.lines.size() == 1);
    CHECK(out.lines[0].find("v=[redacted][redacted]-x") != std::string::npos);
}

TEST_CASE("lines below the minimum level are dropped") {
    Captured out;
    Logger logger = out.logger(LogLevel::warn);
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    REQUIRE(out.lines.size() == 2);
    CHECK(out.lines[0].find("level=warn event=w") != std::string::npos);
    CHECK(out.lines[1].find("level=error event=e") != std::string::npos);
}

TEST_CASE("log destinations") {
    CHECK_NOTHROW(make_logger("stderr"));
    CHECK_THROWS_WITH_AS(make_logger("file"), doctest::Contains("bad --log 'file'"), InputError);
}
