// meoktong lists [NAME|FILE]: the built-in test lists, or every service and
// endpoint (with role, required-ness and sources) of one list; a Citizen Lab
// list's unusable rows are warned about on stderr (as `run` does) and counted.
#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "meoktong/log.hpp"
#include "meoktong/target.hpp"
#include "probe/lists/testlist.hpp"

namespace meoktong {
namespace {

const char* kListsUsage =
    "usage: meoktong lists [NAME|FILE] [--strict]\n"
    "\n"
    "Without an argument: the built-in test lists (name, version, services, targets).\n"
    "With a list name or a file (.json list or Citizen Lab .csv): every service with its\n"
    "endpoints, their role, whether the app needs them, and where each is documented.\n"
    "A Citizen Lab row that cannot be measured is skipped with a warning on stderr naming\n"
    "the file and the row, as 'meoktong run' does, and the skipped rows are counted.\n"
    "Built-in lists are read from $MEOKTONG_TESTLISTS, else next to the binary.\n"
    "\n"
    "  --strict  refuse a Citizen Lab list with any unusable row (exit 2), as 'run --strict'\n"
    "  --help    this text\n";

size_t target_count(const TestList& list) {
    size_t n = list.canaries.size();
    for (const auto& s : list.services) n += s.targets.size();
    return n;
}

void print_overview() {
    auto names = builtin_list_names();
    if (names.empty()) {
        std::cout << "no built-in lists found in " << testlists_dir() << "\n";
        return;
    }
    std::cout << std::left << std::setw(14) << "NAME" << std::setw(12) << "VERSION" << std::setw(10) << "SERVICES"
              << std::setw(9) << "TARGETS" << "DESCRIPTION\n";
    for (const auto& name : names) {
        TestList list = load_list(name);
        std::cout << std::left << std::setw(14) << list.name << std::setw(12) << list.version << std::setw(10)
                  << list.services.size() << std::setw(9) << target_count(list) << list.description << "\n";
    }
    std::cout << "\n'meoktong lists NAME' shows the endpoints of one list (directory: " << testlists_dir() << ")\n";
}

void print_target(const ListTarget& lt) {
    std::cout << "    " << std::left << std::setw(44) << target_uri(lt.target) << " " << std::setw(10)
              << lt.target.role << " " << (lt.required ? "required" : "optional");
    if (!lt.group.empty()) std::cout << " (any of group '" << lt.group << "')";
    std::cout << "\n";
    for (const auto& source : lt.sources) std::cout << "        source: " << source << "\n";
}

void print_list(const TestList& list) {
    std::cout << list.name << (list.version.empty() ? "" : " (version " + list.version + ")") << ": "
              << list.description << "\n"
              << "file: " << list.path << "\n"
              << list.services.size() << " services, " << target_count(list) << " targets";
    if (list.rows_skipped > 0) std::cout << ", " << list.rows_skipped << " rows skipped (warnings on stderr)";
    std::cout << "\n";
    for (const auto& s : list.services) {
        std::cout << "\n" << s.display_name << " [" << s.name << "]";
        if (!s.description.empty()) std::cout << ": " << s.description;
        std::cout << "\n";
        for (const auto& lt : s.targets) print_target(lt);
    }
    if (!list.canaries.empty()) {
        std::cout << "\ncanaries (unrelated reliable hosts: is this network up at all?)\n";
        for (const auto& lt : list.canaries) print_target(lt);
    }
}

}  // namespace

int cmd_lists(const Args& args) {
    static const CommandSpec spec{"lists", {{"--strict", false}}, true};
    ParsedArgs parsed = parse_command_line(args, spec);
    if (parsed.help) {
        std::cout << kListsUsage;
        return 0;
    }
    ListOptions options;
    for (const auto& o : parsed.options) options.strict = options.strict || o.name == "--strict";
    set_process_logger(Logger::to_stderr(LogLevel::warn));  // list_row_skipped, as run writes it from cron
    const auto& names = parsed.positionals;
    if (names.size() > 1) throw InputError("lists takes at most one list name or file (see 'meoktong lists --help')");
    if (names.empty()) {
        print_overview();
    } else {
        print_list(load_list(names[0], options));
    }
    return 0;
}

}  // namespace meoktong
