// meoktong run: parse options (cli/run_options.hpp: command line over the config file), take the
// run lock, measure every target (probe/runner) within --max-runtime, write
// the report atomically, then retention and upload; print a table or JSONL.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/run_options.hpp"
#include "probe/net/measure.hpp"
#include "meoktong/target.hpp"
#include "probe/net/capture.hpp"
#include "probe/net/capturing_net.hpp"
#include "probe/ops/config.hpp"
#include "probe/net/dns.hpp"
#include "probe/ops/geoip.hpp"
#include "meoktong/log.hpp"
#include "probe/ops/max_runtime.hpp"
#include "probe/ops/progress.hpp"
#include "probe/run/report_writer.hpp"
#include "probe/ops/retention.hpp"
#include "probe/ops/run_lock.hpp"
#include "probe/run/runner.hpp"
#include "probe/run/text_table.hpp"
#include "probe/ops/upload.hpp"

namespace meoktong {

namespace {

namespace fs = std::filesystem;

// Logs at info on a terminal or to syslog; only warnings and errors from cron's stderr.
void configure_logging(const RunConfig& ops, const RunSettings& settings) {
    std::string destination = ops.log.value_or("stderr");
    bool quiet = destination == "stderr" && isatty(STDERR_FILENO) != 1;
    set_process_logger(make_logger(destination, quiet ? LogLevel::warn : LogLevel::info));
    process_logger().add_secret(settings.control_token);
    if (ops.upload_token) process_logger().add_secret(*ops.upload_token);
}

// cc/asn: --cc/--asn, else the GeoIP databases (for this host's public address), else the config.
void resolve_vantage_metadata(RunSettings& settings, const RunConfig& command_line, const RunConfig& file,
                              const RunConfig& ops) {
    VantageSources sources;
    sources.cli_cc = command_line.cc;
    sources.cli_asn = command_line.asn;
    sources.config_cc = file.cc;
    sources.config_asn = file.asn;
    if (!ops.geoip_db.empty()) {
        auto addresses = local_public_addresses();
        if (addresses.empty()) {
            process_logger().info("geoip_skipped", {{"reason", "no public address on this host's interfaces"}});
        } else {
            sources.geoip = lookup_geoip(ops.geoip_db, addresses.front());
        }
    }
    settings.vantage = resolve_vantage(settings.vantage.label, sources);
}

std::string report_dir(const std::string& report_path) {
    fs::path dir = fs::path(report_path).parent_path();
    return dir.empty() ? "." : dir.string();
}

void apply_retention_policy(const RunConfig& ops, const std::string& dir) {
    RetentionPolicy policy{ops.retention_days, ops.retention_mb};
    auto now = std::chrono::system_clock::now();
    for (const std::string& d : {dir, upload_queue_dir_for_output(dir) + "/sent"}) {
        if (!policy.days && !policy.megabytes) break;
        auto result = apply_retention(d, policy, now);
        for (const auto& path : result.removed) process_logger().info("retention_removed", {{"path", path}});
        for (const auto& error : result.errors) process_logger().warn("retention_failed", {{"error", error}});
    }
}

void upload_reports(const RunConfig& ops, const RunSettings& settings, const std::string& report) {
    if (!ops.upload_url) return;
    std::string queue = upload_queue_dir_for_output(report_dir(report));
    enqueue_report(queue, report);
    UploadSettings upload;
    upload.url = *ops.upload_url;
    upload.token = ops.upload_token;
    upload.ca_file = settings.measure.ca_file;
    for (const auto& o : drain_upload_queue(queue, upload)) {
        if (o.delivered) {
            process_logger().info("upload_sent", {{"report", o.report}, {"attempts", std::to_string(o.attempts)}});
        } else {
            process_logger().warn("upload_failed", {{"report", o.report}, {"attempts", std::to_string(o.attempts)},
                                                     {"error", o.last_error}});
        }
    }
}

// The capture of a run: interface as given with --capture, DNS answers from
// port 53 and from every --resolver's port.
CaptureOptions capture_options(const RunSettings& settings) {
    CaptureOptions o;
    o.interface = settings.capture;
    o.dns_ports = {53};
    for (const auto& r : settings.measure.resolvers) {
        auto ip_port = split_ip_port(dns::normalise_resolver(r).value_or(r));
        if (ip_port && std::find(o.dns_ports.begin(), o.dns_ports.end(), ip_port->second) == o.dns_ports.end())
            o.dns_ports.push_back(ip_port->second);
    }
    return o;
}

// Lost packets mean lost evidence: a run that dropped any says so at warn level.
void log_capture_stats(const CaptureStats& s) {
    LogFields fields = {{"frames", std::to_string(s.frames)},
                        {"packets_kept", std::to_string(s.packets_kept)},
                        {"packets_over_limit", std::to_string(s.packets_over_limit)},
                        {"kernel_drops", std::to_string(s.kernel_drops)}};
    if (s.kernel_drops > 0 || s.packets_over_limit > 0)
        process_logger().warn("capture_incomplete", fields);
    else
        process_logger().info("capture_done", fields);
}

// One target measured with its flows watched by `capture` (null: no capture).
Observations measure_with_capture(PacketCapture* capture, const Target& target, const MeasureSettings& settings,
                                  SteadyTime start) {
    if (capture == nullptr) return measure_target(target, settings, start);
    CaptureMeasurement packets = capture->begin(start);
    SystemNet system;
    CapturingNet net(system, packets);
    Observations obs = measure_target_with(net, target, settings, start);
    obs.packets = packets.finish();
    return obs;
}

}  // namespace

int cmd_run(const Args& args) {
    RunCommandLine command_line = parse_run_command_line(args);
    if (command_line.help) {
        std::cout << kRunUsage;
        return 0;
    }
    RunConfig file = load_run_config(command_line.config_path);
    RunConfig ops = merge_options(file, command_line.values);
    RunSettings options = run_settings(ops, command_line);
    configure_logging(ops, options);
    resolve_vantage_metadata(options, command_line.values, file, ops);
    std::vector<TestList> lists = selected_lists(options);
    std::vector<Target> targets = select_targets(options, lists);
    std::string run_id = new_uuid();
    std::string report = prepare_report_path(options.out, options.vantage.label, run_id, std::chrono::system_clock::now());

    std::string lock_path = lock_path_for_output(report);
    auto lock = RunLock::try_acquire(lock_path);
    if (!lock) {
        auto holder = lock_holder_pid(lock_path);
        std::string pid = holder ? std::to_string(*holder) : "unknown";
        std::cerr << "meoktong: another run is in progress (pid " << pid << ", lock " << lock_path << "); exiting\n";
        process_logger().info("run_busy", {{"lock", lock_path}, {"holder_pid", pid}});
        return 0;
    }
    for (const auto& stale : remove_stale_temp_files(report_dir(report), std::chrono::system_clock::now(),
                                                     std::chrono::hours(1)))
        process_logger().info("stale_temp_removed", {{"path", stale}});
    std::unique_ptr<PacketCapture> capture;
    if (options.capture != "off") {
        capture = std::make_unique<PacketCapture>(capture_options(options));
        options.capture_active = capture->active();
    }
    process_logger().info("run_start", {{"run_id", run_id}, {"targets", std::to_string(targets.size())}});

    std::optional<std::chrono::seconds> max_runtime;
    if (ops.max_runtime_s) max_runtime = std::chrono::seconds(*ops.max_runtime_s);
    RunDeadline deadline(max_runtime, std::chrono::seconds(30));
    Progress progress = Progress::for_stderr(targets.size());
    options.out_of_time = [&] { return deadline.expired(); };
    MeasureFn measure = [&](const Target& t, SteadyTime start) {
        Observations obs = measure_with_capture(capture.get(), t, options.measure, start);
        progress.advance(t.host);
        return obs;
    };
    RunOutcome outcome = execute_run(targets, options, measure, run_id);
    progress.finish();
    if (capture && capture->active()) log_capture_stats(capture->stats());
    if (outcome.not_started > 0)
        process_logger().warn("max_runtime_reached", {{"run_id", run_id}, {"skipped_targets", std::to_string(outcome.not_started)}});
    int list_rows_skipped = 0;
    for (const auto& list : lists) list_rows_skipped += list.rows_skipped;
    for (auto& r : outcome.records) r.context.list_rows_skipped = list_rows_skipped;
    write_report(report, outcome.records);
    deadline.disarm();
    process_logger().info("run_done", {{"run_id", run_id}, {"records", std::to_string(outcome.records.size())},
                                       {"list_rows_skipped", std::to_string(list_rows_skipped)}, {"report", report}});
    apply_retention_policy(ops, report_dir(report));
    upload_reports(ops, options, report);

    if (options.format == "json") {
        for (const auto& r : outcome.records) std::cout << record_line(r) << "\n";
    } else {
        std::cout << render_table(outcome.records) << render_services(outcome.records, lists);
        const RunContext& c = outcome.records.empty() ? RunContext{} : outcome.records.front().context;
        std::cout << "\n" << outcome.records.size() << " targets, canaries " << c.canaries_ok << "/"
                  << c.canaries_total << " reachable; "
                  << (list_rows_skipped > 0 ? std::to_string(list_rows_skipped) + " list rows skipped; " : "")
                  << "report: " << report << "\n";
    }
    return 0;
}

}  // namespace meoktong
