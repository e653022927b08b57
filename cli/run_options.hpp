// The command line of `meoktong run` (SPEC §3) as typed values, and their
// merge with the config file (probe/ops/config.hpp) into the runner's
// RunSettings: the command line wins. No value goes back through text.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "probe/ops/config.hpp"
#include "probe/run/runner.hpp"

namespace meoktong {

// What `run`'s command line gave. `values` holds the options a config file
// can also give (unset: not on the command line); the rest exist only here.
struct RunCommandLine {
    RunConfig values;
    std::optional<std::string> config_path;  // --config
    std::vector<std::string> target_uris;    // --target, validated
    std::optional<std::string> format;       // --format text|json
    bool strict = false;                     // --strict: refuse lists with unusable rows
    bool help = false;                       // --help: nothing else was parsed
};

// Throws InputError (one line) on an unknown option, a missing or bad value.
RunCommandLine parse_run_command_line(const Args& args);

// The runner's settings from `merged` (merge_options(config file,
// command_line.values): a value or list on the command line replaces the
// file's) and the command line's own options. The file's lists are dropped
// when the command line gives --target without --list. cc and asn stay ZZ/AS0
// here (resolve_vantage orders them with GeoIP); the vantage label defaults
// to "unnamed". Throws InputError when the trust store or the control token
// file cannot be read.
RunSettings run_settings(const RunConfig& merged, const RunCommandLine& command_line);

// The usage text of `run --help`.
extern const char* const kRunUsage;

}  // namespace meoktong
