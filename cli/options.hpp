// The one command-line option parser of every `meoktong` command, and the
// checks that turn an option's text into a typed value through the core
// parsers (meoktong/parse.hpp). Rules, the same for every command: "--x V" and
// "--x=V" both work; --help (or -h) anywhere wins over anything else on the
// line; an unknown option is named as unknown; a missing value is named.
// Every error is one line (InputError: exit 2).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.hpp"

namespace meoktong {

struct OptionSpec {
    std::string name;           // "--listen"
    bool takes_value = true;    // false: a flag such as --quiet
    bool allow_empty = false;   // "--x=" or "--x ''" is a value, not an error
};

struct CommandSpec {
    std::string command;             // as in "see 'meoktong COMMAND --help'": "run", "control serve"
    std::vector<OptionSpec> options;
    bool positionals = false;        // arguments that are not options (files, list names)
};

struct ParsedOption {
    std::string name;   // "--listen"
    std::string value;  // empty for a flag
};

struct ParsedArgs {
    bool help = false;                       // --help or -h was on the line: nothing else is parsed
    std::vector<ParsedOption> options;       // in command-line order
    std::vector<std::string> positionals;    // in command-line order
};

// Throws InputError: "unknown option '--x' for COMMAND (see 'meoktong COMMAND
// --help')", "option --x needs a value (...)", "option --x needs a non-empty
// value", "option --x takes no value", "unexpected argument 'x' for COMMAND (...)".
ParsedArgs parse_command_line(const Args& args, const CommandSpec& spec);

// A command with one subcommand (`control serve`, `collector serve`, `store
// import`): --help/-h prints `usage` (exit 0); no or another subcommand is an
// InputError ("COMMAND: missing subcommand (use 'COMMAND SUB'; ...)");
// otherwise `run` gets the arguments after the subcommand.
int run_subcommand(const std::string& command, const std::string& subcommand, const char* usage, const Args& args,
                   const std::function<int(const Args&)>& run);

// Typed values of options; each throws InputError naming the option and the
// text ("bad --timeout-ms ' 5': expected a number from 1 to 600000").
int64_t integer_option(const std::string& option, const std::string& text, int64_t lo, int64_t hi);
uint16_t port_option(const std::string& option, const std::string& text);
// Seconds, from a duration ("90", "90s", "20m", "2h", "7d"), in [lo, hi].
int64_t duration_option(const std::string& option, const std::string& text, int64_t lo, int64_t hi);
std::string country_code_option(const std::string& option, const std::string& text);  // "kr" -> "KR"
std::string asn_option(const std::string& option, const std::string& text);           // "AS04766" -> "AS4766"
// --app-roots: a directory holding the app protocols' pinned roots and keys
// (signal-roots.pem, whatsapp-root-key.json, as testlists/ ships them).
std::string app_roots_option(const std::string& option, const std::string& text);

}  // namespace meoktong
