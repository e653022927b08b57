// The cli library (cli/): the `meoktong` binary's commands. The one option
// parser, every usage text, and each subcommand, which turns its options
// into the settings struct of the library that does the work.
//
// The subcommands of the `meoktong` binary (SPEC §3). Each takes the
// arguments after its name and returns the process exit status:
// 0 completed, 2 bad usage or input, 1 any other failure.
#pragma once

#include <string>
#include <vector>

namespace meoktong {

using Args = std::vector<std::string>;

int cmd_run(const Args& args);
int cmd_control(const Args& args);   // "control serve ..."
int cmd_analyze(const Args& args);
int cmd_lists(const Args& args);
int cmd_collector(const Args& args);  // "collector serve ..."
int cmd_store(const Args& args);      // "store import ..."
int cmd_export(const Args& args);

}  // namespace meoktong
