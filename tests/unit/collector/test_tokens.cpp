// Probe tokens: the file's format, one-line errors that never quote a token,
// look-up by bearer header; Idempotency-Key checks.
#include <doctest/doctest.h>

#include "meoktong/target.hpp"
#include "probe/collector/collector.hpp"
#include "probe/collector/tokens.hpp"

using namespace meoktong;
using namespace meoktong::collector;

namespace {

std::string error_of(const std::string& text) {
    try {
        ProbeTokens::parse(text);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a tokens file maps each probe's token to its label") {
    auto tokens = ProbeTokens::parse("# the fleet\nkr-seoul-kt 0123456789abcdef0123\n\n  cn-bj-ct\tsecret-token-of-cn-1  \n");
    CHECK(tokens.size() == 2);
    CHECK(tokens.label_for("Bearer 0123456789abcdef0123") == "kr-seoul-kt");
    CHECK(tokens.label_for("bearer secret-token-of-cn-1") == "cn-bj-ct");
    CHECK_FALSE(tokens.label_for("Bearer 0123456789abcdef012"));
    CHECK_FALSE(tokens.label_for("Basic 0123456789abcdef0123"));
    CHECK_FALSE(tokens.label_for(""));
    CHECK_FALSE(tokens.label_for("Bearer "));
}

TEST_CASE("bad token files are refused naming the line, never the token") {
    CHECK(error_of("kr-1\n") == "tokens file line 1: expected LABEL TOKEN");
    CHECK(error_of("\nkr/1 0123456789abcdef\n").rfind("tokens file line 2: label 'kr/1' has characters", 0) == 0);
    CHECK(error_of("kr-1 short") == "tokens file line 1: the token is shorter than 16 characters");
    CHECK(error_of("kr-1 0123456789abcdef ghi") == "tokens file line 1: the token has spaces or control characters");
    CHECK(error_of("kr-1 0123456789abcdef\nkr-1 fedcba9876543210\n") == "tokens file line 2: label 'kr-1' given twice");
    std::string shared = error_of("kr-1 0123456789abcdef\nkr-2 0123456789abcdef\n");
    CHECK(shared == "tokens file line 2: the token of 'kr-2' is another probe's too");
    CHECK(shared.find("0123456789abcdef") == std::string::npos);
    CHECK(error_of(std::string(65, 'a') + " 0123456789abcdef").find("label longer than 64") != std::string::npos);
}

TEST_CASE("Idempotency-Key: printable, no spaces, 1 to 255 characters") {
    CHECK(is_valid_idempotency_key("20260301T100000Z-kr-seoul-kt-1f2e3d4c.jsonl"));
    CHECK_FALSE(is_valid_idempotency_key(""));
    CHECK_FALSE(is_valid_idempotency_key("a b"));
    CHECK_FALSE(is_valid_idempotency_key(std::string("a\0b", 3)));
    CHECK(is_valid_idempotency_key(std::string(255, 'k')));
    CHECK_FALSE(is_valid_idempotency_key(std::string(256, 'k')));
}
