// `meoktong export FILE|DIR... --format ooni|csv [--out PATH]` (SPEC §8):
// reads what analyze reads (meoktong reports and OONI measurements, plain
// or gzip) and writes every record as a CSV row (with a header row) or as an
// OONI measurement (JSONL); the rendering is analyze's (export.hpp). Units
// that are not records are skipped and counted on stderr; bad usage or an
// unreadable input is a one-line error, exit 2. --out is written whole or
// not at all.
#include <iostream>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/export.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "meoktong/files.hpp"
#include "meoktong/target.hpp"

namespace meoktong {
namespace {

const char* kExportUsage =
    "usage: meoktong export FILE|DIR... --format ooni|csv [--out PATH]\n"
    "\n"
    "Writes every record of the inputs (what analyze reads: meoktong reports and OONI\n"
    "measurements, JSON or JSONL, plain or gzip; in a DIR every *.jsonl, *.json and\n"
    "their .gz) in another format. No probe IP is ever written.\n"
    "\n"
    "options:\n"
    "  --format ooni|csv   ooni: one OONI measurement (df-000, test \"meoktong\") per record, JSONL,\n"
    "                      which analyze reads back; csv: one row per record with a header row\n"
    "                      (measured_at, cc, asn, service, host, port, protocol, status, method,\n"
    "                      confidence, evidence, source, id)\n"
    "  --out PATH          write here instead of stdout\n"
    "  --help              this text\n";

const CommandSpec& export_spec() {
    static const CommandSpec spec{"export", {{"--format"}, {"--out"}}, true};
    return spec;
}

}  // namespace

int cmd_export(const Args& args) {
    ParsedArgs parsed = parse_command_line(args, export_spec());
    if (parsed.help) {
        std::cout << kExportUsage;
        return 0;
    }
    std::string format, out;
    for (const auto& [name, value] : parsed.options) {
        if (name == "--format") format = value;
        else if (name == "--out") out = value;
    }
    if (format.empty()) throw InputError("export needs --format ooni|csv (see 'meoktong export --help')");
    if (format != "ooni" && format != "csv") throw InputError("bad --format '" + format + "': expected ooni or csv");
    if (parsed.positionals.empty()) throw InputError("export needs at least one report FILE or DIR");
    std::vector<std::string> files = analyze::report_files(parsed.positionals);
    std::string text = format == "csv" ? analyze::csv_header() : std::string();
    std::vector<Record> records;
    std::string why;
    uint64_t exported = 0, skipped = 0;
    for (const std::string& path : files) {
        analyze::InputFile file;
        analyze::read_units(path, [&](std::string_view unit, uint64_t line_no) {
            if (unit.find_first_not_of(" \t\r") == std::string_view::npos) return;
            if (!analyze::unit_records(unit, records, why)) {
                if (skipped++ == 0) std::cerr << "export: " << path << ": line " << line_no << " skipped: " << why << "\n";
                return;
            }
            for (const Record& r : records) {
                text += format == "csv" ? analyze::csv_row(r) : analyze::ooni_measurement(r) + "\n";
                ++exported;
            }
        }, file);
        skipped += file.malformed;
    }
    std::cerr << "export: " << exported << " records from " << files.size() << " files, " << skipped
              << " units skipped\n";
    if (out.empty()) {
        std::cout << text;
        return 0;
    }
    try {
        write_file_atomically(out, text, 0644);
    } catch (const FileError& e) {
        std::cerr << "meoktong: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace meoktong
