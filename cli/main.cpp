// Entry point of the `meoktong` binary: dispatches to a subcommand and turns
// any escaped exception into a one-line error (never a crash).
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "meoktong/record.hpp"
#include "meoktong/target.hpp"

namespace {

const char* kUsage =
    "usage: meoktong COMMAND [OPTIONS]\n"
    "\n"
    "Tells state-level blocking apart from provider-side failure for messenger services.\n"
    "\n"
    "commands:\n"
    "  run             measure targets and write a report\n"
    "  control serve   run the control vantage (a measuring server abroad)\n"
    "  analyze         aggregate reports (files or a store) into incidents\n"
    "  collector serve run the collector probes upload their reports to\n"
    "  store import    load report files (and OONI measurements) into a store\n"
    "  export          write records (reports, OONI measurements) as CSV or OONI measurements\n"
    "  lists [NAME]    show built-in test lists\n"
    "\n"
    "'meoktong COMMAND --help' describes each command.\n";

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "meoktong: missing command (run, control serve, analyze, lists, collector serve, store import, export); see 'meoktong --help'\n";
        return 2;
    }
    std::string command = argv[1];
    meoktong::Args args(argv + 2, argv + argc);
    try {
        if (command == "run") return meoktong::cmd_run(args);
        if (command == "control") return meoktong::cmd_control(args);
        if (command == "analyze") return meoktong::cmd_analyze(args);
        if (command == "lists") return meoktong::cmd_lists(args);
        if (command == "collector") return meoktong::cmd_collector(args);
        if (command == "store") return meoktong::cmd_store(args);
        if (command == "export") return meoktong::cmd_export(args);
        if (command == "--help" || command == "-h" || command == "help") {
            std::cout << kUsage;
            return 0;
        }
        if (command == "--version") {
            std::cout << meoktong::kSoftwareName << " " << meoktong::kSoftwareVersion << "\n"
                      << "commit " << meoktong::kSoftwareCommit << "\n"
                      << "built " << meoktong::kSoftwareBuildDate << "\n";
            return 0;
        }
        std::cerr << "meoktong: unknown command '" << command << "' (see 'meoktong --help')\n";
        return 2;
    } catch (const meoktong::InputError& e) {
        std::cerr << "meoktong: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "meoktong: " << e.what() << "\n";
        return 1;
    }
}
