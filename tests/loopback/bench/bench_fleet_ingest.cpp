// The ingest benchmark of scripts/bench-fleet-ingest (issue 14; not a test):
// a collector in a child process on an ephemeral 127.0.0.1 port over the store
// URL given, and N concurrent uploading probes (threads, each its own token)
// sending reports of about the size asked for, made of the golden record.
// Prints records/s, acknowledgement latency percentiles and the collector's
// peak RSS and CPU time. Loopback only.
//
//   bench_fleet_ingest STORE_URL [--probes 50] [--reports 4] [--report-kb 1024]
//                                [--collector-threads N (default: the collector's)]
#include <curl/curl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "probe/collector/collector.hpp"
#include "probe/store/store.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string token_of(int probe) { return "bench-token-of-probe-" + std::to_string(100000 + probe); }

// One report of about `bytes`: the golden record, compacted, once per line with its own id and run_id.
std::string make_report(const nlohmann::json& golden, const std::string& run_id, size_t bytes, size_t& records) {
    std::string body;
    records = 0;
    while (body.size() < bytes) {
        nlohmann::json r = golden;
        r["id"] = run_id + "-" + std::to_string(records);
        r["run_id"] = run_id;
        body += r.dump() + "\n";
        ++records;
    }
    return body;
}

size_t discard(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

long upload(int port, const std::string& token, const std::string& key, const std::string& body) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1/reports";
    std::string auth = "Authorization: Bearer " + token, idem = "Idempotency-Key: " + key;
    curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
    headers = curl_slist_append(headers, idem.c_str());
    headers = curl_slist_append(headers, "Content-Type: application/x-ndjson");
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 300000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    return status;
}

int fail(const std::string& message) {
    std::fprintf(stderr, "bench_fleet_ingest: %s\n", message.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return fail(
            "usage: bench_fleet_ingest STORE_URL [--probes N] [--reports N] [--report-kb N] [--collector-threads N]");
    std::string store_url = argv[1];
    int probes = 50, reports = 4, report_kb = 1024, collector_threads = meoktong::collector::CollectorSettings{}.threads;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string name = argv[i];
        int value = std::atoi(argv[i + 1]);
        if (value <= 0) return fail("bad value for " + name);
        if (name == "--probes") probes = value;
        else if (name == "--reports") reports = value;
        else if (name == "--report-kb") report_kb = value;
        else if (name == "--collector-threads") collector_threads = value;
        else return fail("unknown option " + name);
    }
    std::ifstream golden_file(std::string(MEOKTONG_SOURCE_DIR) + "/tests/data/golden/record_full.json");
    auto golden = nlohmann::json::parse(golden_file);

    fs::path dir = fs::temp_directory_path() / ("bench-fleet-ingest-" + std::to_string(getpid()));
    fs::create_directories(dir);
    {
        std::ofstream tokens(dir / "tokens");
        for (int p = 0; p < probes; ++p) tokens << "probe-" << p << " " << token_of(p) << "\n";
    }

    int fds[2];
    if (pipe(fds) != 0) return fail("pipe failed");
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        try {
            auto store = meoktong::store::open_store(store_url);
            meoktong::collector::CollectorSettings s;
            s.tokens_file = (dir / "tokens").string();
            s.probe_rate_per_minute = s.probe_rate_burst = 1e9;
            s.log_requests = false;
            s.threads = collector_threads;
            meoktong::collector::Collector collector(s, *store);
            int port = collector.bind();
            if (write(fds[1], &port, sizeof port) != sizeof port) _exit(1);
            collector.serve();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_fleet_ingest: collector: %s\n", e.what());
        }
        _exit(1);
    }
    close(fds[1]);
    int port = 0;
    if (read(fds[0], &port, sizeof port) != sizeof port) return fail("the collector did not start");

    // The bodies are made before the clock starts.
    std::vector<std::vector<std::string>> bodies(static_cast<size_t>(probes));
    size_t records_per_report = 0;
    for (int p = 0; p < probes; ++p)
        for (int r = 0; r < reports; ++r)
            bodies[size_t(p)].push_back(make_report(golden, "bench-" + std::to_string(getpid()) + "-" +
                                                                std::to_string(p) + "-" + std::to_string(r),
                                                    size_t(report_kb) << 10, records_per_report));

    std::mutex mutex;
    std::vector<double> latencies_ms;
    std::atomic<int> failures{0};
    auto start = Clock::now();
    std::vector<std::thread> uploaders;
    for (int p = 0; p < probes; ++p)
        uploaders.emplace_back([&, p] {
            for (int r = 0; r < reports; ++r) {
                auto t0 = Clock::now();
                long status = upload(port, token_of(p), "bench-" + std::to_string(p) + "-" + std::to_string(r) +
                                                            ".jsonl", bodies[size_t(p)][size_t(r)]);
                double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                if (status != 201) ++failures;
                std::lock_guard lock(mutex);
                latencies_ms.push_back(ms);
            }
        });
    for (auto& t : uploaders) t.join();
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();

    kill(child, SIGKILL);
    rusage usage{};
    int status = 0;
    wait4(child, &status, 0, &usage);
    fs::remove_all(dir);

    std::sort(latencies_ms.begin(), latencies_ms.end());
    auto pct = [&](double q) { return latencies_ms[std::min(latencies_ms.size() - 1, size_t(q * latencies_ms.size()))]; };
    size_t records = records_per_report * size_t(probes) * size_t(reports);
    std::printf("store %s\n", store_url.substr(0, store_url.find(':')).c_str());
    std::printf("  %d probes x %d reports of %d KiB (%zu records each, %.0f bytes/record)\n", probes, reports,
                report_kb, records_per_report, double(size_t(report_kb) << 10) / double(records_per_report));
    std::printf("  %zu records in %.2f s: %.0f records/s (%.1f MB/s)\n", records, seconds, double(records) / seconds,
                double(records_per_report) * double(probes * reports) *
                    (double(size_t(report_kb) << 10) / double(records_per_report)) / seconds / 1e6);
    std::printf("  acknowledgement latency p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", pct(0.5), pct(0.99),
                latencies_ms.back());
    std::printf("  collector peak RSS %.1f MB\n", double(usage.ru_maxrss) / 1024.0);
    // CPU time is steadier than records/s on a machine shared with other work.
    double cpu_s = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                   double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    std::printf("  collector CPU %.2f s (%.1f us/record)\n", cpu_s, cpu_s * 1e6 / double(records));
    if (failures) std::printf("  FAILED uploads: %d\n", failures.load());
    return failures ? 1 : 0;
}
