// `meoktong control serve`: command line of the control vantage (SPEC §3),
// parsed by cli/options.hpp into ControlServerSettings; serves until
// SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.hpp"
#include "meoktong/files.hpp"
#include "meoktong/log.hpp"
#include "cli/control_options.hpp"
#include "cli/options.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "probe/net/dns.hpp"

namespace meoktong {
namespace {

const char* kControlUsage =
    "usage: meoktong control serve --listen HOST:PORT (--token TOKEN | --token-file PATH) [OPTIONS]\n"
    "\n"
    "Runs the control vantage: measures the targets probes send to POST /v1/measure\n"
    "from this machine and answers the observations. See docs/control.md.\n"
    "\n"
    "  --listen HOST:PORT     address to listen on, e.g. 0.0.0.0:8443 or [::]:8443\n"
    "  --token TOKEN          bearer token the probes must send (at least 16 characters)\n"
    "  --token-file PATH      read the token from a file instead (keeps it out of `ps`)\n"
    "  --tls-cert PEM --tls-key PEM   serve HTTPS (strongly recommended off-lab)\n"
    "  --ca-file PATH         trust store used when measuring targets (default: the system's)\n"
    "  --app-roots DIR        pinned root keys of the app protocols (default: the shipped ones; labs)\n"
    "  --resolver IP[:PORT]   extra UDP resolver to measure with (repeatable)\n"
    "  --allow-private        measure private/loopback/link-local targets (labs only)\n"
    "  --timeout-ms N         per-step measurement timeout (default 5000)\n"
    "  --deadline-ms N        per-request deadline to start targets (default 20000)\n"
    "  --max-targets N        targets per request (default 100)\n"
    "  --max-body BYTES       request body size (default 262144)\n"
    "  --rate PER_MIN         requests per minute per client address (default 60, burst 10)\n"
    "  --threads N            connections served at once (default 16)\n"
    "  --quiet                no per-request log lines\n"
    "  --help                 this text\n";

void parse_listen(const std::string& text, ControlServerSettings& s) {
    auto host_port = split_host_port(text);
    if (!host_port || !host_port->port)
        throw InputError("--listen expects HOST:PORT (a port from 1 to 65535), got '" + text + "'");
    if (!is_ip_literal(host_port->host) && host_port->host != "localhost")
        throw InputError("--listen expects an IP address as HOST, got '" + host_port->host + "'");
    s.listen_host = host_port->host;
    s.listen_port = *host_port->port;
}

std::string validated_resolver(const std::string& text) {
    if (!dns::normalise_resolver(text)) throw InputError("--resolver expects IP[:PORT], got '" + text + "'");
    return text;
}

void check_token(const std::string& token) {
    bool printable = std::all_of(token.begin(), token.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
    if (token.size() < 16 || !printable)
        throw InputError("the token must be at least 16 printable characters without spaces");
}

const CommandSpec& serve_spec() {
    static const CommandSpec spec{
        "control serve",
        {{"--listen"}, {"--token"}, {"--token-file"}, {"--tls-cert"}, {"--tls-key"}, {"--ca-file"}, {"--app-roots"}, {"--resolver"},
         {"--allow-private", false}, {"--timeout-ms"}, {"--deadline-ms"}, {"--max-targets"}, {"--max-body"},
         {"--rate"}, {"--threads"}, {"--quiet", false}},
        false};
    return spec;
}

}  // namespace

ServeOptions parse_serve_options(const Args& args) {
    ServeOptions o;
    ParsedArgs parsed = parse_command_line(args, serve_spec());
    o.help = parsed.help;
    if (o.help) return o;
    o.settings.measure.allow_private = false;
    std::string token, token_file;
    bool listen_given = false;
    for (const auto& [a, v] : parsed.options) {
        auto& s = o.settings;
        if (a == "--listen") parse_listen(v, s), listen_given = true;
        else if (a == "--token") token = v;
        else if (a == "--token-file") token_file = v;
        else if (a == "--tls-cert") s.tls_cert = v;
        else if (a == "--tls-key") s.tls_key = v;
        else if (a == "--ca-file") s.measure.ca_file = v;
        else if (a == "--app-roots") s.measure.app_roots_dir = app_roots_option(a, v);
        else if (a == "--resolver") s.measure.resolvers.push_back(validated_resolver(v));
        else if (a == "--allow-private") s.measure.allow_private = true;
        else if (a == "--timeout-ms") s.measure.timeout_ms = static_cast<int>(integer_option(a, v, 1, 600000));
        else if (a == "--deadline-ms") s.deadline_ms = static_cast<int>(integer_option(a, v, 1, 3600000));
        else if (a == "--max-targets") s.max_targets = static_cast<size_t>(integer_option(a, v, 1, 100000));
        else if (a == "--max-body") s.max_body_bytes = static_cast<size_t>(integer_option(a, v, 64, int64_t{1} << 30));
        else if (a == "--rate") s.rate_per_minute = static_cast<double>(integer_option(a, v, 1, 100000000));
        else if (a == "--threads") s.threads = static_cast<int>(integer_option(a, v, 1, 1024));
        else if (a == "--quiet") s.log_requests = false;
    }
    if (!listen_given) throw InputError("control serve: --listen HOST:PORT is required");
    if (token.empty() == token_file.empty()) throw InputError("control serve: give exactly one of --token, --token-file");
    o.settings.token = token_file.empty() ? token : read_token_file(token_file);
    check_token(o.settings.token);
    return o;
}

namespace {

// SIGINT/SIGTERM are blocked in every thread and taken by one waiter that stops the server.
void stop_on_signal(std::shared_ptr<ControlServer> server) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set, server] {
        int sig = 0;
        sigwait(&set, &sig);
        process_logger().info("control_stopping", {{"signal", std::to_string(sig)}});
        server->stop();
    }).detach();
}

int serve(const Args& args) {
    auto options = parse_serve_options(args);
    if (options.help) {
        std::cout << kControlUsage;
        return 0;
    }
    const auto& s = options.settings;
    set_process_logger(Logger::to_stderr());  // the per-request lines
    process_logger().add_secret(s.token);
    auto server = std::make_shared<ControlServer>(s);
    int port = server->bind();
    stop_on_signal(server);
    std::cerr << "control: serving " << (s.tls_cert.empty() ? "http" : "https") << " on " << s.listen_host << ":"
              << port << (s.measure.allow_private ? " (private targets ALLOWED: labs only)" : "")
              << (s.tls_cert.empty() ? " (no TLS: the token travels in clear)" : "") << "\n";
    if (!server->serve()) {
        std::cerr << "meoktong: control: the listening socket failed\n";
        return 1;
    }
    return 0;
}

}  // namespace

int cmd_control(const Args& args) { return run_subcommand("control", "serve", kControlUsage, args, serve); }

}  // namespace meoktong
