// `meoktong collector serve` (SPEC §6): the command line of the collector,
// parsed by cli/options.hpp into CollectorSettings, in front of the store its
// --store URL names. One signal-handling thread (the signals are blocked in
// every other thread and taken with sigwait, never in a handler): SIGHUP
// rereads the tokens file, SIGINT/SIGTERM stop the server cleanly.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "probe/collector/collector.hpp"
#include "probe/store/store.hpp"

namespace meoktong {
namespace {

const char* kCollectorUsage =
    "usage: meoktong collector serve --listen HOST:PORT --tokens FILE --store URL [OPTIONS]\n"
    "\n"
    "Runs the collector many probes upload their reports to (run --upload URL/v1/reports),\n"
    "keeps them in the store, and serves the live view: GET / (status page),\n"
    "GET /v1/incidents (JSON), GET /feed.atom. See docs/fleet.md.\n"
    "\n"
    "  --listen HOST:PORT     address to listen on, e.g. 0.0.0.0:443 or [::]:443\n"
    "  --tokens FILE          one 'LABEL TOKEN' line per probe; SIGHUP rereads it\n"
    "  --store URL            sqlite:PATH or clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE[?cluster=NAME]\n"
    "  --tls-cert PEM --tls-key PEM   serve HTTPS\n"
    "  --quiet                no per-request log lines\n"
    "  --help                 this text\n";

const CommandSpec& serve_spec() {
    static const CommandSpec spec{
        "collector serve", {{"--listen"}, {"--tokens"}, {"--store"}, {"--tls-cert"}, {"--tls-key"}, {"--quiet", false}},
        false};
    return spec;
}

struct CollectorOptions {
    collector::CollectorSettings settings;
    std::string store_url;
};

CollectorOptions parse_options(const ParsedArgs& parsed) {
    CollectorOptions o;
    auto& s = o.settings;
    bool listen_given = false;
    for (const auto& [name, value] : parsed.options) {
        if (name == "--listen") {
            auto host_port = split_host_port(value);
            if (!host_port || !host_port->port)
                throw InputError("--listen expects HOST:PORT (a port from 1 to 65535), got '" + value + "'");
            if (!is_ip_literal(host_port->host) && host_port->host != "localhost")
                throw InputError("--listen expects an IP address as HOST, got '" + host_port->host + "'");
            s.listen_host = host_port->host;
            s.listen_port = *host_port->port;
            listen_given = true;
        } else if (name == "--tokens") s.tokens_file = value;
        else if (name == "--store") o.store_url = value;
        else if (name == "--tls-cert") s.tls_cert = value;
        else if (name == "--tls-key") s.tls_key = value;
        else if (name == "--quiet") s.log_requests = false;
    }
    if (!listen_given) throw InputError("collector serve: --listen HOST:PORT is required");
    if (s.tokens_file.empty()) throw InputError("collector serve: --tokens FILE is required");
    if (o.store_url.empty()) throw InputError("collector serve: --store URL is required");
    if (s.tls_cert.empty() != s.tls_key.empty()) throw InputError("collector serve: --tls-cert and --tls-key go together");
    return o;
}

// The store and the collector in front of it, which must not outlive it
// (members are destroyed in reverse order). Shared with the signal thread.
struct Running {
    std::unique_ptr<store::Store> store;
    std::unique_ptr<collector::Collector> collector;
};

// Blocks SIGHUP, SIGINT and SIGTERM in this thread, and so in every thread
// started after it (the collector's own threads among them): called before any.
sigset_t block_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

// Takes the signals `set` (blocked by block_signals) in one thread of its own.
void handle_signals(const sigset_t& set, std::shared_ptr<Running> running) {
    std::thread([set, running] {
        collector::Collector& server = *running->collector;
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) continue;
            if (sig != SIGHUP) {
                std::cerr << "collector: stopping (signal " << sig << ")\n";
                server.stop();
                return;
            }
            try {
                server.reload_tokens();
                std::cerr << "collector: tokens file reloaded\n";
            } catch (const InputError& e) {
                std::cerr << "collector: tokens file not reloaded, keeping the tokens in use: " << e.what() << "\n";
            }
        }
    }).detach();
}

int serve(const Args& args) {
    ParsedArgs parsed = parse_command_line(args, serve_spec());
    if (parsed.help) {
        std::cout << kCollectorUsage;
        return 0;
    }
    CollectorOptions o = parse_options(parsed);
    sigset_t signals = block_signals();
    auto running = std::make_shared<Running>();
    running->store = store::open_store(o.store_url);
    running->collector = std::make_unique<collector::Collector>(o.settings, *running->store);
    int port = running->collector->bind();
    handle_signals(signals, running);
    std::cerr << "collector: serving " << (o.settings.tls_cert.empty() ? "http" : "https") << " on "
              << join_host_port(o.settings.listen_host, port) << "\n";
    if (!running->collector->serve()) {
        std::cerr << "meoktong: collector: the listening socket failed\n";
        return 1;
    }
    return 0;
}

}  // namespace

int cmd_collector(const Args& args) { return run_subcommand("collector", "serve", kCollectorUsage, args, serve); }

}  // namespace meoktong
