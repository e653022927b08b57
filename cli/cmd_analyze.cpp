// meoktong analyze: reads reports (files, or *.jsonl inside directories),
// finds incidents and writes them as JSON, Markdown or one HTML page (SPEC §2
// last paragraph, issue 8). Bad usage or an unreadable input: one-line error,
// exit 2. The output file is written whole or not at all.
#include <iostream>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/incident.hpp"
#include "analysis/analyze/render.hpp"
#include "cli/commands.hpp"
#include "meoktong/files.hpp"
#include "cli/options.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "probe/store/store.hpp"

namespace meoktong {
namespace {

const char* kAnalyzeUsage =
    "usage: meoktong analyze FILE|DIR... [OPTIONS]\n"
    "       meoktong analyze --store URL [--since T] [--until T] [--cc CC] [--service S] [OPTIONS]\n"
    "\n"
    "Aggregates measurement reports and OONI measurements (JSON or JSONL, plain or gzip;\n"
    "every *.jsonl, *.json and their .gz inside a DIR) into incidents:\n"
    "censorship (national or ISP-level), provider outage (a service or one endpoint),\n"
    "local failure of one vantage, or inconclusive; with onset, end and evidence.\n"
    "\n"
    "options:\n"
    "  --store URL         read the records of a store (sqlite:PATH, clickhouse://...), not files\n"
    "  --from, --since TIME   only measurements started at or after TIME (ISO 8601 UTC)\n"
    "  --to, --until TIME     only measurements started before TIME\n"
    "  --cc CC             only measurements from this country\n"
    "  --service NAME      only this service (repeatable, once with --store; canaries are always kept)\n"
    "  --window MINUTES    time window for grouping (default 15)\n"
    "  --format json|md|html   output format (default: from --out's extension, else json)\n"
    "  --out PATH          write here instead of stdout\n"
    "  --help              this text\n";

struct AnalyzeArgs {
    std::vector<std::string> inputs;
    analyze::Options options;
    std::string format, out, store_url;
};

int64_t time_option(const std::string& name, const std::string& value) {
    auto t = analyze::parse_utc_time(value);
    if (!t) throw InputError("bad " + name + " '" + value + "': expected an ISO 8601 UTC time like 2014-07-02T03:00Z");
    return *t;
}

int window_option(const std::string& value) {
    auto minutes = parse_integer(value, 1, 7 * 1440);
    if (!minutes) throw InputError("bad --window '" + value + "': expected minutes from 1 to 10080");
    return static_cast<int>(*minutes);
}

std::string format_from_path(const std::string& path) {
    auto ends = [&](const std::string& ext) {
        return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
    };
    if (ends(".html") || ends(".htm")) return "html";
    if (ends(".md")) return "md";
    return "json";
}

const CommandSpec& analyze_spec() {
    static const CommandSpec spec{
        "analyze",
        {{"--from"}, {"--to"}, {"--since"}, {"--until"}, {"--cc"}, {"--store"}, {"--service"}, {"--window"}, {"--format"},
         {"--out"}},
        true};
    return spec;
}

AnalyzeArgs parse_args(const ParsedArgs& parsed) {
    AnalyzeArgs a;
    a.inputs = parsed.positionals;
    for (const auto& [name, value] : parsed.options) {
        if (name == "--from" || name == "--since") a.options.from_ms = time_option(name, value);
        else if (name == "--to" || name == "--until") a.options.to_ms = time_option(name, value);
        else if (name == "--cc") a.options.cc = country_code_option(name, value);
        else if (name == "--store") a.store_url = value;
        else if (name == "--service") a.options.services.push_back(value);
        else if (name == "--window") a.options.window_minutes = window_option(value);
        else if (name == "--format") a.format = value;
        else if (name == "--out") a.out = value;
    }
    if (!a.store_url.empty() && !a.inputs.empty()) throw InputError("analyze reads report files or --store, not both");
    if (!a.store_url.empty() && a.options.services.size() > 1) throw InputError("--store takes one --service");
    if (a.inputs.empty() && a.store_url.empty())
        throw InputError("analyze needs at least one report FILE or DIR, or --store URL (see 'meoktong analyze --help')");
    if (a.format.empty()) a.format = a.out.empty() ? "json" : format_from_path(a.out);
    if (a.format != "json" && a.format != "md" && a.format != "html")
        throw InputError("bad --format '" + a.format + "': expected json, md or html");
    if (a.options.from_ms && a.options.to_ms && *a.options.from_ms >= *a.options.to_ms)
        throw InputError("--from must be before --to");
    return a;
}

// Written atomically (core write_file_atomically), so a reader never sees half a report.
bool write_whole(const std::string& path, const std::string& text) {
    try {
        write_file_atomically(path, text, 0644);
    } catch (const FileError& e) {
        std::cerr << "meoktong: " << e.what() << "\n";
        return false;
    }
    return true;
}

analyze::Analysis analyse_files(const AnalyzeArgs& a) {
    analyze::Aggregator agg(a.options);
    std::vector<analyze::InputFile> files = analyze::read_inputs(a.inputs, agg);
    return analyze::build_analysis(agg, std::move(files));
}

analyze::Analysis analyse_store(const AnalyzeArgs& a) {
    store::StoreFilter filter{a.options.from_ms, a.options.to_ms, a.options.cc,
                              a.options.services.empty() ? std::string() : a.options.services.front()};
    auto store = store::open_store(a.store_url);
    return store::analyse_store(*store, filter, a.options.window_minutes, a.store_url);
}

}  // namespace

int cmd_analyze(const Args& args) {
    ParsedArgs parsed = parse_command_line(args, analyze_spec());
    if (parsed.help) {
        std::cout << kAnalyzeUsage;
        return 0;
    }
    AnalyzeArgs a = parse_args(parsed);
    analyze::Analysis analysis = a.store_url.empty() ? analyse_files(a) : analyse_store(a);
    std::string text = a.format == "html" ? analyze::render_html(analysis)
                       : a.format == "md" ? analyze::render_markdown(analysis)
                                          : analyze::render_json(analysis);
    std::cerr << "analyze: " << analysis.totals.records << " measurements from " << analysis.totals.files << " files, "
              << analysis.totals.malformed << " malformed lines, " << analysis.incidents.size() << (analysis.incidents.size() == 1 ? " incident\n" : " incidents\n");
    if (a.out.empty()) {
        std::cout << text;
        std::cout.flush();
        return std::cout ? 0 : 1;
    }
    return write_whole(a.out, text) ? 0 : 1;
}

}  // namespace meoktong
