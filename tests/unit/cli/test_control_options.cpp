// `meoktong control serve`'s command line (cli/control_options.hpp): both
// value forms, --help winning, numbers, HOST:PORT and resolvers through the
// core parsers, and the token rules. No network.
#include <doctest/doctest.h>

#include "cli/control_options.hpp"
#include "meoktong/target.hpp"

using namespace meoktong;

namespace {

const std::string kToken = "0123456789abcdef";

std::string error_of(Args args) {
    try {
        parse_serve_options(args);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("control serve takes --x V and --x=V alike") {
    auto o = parse_serve_options({"--listen=[::1]:8443", "--token", kToken, "--threads=4", "--timeout-ms", "1500",
                                  "--resolver=[2001:db8::1]:5353", "--resolver", "8.8.8.8", "--quiet",
                                  "--allow-private"});
    CHECK(o.settings.listen_host == "::1");
    CHECK(o.settings.listen_port == 8443);
    CHECK(o.settings.token == kToken);
    CHECK(o.settings.threads == 4);
    CHECK(o.settings.measure.timeout_ms == 1500);
    CHECK(o.settings.measure.resolvers == std::vector<std::string>{"[2001:db8::1]:5353", "8.8.8.8"});
    CHECK_FALSE(o.settings.log_requests);
    CHECK(o.settings.measure.allow_private);
    CHECK_FALSE(o.help);
}

TEST_CASE("control serve: --help wins over anything else") {
    CHECK(parse_serve_options({"--listen", "nowhere", "--help"}).help);
    CHECK(parse_serve_options({"--bogus", "-h"}).help);
}

TEST_CASE("control serve refuses bad values in one line") {
    Args base = {"--token", kToken};
    auto with = [&](Args more) {
        more.insert(more.end(), base.begin(), base.end());
        return error_of(more);
    };
    CHECK(with({"--listen", "127.0.0.1:9", "--threads", " 5"}) ==
          "bad --threads ' 5': expected a number from 1 to 1024");
    CHECK(with({"--listen", "127.0.0.1:9", "--threads", "+5"}).find("bad --threads") == 0);
    CHECK(with({"--listen", "127.0.0.1:9", "--max-body", "63"}).find("bad --max-body") == 0);
    CHECK(with({"--listen", "127.0.0.1:0"}).find("--listen expects HOST:PORT") == 0);
    CHECK(with({"--listen", "127.0.0.1:65536"}).find("--listen expects HOST:PORT") == 0);
    CHECK(with({"--listen", "::1"}).find("--listen expects HOST:PORT") == 0);  // bare IPv6: no port
    CHECK(with({"--listen", ":8443"}).find("--listen expects HOST:PORT") == 0);
    CHECK(with({"--listen", "example.org:8443"}).find("--listen expects an IP address") == 0);
    CHECK(with({"--listen", "127.0.0.1:9", "--resolver", "dns.google"}).find("--resolver expects") == 0);
    CHECK(with({"--listen", "127.0.0.1:9", "--bogus"}).find("unknown option '--bogus' for control serve") == 0);
    CHECK(with({"--listen", "127.0.0.1:9", "--quiet=1"}) == "option --quiet takes no value");
    CHECK(error_of({"--token", kToken}) == "control serve: --listen HOST:PORT is required");
    CHECK(error_of({"--listen", "127.0.0.1:9"}).find("exactly one of --token, --token-file") != std::string::npos);
    CHECK(error_of({"--listen", "127.0.0.1:9", "--token", "short"}).find("at least 16") != std::string::npos);
    CHECK(error_of({"--listen", "127.0.0.1:9", "--token"}).find("option --token needs a value") == 0);
}
