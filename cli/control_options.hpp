// The command line of `meoktong control serve` (SPEC §3) as the control
// server's settings; parsed in cmd_control.cpp by the one option parser.
#pragma once

#include "cli/commands.hpp"
#include "probe/control/server.hpp"

namespace meoktong {

struct ServeOptions {
    ControlServerSettings settings;
    bool help = false;  // --help: nothing else was parsed
};

// Throws InputError (one line) on an unknown option, a missing or bad value,
// a missing --listen, not exactly one of --token/--token-file, or a short token.
ServeOptions parse_serve_options(const Args& args);

}  // namespace meoktong
