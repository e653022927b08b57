// The command-line option parser and the typed option values (options.hpp).
#include "cli/options.hpp"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"

namespace meoktong {

namespace {

std::string see_help(const CommandSpec& spec) { return " (see 'meoktong " + spec.command + " --help')"; }

const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
    for (const auto& o : spec.options)
        if (o.name == name) return &o;
    return nullptr;
}

}  // namespace

ParsedArgs parse_command_line(const Args& args, const CommandSpec& spec) {
    ParsedArgs parsed;
    if (std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; })) {
        parsed.help = true;
        return parsed;
    }
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        bool is_option = arg.size() > 1 && arg[0] == '-';
        if (!is_option) {
            if (!spec.positionals) throw InputError("unexpected argument '" + arg + "' for " + spec.command + see_help(spec));
            parsed.positionals.push_back(arg);
            continue;
        }
        auto eq = arg.rfind("--", 0) == 0 ? arg.find('=') : std::string::npos;
        std::string name = arg.substr(0, eq);
        const OptionSpec* option = find_option(spec, name);
        if (option == nullptr) throw InputError("unknown option '" + name + "' for " + spec.command + see_help(spec));
        ParsedOption given{name, ""};
        if (!option->takes_value) {
            if (eq != std::string::npos) throw InputError("option " + name + " takes no value");
        } else if (eq != std::string::npos) {
            given.value = arg.substr(eq + 1);
        } else if (i + 1 < args.size()) {
            given.value = args[++i];
        } else {
            throw InputError("option " + name + " needs a value" + see_help(spec));
        }
        if (option->takes_value && given.value.empty() && !option->allow_empty)
            throw InputError("option " + name + " needs a non-empty value");
        parsed.options.push_back(std::move(given));
    }
    return parsed;
}

int run_subcommand(const std::string& command, const std::string& subcommand, const char* usage, const Args& args,
                   const std::function<int(const Args&)>& run) {
    std::string use = "use '" + command + " " + subcommand + "'";
    if (args.empty()) throw InputError(command + ": missing subcommand (" + use + "; see 'meoktong " + command + " --help')");
    if (args[0] == "--help" || args[0] == "-h") {
        std::cout << usage;
        return 0;
    }
    if (args[0] != subcommand) throw InputError(command + ": unknown subcommand '" + args[0] + "' (" + use + ")");
    return run(Args(args.begin() + 1, args.end()));
}

int64_t integer_option(const std::string& option, const std::string& text, int64_t lo, int64_t hi) {
    auto value = parse_integer(text, lo, hi);
    if (!value)
        throw InputError("bad " + option + " '" + text + "': expected a number from " + std::to_string(lo) + " to " +
                         std::to_string(hi));
    return *value;
}

std::string app_roots_option(const std::string& option, const std::string& text) {
    for (const char* name : {"signal-roots.pem", "whatsapp-root-key.json"})
        if (::access((text + "/" + name).c_str(), R_OK) != 0)
            throw InputError("bad " + option + " '" + text + "': expected a directory holding " + name);
    return text;
}

uint16_t port_option(const std::string& option, const std::string& text) {
    auto port = parse_port(text);
    if (!port) throw InputError("bad " + option + " '" + text + "': expected a port from 1 to 65535");
    return *port;
}

int64_t duration_option(const std::string& option, const std::string& text, int64_t lo, int64_t hi) {
    auto seconds = parse_duration_seconds(text);
    if (!seconds || *seconds < lo || *seconds > hi)
        throw InputError("bad " + option + " '" + text + "': expected a duration such as 90, 90s, 20m, 2h (" +
                         std::to_string(lo) + " to " + std::to_string(hi) + " seconds)");
    return *seconds;
}

std::string country_code_option(const std::string& option, const std::string& text) {
    auto cc = parse_country_code(text);
    if (!cc) throw InputError("bad " + option + " '" + text + "': expected a two-letter country code");
    return *cc;
}

std::string asn_option(const std::string& option, const std::string& text) {
    auto asn = parse_asn(text);
    if (!asn) throw InputError("bad " + option + " '" + text + "': expected ASNUMBER, e.g. AS4766");
    return *asn;
}

}  // namespace meoktong
