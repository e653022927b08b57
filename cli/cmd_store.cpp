// `meoktong store import FILE|DIR... --store URL` (SPEC §6, §8): loads report
// files (what analyze reads, OONI measurements as their records) into a
// store, one file as one report under a key from its content
// (store::import_key), so importing again stores nothing twice. Prints what it did; a file that is not a report is named on
// stderr and skipped, and makes the exit status 2.
#include <iostream>

#include "analysis/analyze/analyze.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "meoktong/files.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "probe/store/report.hpp"
#include "probe/store/store.hpp"

namespace meoktong {
namespace {

const char* kStoreUsage =
    "usage: meoktong store import FILE|DIR... --store URL\n"
    "\n"
    "Loads report files (JSONL; every *.jsonl, *.json and their .gz inside a DIR) into a\n"
    "store; OONI measurements in them are stored as the records analyze reads them as.\n"
    "Each file is one report, stored once: importing it again, or a probe uploading it,\n"
    "stores nothing twice.\n"
    "\n"
    "  --store URL   sqlite:PATH or clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE[?cluster=NAME]\n"
    "  --help        this text\n";

const CommandSpec& import_spec() {
    static const CommandSpec spec{"store import", {{"--store"}}, true};
    return spec;
}

int import(const Args& args) {
    ParsedArgs parsed = parse_command_line(args, import_spec());
    if (parsed.help) {
        std::cout << kStoreUsage;
        return 0;
    }
    std::string url;
    for (const auto& [name, value] : parsed.options)
        if (name == "--store") url = value;
    if (url.empty()) throw InputError("store import: --store URL is required (see 'meoktong store import --help')");
    if (parsed.positionals.empty()) throw InputError("store import needs at least one report FILE or DIR");
    std::vector<std::string> files = analyze::report_files(parsed.positionals);
    auto store = store::open_store(url);
    uint64_t stored = 0, already = 0, refused = 0, records = 0;
    for (const std::string& file : files) {
        std::string body, unreadable;
        try {
            body = analyze::report_body(file, unreadable);
        } catch (const InputError& e) {
            std::cerr << "store import: " << e.what() << "\n";
            ++refused;
            continue;
        }
        if (!unreadable.empty()) {
            std::cerr << "store import: " << file << ": not stored: " << unreadable << "\n";
            ++refused;
            continue;
        }
        store::Report report;
        if (auto problem = store::read_report(body, report)) {
            std::cerr << "store import: " << file << ": not stored: " << problem->describe() << "\n";
            ++refused;
            continue;
        }
        if (store->store_report(store::import_key(report), "import", report) == store::StoreOutcome::stored) {
            ++stored;
            records += report.records.size();
        } else {
            ++already;
        }
    }
    std::cout << "store import: " << files.size() << " files: " << stored << " reports stored (" << records
              << " records), " << already << " already stored, " << refused << " not reports\n";
    return refused ? 2 : 0;
}

}  // namespace

int cmd_store(const Args& args) { return run_subcommand("store", "import", kStoreUsage, args, import); }

}  // namespace meoktong
