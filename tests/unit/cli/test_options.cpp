// The one option parser of every command (cli/options.hpp) at its edges:
// both value forms, --help winning, unknown and valueless options named,
// flags, positionals; and the typed option values through the core parsers.
#include <doctest/doctest.h>

#include "cli/options.hpp"
#include "meoktong/target.hpp"

using namespace meoktong;

namespace {

const CommandSpec kSpec{"demo", {{"--name"}, {"--quiet", false}, {"--token", true, true}}, true};

std::string error_of(const Args& args, const CommandSpec& spec = kSpec) {
    try {
        parse_command_line(args, spec);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("--x V and --x=V give the same value, in command-line order") {
    ParsedArgs p = parse_command_line({"--name", "a", "file1", "--name=b=c", "--quiet", "file2"}, kSpec);
    REQUIRE(p.options.size() == 3);
    CHECK(p.options[0].name == "--name");
    CHECK(p.options[0].value == "a");
    CHECK(p.options[1].value == "b=c");  // only the first '=' splits
    CHECK(p.options[2].name == "--quiet");
    CHECK(p.positionals == Args{"file1", "file2"});
    CHECK_FALSE(p.help);
}

TEST_CASE("the value after an option is taken as it is, even when it looks like an option") {
    ParsedArgs p = parse_command_line({"--name", "--quiet"}, kSpec);
    REQUIRE(p.options.size() == 1);
    CHECK(p.options[0].value == "--quiet");
}

TEST_CASE("--help and -h win over anything else on the line") {
    CHECK(parse_command_line({"--help"}, kSpec).help);
    CHECK(parse_command_line({"--bogus", "-h"}, kSpec).help);
    CHECK(parse_command_line({"--name"/* missing value */, "--help"}, kSpec).help);
    CHECK(parse_command_line({"stray", "--help"}, CommandSpec{"demo", {}, false}).help);
    CHECK(parse_command_line({"--help"}, kSpec).options.empty());
}

TEST_CASE("an unknown option is named as unknown, with its command, wherever it stands") {
    CHECK(error_of({"--bogus"}) == "unknown option '--bogus' for demo (see 'meoktong demo --help')");
    CHECK(error_of({"--name", "x", "--bogus"}).find("unknown option '--bogus'") == 0);
    CHECK(error_of({"--bogus=1"}).find("unknown option '--bogus'") == 0);
    CHECK(error_of({"-x"}).find("unknown option '-x'") == 0);
}

TEST_CASE("a missing or empty value is named") {
    CHECK(error_of({"--name"}) == "option --name needs a value (see 'meoktong demo --help')");
    CHECK(error_of({"--name="}) == "option --name needs a non-empty value");
    CHECK(error_of({"--name", ""}) == "option --name needs a non-empty value");
    CHECK(error_of({"--token="}).empty());  // allow_empty
    CHECK(error_of({"--quiet=yes"}) == "option --quiet takes no value");
}

TEST_CASE("positionals only where the command takes them") {
    CHECK(error_of({"stray"}, CommandSpec{"run", {}, false}) ==
          "unexpected argument 'stray' for run (see 'meoktong run --help')");
    CHECK(parse_command_line({"-"}, kSpec).positionals == Args{"-"});
}

TEST_CASE("typed values: numbers, ports and durations refuse spaces, signs and overflow") {
    CHECK(integer_option("--n", "5", 1, 10) == 5);
    CHECK(integer_option("--n", "007", 1, 10) == 7);
    for (const char* bad : {" 5", "5 ", "+5", "-5", "0", "11", "5x", "", "99999999999999999999"}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH_AS(integer_option("--n", bad, 1, 10),
                             ("bad --n '" + std::string(bad) + "': expected a number from 1 to 10").c_str(), InputError);
    }
    CHECK(port_option("--p", "65535") == 65535);
    CHECK_THROWS_AS(port_option("--p", "0"), InputError);
    CHECK_THROWS_AS(port_option("--p", "65536"), InputError);
    CHECK_THROWS_AS(port_option("--p", " 53"), InputError);
    CHECK(duration_option("--d", "20m", 1, 3600) == 1200);
    CHECK(duration_option("--d", "90", 1, 3600) == 90);
    CHECK_THROWS_AS(duration_option("--d", "2h", 1, 3600), InputError);  // above hi
    CHECK_THROWS_AS(duration_option("--d", "0", 1, 3600), InputError);   // below lo
    CHECK_THROWS_AS(duration_option("--d", " 5m", 1, 3600), InputError);
    CHECK_THROWS_WITH_AS(duration_option("--d", "soon", 1, 3600), doctest::Contains("bad --d 'soon'"), InputError);
}

TEST_CASE("typed values: country codes and ASNs are normalised, out-of-range ASNs refused") {
    CHECK(country_code_option("--cc", "kr") == "KR");
    CHECK_THROWS_AS(country_code_option("--cc", "KOR"), InputError);
    CHECK_THROWS_AS(country_code_option("--cc", " k"), InputError);
    CHECK(asn_option("--asn", "AS04766") == "AS4766");
    CHECK(asn_option("--asn", "as4766") == "AS4766");
    CHECK(asn_option("--asn", "4294967295") == "AS4294967295");
    for (const char* bad : {"AS4294967296", "ASX", "AS", " 4766", "AS-1", ""}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH_AS(asn_option("--asn", bad), doctest::Contains("bad --asn"), InputError);
    }
}
