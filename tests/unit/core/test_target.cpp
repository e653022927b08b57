// Target URI parsing: the accepted forms of SPEC §3 and one-line errors.
#include <doctest/doctest.h>

#include "meoktong/target.hpp"

using namespace meoktong;

TEST_CASE("tls target with default port") {
    auto t = parse_target_uri("tls://LINE.me");
    CHECK(t.protocol == "tls");
    CHECK(t.host == "line.me");
    CHECK(t.port == 443);
    CHECK(target_uri(t) == "tls://line.me:443");
}

TEST_CASE("https target keeps its path; http defaults to 80") {
    auto t = parse_target_uri("https://web.whatsapp.com:8443/a/b?c=1");
    CHECK(t.port == 8443);
    CHECK(t.path == "/a/b?c=1");
    CHECK(parse_target_uri("http://warning.or.kr").port == 80);
}

TEST_CASE("IPv6 literals in brackets") {
    auto t = parse_target_uri("tcp://[2001:db8::1]:5222");
    CHECK(t.host == "2001:db8::1");
    CHECK(t.port == 5222);
    CHECK(target_uri(t) == "tcp://[2001:db8::1]:5222");
}

TEST_CASE("the port follows the core port rule; a bare IPv6 authority is refused") {
    CHECK(parse_target_uri("tcp://x.org:000443").port == 443);  // the old copy refused more than five digits
    CHECK(parse_target_uri("tls://[192.0.2.1]:8443").host == "192.0.2.1");
    CHECK(default_port("https") == 443);
    CHECK(default_port("tcp") == 0);
    for (const char* uri : {"tcp://x.org:+443", "tcp://x.org: 443", "tls://2001:db8::1", "tls://[2001:db8::1]x"}) {
        CAPTURE(uri);
        CHECK_THROWS_AS(parse_target_uri(uri), InputError);
    }
}

TEST_CASE("host names: underscores, digits inside, a trailing dot") {
    CHECK(is_valid_hostname("_dmarc.kakao.com"));
    CHECK(is_valid_hostname("dc4.telegram-1.org"));
    CHECK(is_valid_hostname("149.154.167.51.example."));
    CHECK(is_valid_hostname("1e100.net"));
    CHECK_FALSE(is_valid_hostname("example.123"));
}

TEST_CASE("dns target has no port") {
    auto t = parse_target_uri("dns://talk.kakao.com");
    CHECK(t.protocol == "dns");
    CHECK(target_uri(t) == "dns://talk.kakao.com");
}

TEST_CASE("malformed targets are one-line InputErrors") {
    const char* bad[] = {"line.me",         "ftp://x.org",     "tcp://x.org",        "tls://x.org:0",
                         "tls://x.org:99999", "tls://x.org:ab",  "tls://",             "tls://a..b",
                         "tcp://[::1:80",   "tls://::1:443",   "dns://a.org:53",     "tls://x.org/path",
                         "tls://bad host",  "tls://-bad-:9",   "dns://x.-bad.org",   "tls://x.org-:9",
                         "tls://999.1.1.1:9", "tcp://127.1:9",  "dns://10.0.0.300",   "dns://2130706433"};
    for (const char* uri : bad) {
        CAPTURE(uri);
        try {
            parse_target_uri(uri);
            FAIL("accepted");
        } catch (const InputError& e) {
            std::string msg = e.what();
            CHECK(msg.find('\n') == std::string::npos);
            CHECK(msg.find(uri) != std::string::npos);
        }
    }
}

TEST_CASE("app-protocol targets of SPEC section 7: mtproto and stun name their port") {
    auto m = parse_target_uri("mtproto://149.154.167.51:443");
    CHECK(m.protocol == "mtproto");
    CHECK(m.port == 443);
    CHECK(target_uri(m) == "mtproto://149.154.167.51:443");
    auto s = parse_target_uri("STUN://stun.l.google.com:19302");
    CHECK(s.protocol == "stun");
    CHECK(s.host == "stun.l.google.com");
    CHECK(s.port == 19302);
    CHECK(is_app_protocol("stun"));
    CHECK_FALSE(is_app_protocol("tcp"));
    CHECK(port_required("mtproto"));
    CHECK_FALSE(port_required("tls"));
    try {
        parse_target_uri("stun://stun.example.org");
        FAIL("a stun target without a port was accepted");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()) == "bad target 'stun://stun.example.org': port is required for stun");
    }
    CHECK_THROWS_AS(parse_target_uri("mtproto://x.org:443/path"), InputError);
}
