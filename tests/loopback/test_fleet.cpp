// The fleet's store and collector against real engines: SQLite in a temporary
// file and the two-shard ClickHouse cluster that scripts/clickhouse-cluster
// starts (the ctest fixture `clickhouse_cluster`; its DIR/cluster.env is
// named by MEOKTONG_CLICKHOUSE_CLUSTER_ENV). Stored once, all or nothing,
// dedup by key and by run_id, every status code of the collector over HTTP
// on loopback, `run --upload`'s own client against it, and the address a
// probe connects from in no stored row and no log line. TEST_SUITE "fleet":
// ctest runs it as `loopback_fleet`, with the cluster.
#include <deque>
#include <doctest/doctest.h>

#include <curl/curl.h>
#include <httplib.h>
#include <sqlite3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "meoktong/target.hpp"
#include "privileges.hpp"
#include "small_tmpfs.hpp"
#include "probe/collector/collector.hpp"
#include "probe/ops/upload.hpp"
#include "probe/store/group_commit.hpp"
#include "probe/store/report.hpp"
#include "probe/store/store.hpp"

using namespace meoktong;
namespace fs = std::filesystem;

namespace {

// The probes of these tests connect from this loopback address (Linux routes
// all of 127/8 to lo), so it can be looked for in what the collector kept.
constexpr const char* kProbeAddress = "127.0.0.77";
constexpr const char* kProbeToken = "token-of-kr-seoul-kt-0001";
constexpr const char* kOtherToken = "token-of-cn-beijing-ct-02";

std::string record_line(const std::string& run_id, int n) {
    return R"({"schema":"meoktong/1","id":"m-)" + run_id + "-" + std::to_string(n) + R"(","run_id":")" + run_id +
           R"(","started_at":"2026-03-01T10:0)" + std::to_string(n % 10) +
           R"(:00.000Z","vantage":{"label":"kr-seoul-kt","cc":"KR","asn":"AS4766"},)"
           R"("target":{"service":"line","host":"line.me","protocol":"tls","port":443},)"
           R"("verdict":{"status":"blocked","method":"tls_sni_reset","confidence":0.9,"evidence":["reset after the ClientHello"]}})";
}

// A report of `records` lines of one run.
std::string report_body(const std::string& run_id, int records = 3) {
    std::string body;
    for (int i = 0; i < records; ++i) body += record_line(run_id, i) + "\n";
    return body;
}

// A Report's records are views into its body: the bodies are kept for the
// whole test process (a temporary body was read after it died: ASan).
store::Report read_or_fail(std::string body) {
    static std::deque<std::string> bodies;
    const std::string& kept = bodies.emplace_back(std::move(body));
    store::Report r;
    auto problem = store::read_report(kept, r);
    REQUIRE_MESSAGE(!problem, problem->describe());
    return r;
}

struct TempDir {
    fs::path path;
    TempDir() {
        static std::atomic<int> n{0};
        path = fs::temp_directory_path() / ("meoktong-fleet-" + std::to_string(getpid()) + "-" + std::to_string(n++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

// The cluster the ctest fixture started: its store URL for a fresh database,
// and the HTTP ports of its two shards. nullopt (after saying why) when none runs.
struct Cluster {
    std::string url_base;  // "clickhouse://H:P,H:P/"
    std::string cluster;
    std::vector<int> http_ports;
    std::string store_url(const std::string& database) const { return url_base + database + "?cluster=" + cluster; }
};

std::optional<Cluster> running_cluster() {
    const char* env = std::getenv("MEOKTONG_CLICKHOUSE_CLUSTER_ENV");
    std::ifstream in(env ? env : "");
    if (!in) {
        testing::cannot_run_here("no ClickHouse cluster (scripts/clickhouse-cluster start did not run or failed)");
        return std::nullopt;
    }
    Cluster c;
    for (std::string line; std::getline(in, line);) {
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string name = line.substr(0, eq), value = line.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
        if (name == "CLICKHOUSE_CLUSTER") c.cluster = value;
        if (name == "CLICKHOUSE_HTTP_PORTS") {
            std::istringstream ports(value);
            for (int p; ports >> p;) c.http_ports.push_back(p);
        }
    }
    REQUIRE(c.http_ports.size() == 2);
    c.url_base = "clickhouse://127.0.0.1:" + std::to_string(c.http_ports[0]) + ",127.0.0.1:" +
                 std::to_string(c.http_ports[1]) + "/";
    return c;
}

// A database name no earlier run used.
std::string fresh_database() {
    static std::atomic<int> n{0};
    return "fleet_test_" + std::to_string(getpid()) + "_" + std::to_string(::time(nullptr)) + "_" + std::to_string(n++);
}

// A ClickHouse query on one shard, answered as TSV.
std::string clickhouse_query(int port, const std::string& sql) {
    httplib::Client client("127.0.0.1", port);
    auto res = client.Post("/", sql, "text/plain");
    REQUIRE(res);
    REQUIRE_MESSAGE(res->status == 200, res->body);
    return res->body;
}

// Every value of every row of every table in a SQLite file, as text.
std::string sqlite_dump(const fs::path& file) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    std::string out;
    auto append = [](void* to, int columns, char** values, char**) {
        for (int i = 0; i < columns; ++i) *static_cast<std::string*>(to) += (values[i] ? values[i] : "") + std::string("\t");
        return 0;
    };
    for (const char* table : {"reports", "records"}) {
        std::string sql = std::string("SELECT * FROM ") + table;
        CHECK(sqlite3_exec(db, sql.c_str(), append, &out, nullptr) == SQLITE_OK);
    }
    sqlite3_close(db);
    return out;
}

// The contract every engine keeps, on `store`.
void check_store_contract(store::Store& s) {
    auto a = read_or_fail(report_body("run-a", 4));
    auto before = s.counts();
    CHECK(s.store_report("report-a.jsonl", "label-of-a-token", a) == store::StoreOutcome::stored);
    auto after = s.counts();
    CHECK(after.reports == before.reports + 1);
    CHECK(after.records == before.records + 4);

    // The same report again, under its key: stored once.
    CHECK(s.store_report("report-a.jsonl", "kr-seoul-kt", a) == store::StoreOutcome::already_stored);
    // Under another key, with the same run_id: stored once.
    CHECK(s.store_report("report-a-copy.jsonl", "kr-seoul-kt", a) == store::StoreOutcome::already_stored);
    // Another report under a stored key: that key's report is there already.
    auto b = read_or_fail(report_body("run-b", 2));
    CHECK(s.store_report("report-a.jsonl", "kr-seoul-kt", b) == store::StoreOutcome::already_stored);
    CHECK(s.counts().records == after.records);

    CHECK(s.store_report("report-b.jsonl", "kr-seoul-kt", b) == store::StoreOutcome::stored);
    // Records without a run_id are deduplicated by key alone.
    std::string no_run = R"({"id":"x","started_at":"2014-07-02T03:00:00Z","target":{"service":"line"},"verdict":{"status":"accessible"}})";
    auto c = read_or_fail(no_run + "\n");
    CHECK(s.store_report("old-1.jsonl", "importer", c) == store::StoreOutcome::stored);
    CHECK(s.store_report("old-2.jsonl", "importer", c) == store::StoreOutcome::stored);
    CHECK(s.store_report("old-2.jsonl", "importer", c) == store::StoreOutcome::already_stored);
    auto end = s.counts();
    CHECK(end.reports == before.reports + 4);
    CHECK(end.records == before.records + 4 + 2 + 2);

    // A batch: each report's outcome, a later report that repeats an earlier
    // one's run_id (or a stored key) already stored, all in one transaction.
    auto d = read_or_fail(report_body("run-d", 3));
    auto e = read_or_fail(report_body("run-e", 1));
    std::vector<store::ReportToStore> batch = {{"report-d.jsonl", "kr-seoul-kt", &d},
                                               {"report-d-again.jsonl", "kr-seoul-kt", &d},
                                               {"report-b.jsonl", "kr-seoul-kt", &e},
                                               {"report-e.jsonl", "kr-seoul-kt", &e},
                                               {"report-e.jsonl", "kr-seoul-kt", &e}};
    std::vector<store::StoreOutcome> expected = {store::StoreOutcome::stored, store::StoreOutcome::already_stored,
                                                 store::StoreOutcome::already_stored, store::StoreOutcome::stored,
                                                 store::StoreOutcome::already_stored};
    CHECK(s.store_reports(batch) == expected);
    auto batched = s.counts();
    CHECK(batched.reports == end.reports + 2);
    CHECK(batched.records == end.records + 3 + 1);
    CHECK(s.store_reports(batch) == std::vector<store::StoreOutcome>(5, store::StoreOutcome::already_stored));
    CHECK(s.counts().records == batched.records);
}

// Concurrent callers through one GroupCommit: every distinct report stored
// exactly once whatever batch it fell in, each caller told its own outcome.
void check_group_commit(store::Store& s) {
    constexpr int kCallers = 12, kReportsEach = 5;
    std::vector<store::Report> reports;
    for (int r = 0; r < kReportsEach; ++r) reports.push_back(read_or_fail(report_body("grouped-" + std::to_string(r), 2 + r)));
    auto before = s.counts();
    std::atomic<int> stored{0}, already{0}, failed{0};
    {
        store::GroupCommit commits(s, 8);  // small batches: several of them, some with two reports
        std::vector<std::thread> callers;
        for (int c = 0; c < kCallers; ++c)
            callers.emplace_back([&, c] {
                for (int r = 0; r < kReportsEach; ++r) {
                    try {
                        auto outcome = commits.store_report("grouped-" + std::to_string((c + r) % kReportsEach) + ".jsonl",
                                                            "kr-seoul-kt", reports[size_t((c + r) % kReportsEach)]);
                        ++(outcome == store::StoreOutcome::stored ? stored : already);
                    } catch (const store::StoreError&) {
                        ++failed;
                    }
                }
            });
        for (auto& t : callers) t.join();
    }
    CHECK(failed == 0);
    CHECK(stored == kReportsEach);
    CHECK(already == kCallers * kReportsEach - kReportsEach);
    auto after = s.counts();
    CHECK(after.reports == before.reports + kReportsEach);
    CHECK(after.records == before.records + (2 + 3 + 4 + 5 + 6));
}

// A POST of `body` to the collector from kProbeAddress, with libcurl.
struct Answer {
    long status = 0;
    std::string body;
};

size_t keep(char* data, size_t size, size_t nmemb, void* out) {
    static_cast<std::string*>(out)->append(data, size * nmemb);
    return size * nmemb;
}

Answer request(int port, const std::string& path, const std::optional<std::string>& token, const std::string& key,
               const std::optional<std::string>& body) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    REQUIRE(curl);
    std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
    struct curl_slist* headers = nullptr;
    std::string auth = token ? "Authorization: Bearer " + *token : "";
    std::string idem = "Idempotency-Key: " + key;
    if (token) headers = curl_slist_append(headers, auth.c_str());
    if (!key.empty()) headers = curl_slist_append(headers, idem.c_str());
    headers = curl_slist_append(headers, "Content-Type: application/x-ndjson");
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, curl_slist_free_all);
    Answer answer;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_INTERFACE, kProbeAddress);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer.body);
    CURLcode rc = curl_easy_perform(c);
    REQUIRE_MESSAGE(rc == CURLE_OK, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
    return answer;
}

Answer upload(int port, const std::optional<std::string>& token, const std::string& key, const std::string& body) {
    return request(port, "/v1/reports", token, key, body);
}

void write_tokens(const fs::path& file, const std::string& text) { std::ofstream(file) << text; }

// A collector served on an ephemeral loopback port for one test.
class RunningCollector {
public:
    RunningCollector(collector::CollectorSettings settings, store::Store& s) : collector_(std::move(settings), s) {
        port_ = collector_.bind();
        thread_ = std::thread([this] { collector_.serve(); });
    }
    ~RunningCollector() {
        collector_.stop();
        thread_.join();
    }
    int port() const { return port_; }
    collector::Collector& collector() { return collector_; }

private:
    collector::Collector collector_;
    int port_ = 0;
    std::thread thread_;
};

// Sends stderr to a file while it lives; text() is what was written.
class CapturedStderr {
public:
    explicit CapturedStderr(const fs::path& file) : file_(file) {
        std::fflush(stderr);
        saved_ = ::dup(2);
        FILE* f = std::fopen(file.c_str(), "w");
        REQUIRE(f);
        ::dup2(::fileno(f), 2);
        std::fclose(f);
    }
    ~CapturedStderr() { restore(); }
    std::string text() {
        restore();
        std::ifstream in(file_);
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }
    fs::path file_;
    int saved_ = -1;
};

collector::CollectorSettings settings_for(const fs::path& tokens) {
    collector::CollectorSettings s;
    s.tokens_file = tokens.string();
    s.max_body_bytes = 256 << 10;
    return s;
}

// A store whose engine fails as a full disk would: every store_reports throws.
class FailingStore : public store::Store {
public:
    std::vector<store::StoreOutcome> store_reports(const std::vector<store::ReportToStore>&) override {
        throw store::StoreError("store: database or disk is full");
    }
    store::StoreCounts counts() override { return {}; }
    void aggregate(const store::StoreFilter&, analyze::Aggregator&) override {
        throw store::StoreError("store: database or disk is full");
    }
};

// A collector in a child process (so it can be killed with SIGKILL) on an
// ephemeral loopback port, over the store at `store_url`.
class CollectorProcess {
public:
    CollectorProcess(const std::string& store_url, const fs::path& tokens) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::close(fds[0]);
            int port = 0;
            try {
                auto s = store::open_store(store_url);
                auto settings = settings_for(tokens);
                settings.max_body_bytes = 8 << 20;
                settings.probe_rate_per_minute = 1e9;
                settings.probe_rate_burst = 1e9;
                settings.log_requests = false;
                collector::Collector c(settings, *s);
                port = c.bind();
                if (::write(fds[1], &port, sizeof port) != sizeof port) ::_exit(1);
                c.serve();
            } catch (...) {
                ::_exit(1);
            }
            ::_exit(0);
        }
        ::close(fds[1]);
        REQUIRE(::read(fds[0], &port_, sizeof port_) == sizeof port_);
        ::close(fds[0]);
    }
    ~CollectorProcess() { kill(); }
    int port() const { return port_; }
    void kill() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

// An upload that may fail (the collector being killed): the status, or 0;
// the answer's Retry-After into *retry_after when given.
long try_upload(int port, const std::string& key, const std::string& body, std::string* retry_after = nullptr) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return 0;
    std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1/reports";
    std::string auth = std::string("Authorization: Bearer ") + kProbeToken, idem = "Idempotency-Key: " + key;
    struct curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
    headers = curl_slist_append(headers, idem.c_str());
    headers = curl_slist_append(headers, "Content-Type: application/x-ndjson");  // as run --upload sends it
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, curl_slist_free_all);
    std::string answer;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_INTERFACE, kProbeAddress);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    if (curl_easy_perform(c) != CURLE_OK) return 0;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    struct curl_header* header = nullptr;
    if (retry_after && curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &header) == CURLHE_OK)
        *retry_after = header->value;
    return status;
}

// Records stored per report key, read from the store's own tables.
std::map<std::string, int> records_per_report(const std::string& store_url, const std::optional<Cluster>& cluster,
                                              const std::string& database) {
    std::map<std::string, int> out;
    std::string tsv;
    if (cluster) {
        tsv = clickhouse_query(cluster->http_ports[0],
                               "SELECT report_key, count() FROM " + database + ".records GROUP BY report_key");
    } else {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open_v2(store_url.substr(7).c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
        auto append = [](void* to, int, char** values, char**) {
            *static_cast<std::string*>(to) += std::string(values[0]) + "\t" + values[1] + "\n";
            return 0;
        };
        REQUIRE(sqlite3_exec(db, "SELECT report_key, count(*) FROM records GROUP BY report_key", append, &tsv,
                             nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    std::istringstream lines(tsv);
    for (std::string line; std::getline(lines, line);) {
        auto tab = line.find('\t');
        if (tab != std::string::npos) out[line.substr(0, tab)] = std::stoi(line.substr(tab + 1));
    }
    return out;
}

// A two-shard cluster of the test's own (scripts/clickhouse-cluster), so
// killing its shards disturbs no other test; stopped when it goes.
struct OwnCluster {
    TempDir dir;
    std::string script = std::string(MEOKTONG_SOURCE_DIR) + "/scripts/clickhouse-cluster";
    Cluster cluster;

    OwnCluster() {
        REQUIRE(std::system((script + " start " + dir.path.string() + " 2>/dev/null").c_str()) == 0);
        std::string saved = std::getenv("MEOKTONG_CLICKHOUSE_CLUSTER_ENV");
        ::setenv("MEOKTONG_CLICKHOUSE_CLUSTER_ENV", (dir.path / "cluster.env").c_str(), 1);
        auto own = running_cluster();
        ::setenv("MEOKTONG_CLICKHOUSE_CLUSTER_ENV", saved.c_str(), 1);
        REQUIRE(own);
        cluster = *own;
    }
    ~OwnCluster() { CHECK(std::system((script + " stop " + dir.path.string()).c_str()) == 0); }

    // kill -9 of shard 1 or 2, returning once it is gone.
    void kill_shard(int shard) {
        std::ifstream pid_file(dir.path / ("shard" + std::to_string(shard)) / "server.pid");
        pid_t pid = 0;
        REQUIRE(static_cast<bool>(pid_file >> pid));
        REQUIRE(::kill(pid, SIGKILL) == 0);
        for (int i = 0; i < 200 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK_MESSAGE(::kill(pid, 0) != 0, "shard " << shard << " outlived kill -9");
    }
    // The killed shards again, on their ports and data.
    void resume() { REQUIRE(std::system((script + " resume " + dir.path.string() + " 2>/dev/null").c_str()) == 0); }
};

// kill -9 of the collector during heavy ingest by several uploaders, then a
// restart on the same store and the probes' queues resending what was not
// acknowledged (and, to be sure, what was).
void check_kill_during_ingest(const std::string& store_url, const std::optional<Cluster>& cluster,
                              const std::string& database) {
    TempDir dir;
    fs::path tokens = dir.path / "tokens";
    write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\n");
    constexpr int kUploaders = 4, kRecords = 400;
    std::mutex mutex;
    std::set<std::string> acknowledged, attempted;
    std::atomic<bool> killed{false};
    int refused = 0;  // answers other than 2xx before the kill
    long last_refusal = 0;
    {
        CollectorProcess first(store_url, tokens);
        std::vector<std::thread> uploaders;
        for (int u = 0; u < kUploaders; ++u)
            uploaders.emplace_back([&, u] {
                for (int i = 0; !killed; ++i) {
                    std::string key = "kill-" + std::to_string(u) + "-" + std::to_string(i);
                    {
                        std::lock_guard lock(mutex);
                        attempted.insert(key);
                    }
                    long status = try_upload(first.port(), key, report_body(key, kRecords));
                    std::lock_guard lock(mutex);
                    if (status == 201 || status == 200) acknowledged.insert(key);
                    if (status >= 300 && !killed) ++refused;  // not what an honest probe may get
                    if (status == 0 && !killed) ++refused;
                    if (status != 201 && status != 200 && !killed) last_refusal = status;
                }
            });
        for (;;) {  // kill once some reports are acknowledged, mid-stream for the others
            {
                std::lock_guard lock(mutex);
                if (acknowledged.size() >= 8 || refused > 0) break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        killed = true;  // first: uploads failing from here on are the kill's
        first.kill();
        for (auto& t : uploaders) t.join();
    }
    REQUIRE_MESSAGE(refused == 0, "an upload before the kill was answered " << last_refusal);
    auto after_kill = records_per_report(store_url, cluster, database);
    for (const auto& key : acknowledged) CHECK_MESSAGE(after_kill[key] == kRecords, "acknowledged " << key);
    for (const auto& stored : after_kill)
        CHECK_MESSAGE((stored.second == 0 || stored.second == kRecords), stored.first << " half-stored: " << stored.second);

    CollectorProcess second(store_url, tokens);
    for (const auto& key : attempted) {
        long status = try_upload(second.port(), key, report_body(key, kRecords));
        CHECK_MESSAGE((status == 200 || status == 201), key << ": " << status);
        if (acknowledged.count(key)) CHECK_MESSAGE(status == 200, "acknowledged " << key << " stored again");
    }
    auto resent = records_per_report(store_url, cluster, database);
    CHECK(resent.size() == attempted.size());
    for (const auto& key : attempted) CHECK_MESSAGE(resent[key] == kRecords, key);
}

// A report of two runs is stored once; either run alone under another key,
// or behind a new run, is already stored (on every engine).
void check_several_run_ids(store::Store& s) {
    auto both = read_or_fail(report_body("run-first", 2) + report_body("run-second", 3));
    REQUIRE(both.run_ids.size() == 2);
    CHECK(s.store_report("both.jsonl", "kr-seoul-kt", both) == store::StoreOutcome::stored);
    // Either run alone under another key, or in another order, is already there.
    CHECK(s.store_report("second.jsonl", "kr-seoul-kt", read_or_fail(report_body("run-second", 3))) ==
          store::StoreOutcome::already_stored);
    CHECK(s.store_report("first.jsonl", "kr-seoul-kt", read_or_fail(report_body("run-first", 2))) ==
          store::StoreOutcome::already_stored);
    CHECK(s.store_report("other-order.jsonl", "kr-seoul-kt",
                          read_or_fail(report_body("run-new", 1) + report_body("run-second", 1))) ==
          store::StoreOutcome::already_stored);
    CHECK(s.counts().reports == 1);
    CHECK(s.counts().records == 5);
    // In one batch: the second report shares its later run_id with the first.
    auto a = read_or_fail(report_body("run-x", 1) + report_body("run-y", 1));
    auto b = read_or_fail(report_body("run-y", 2));
    auto outcomes = s.store_reports({{"a.jsonl", "kr-seoul-kt", &a}, {"b.jsonl", "kr-seoul-kt", &b}});
    CHECK(outcomes == std::vector<store::StoreOutcome>{store::StoreOutcome::stored, store::StoreOutcome::already_stored});
    CHECK(s.counts().records == 7);
}

}  // namespace

TEST_SUITE("fleet") {

TEST_CASE("SQLite store: stored once, by key and by run_id, in WAL mode") {
    TempDir dir;
    fs::path file = dir.path / "store.db";
    {
        auto s = store::open_store("sqlite:" + file.string());
        check_store_contract(*s);
        check_group_commit(*s);
    }
    // Reopened: everything is still there, and the schema is not created twice.
    auto again = store::open_store("sqlite:" + file.string());
    CHECK(again->counts().reports == 4 + 2 + 5);           // check_store_contract's, then check_group_commit's
    CHECK(again->counts().records == 8 + 4 + (2 + 3 + 4 + 5 + 6));
    CHECK(fs::exists(dir.path / "store.db-wal"));
    std::string rows = sqlite_dump(file);
    CHECK(rows.find("label-of-a-token") != std::string::npos);  // the sending probe's label is stored with its report
}

TEST_CASE("SQLite store: a report carrying several run_ids is stored once, matched on every one of them") {
    TempDir dir;
    auto s = store::open_store("sqlite:" + (dir.path / "store.db").string());
    check_several_run_ids(*s);
}

TEST_CASE("ClickHouse store: a report carrying several run_ids is stored once, matched on every one of them") {
    auto cluster = running_cluster();
    if (!cluster) return;
    auto s = store::open_store(cluster->store_url(fresh_database()));
    check_several_run_ids(*s);
}

TEST_CASE("SQLite store: a directory that cannot hold the file is a StoreError, not a crash") {
    TempDir dir;
    CHECK_THROWS_AS(store::open_store("sqlite:" + (dir.path / "no" / "such" / "dir.db").string()), store::StoreError);
}

TEST_CASE("ClickHouse store on the two-shard cluster: stored once, each report whole on one shard") {
    auto cluster = running_cluster();
    if (!cluster) return;
    std::string db = fresh_database();
    auto s = store::open_store(cluster->store_url(db));
    check_store_contract(*s);
    check_group_commit(*s);

    // More reports, so both shards get some; every report sits whole on one shard.
    for (int i = 0; i < 12; ++i) {
        auto r = read_or_fail(report_body("spread-" + std::to_string(i), 5));
        CHECK(s->store_report("spread-" + std::to_string(i) + ".jsonl", "kr-seoul-kt", r) == store::StoreOutcome::stored);
    }
    std::string per_shard[2];
    for (int shard = 0; shard < 2; ++shard)
        per_shard[shard] = clickhouse_query(cluster->http_ports[shard],
                                            "SELECT report_key, count() FROM " + db +
                                                ".records_local WHERE report_key LIKE 'spread-%' GROUP BY report_key");
    CHECK_MESSAGE(!per_shard[0].empty(), "no report on shard 1");
    CHECK_MESSAGE(!per_shard[1].empty(), "no report on shard 2");
    for (int i = 0; i < 12; ++i) {
        std::string row = "spread-" + std::to_string(i) + ".jsonl\t5\n";
        bool on_first = per_shard[0].find(row) != std::string::npos;
        bool on_second = per_shard[1].find(row) != std::string::npos;
        CHECK_MESSAGE(on_first != on_second, "report " << i << " is not whole on exactly one shard");
    }
    CHECK(s->counts().reports == 4 + 2 + 5 + 12);

    // A second store on the same database (a restarted collector) sees what is stored.
    auto reopened = store::open_store(cluster->store_url(db));
    auto a = read_or_fail(report_body("run-a", 4));
    CHECK(reopened->store_report("another-key.jsonl", "kr-seoul-kt", a) == store::StoreOutcome::already_stored);
}

// The look-up table (clickhouse_store.hpp) after a crash between its intent
// and commit rows, and for a store made before it existed.
TEST_CASE("ClickHouse store: the look-up table after a crash at each step, and filled for an older store") {
    auto cluster = running_cluster();
    if (!cluster) return;
    std::string db = fresh_database();
    auto s = store::open_store(cluster->store_url(db));
    auto truncate_keys = [&] {
        for (int port : cluster->http_ports) clickhouse_query(port, "TRUNCATE TABLE " + db + ".report_keys_local");
    };
    auto intent_for = [&](const std::string& key) {
        clickhouse_query(cluster->http_ports[1], "INSERT INTO " + db + ".report_keys_local (lookup, state) VALUES ('k:" +
                                                     key + "', 0)");
    };

    // Crashed after the intent, before the records: stored now, once.
    intent_for("crash-before.jsonl");
    auto before = read_or_fail(report_body("run-crash-before", 4));
    CHECK(s->store_report("crash-before.jsonl", "kr-seoul-kt", before) == store::StoreOutcome::stored);
    CHECK(s->counts().records == 4);
    CHECK(s->store_report("crash-before.jsonl", "kr-seoul-kt", before) == store::StoreOutcome::already_stored);

    // Crashed after the records, before the commit: already stored, nothing doubled.
    auto after = read_or_fail(report_body("run-crash-after", 3));
    CHECK(s->store_report("crash-after.jsonl", "kr-seoul-kt", after) == store::StoreOutcome::stored);
    truncate_keys();
    intent_for("crash-after.jsonl");
    CHECK(s->store_report("crash-after.jsonl", "kr-seoul-kt", after) == store::StoreOutcome::already_stored);
    CHECK(s->counts().records == 4 + 3);

    // A store whose look-up table is empty (made before it existed) gets it filled when opened.
    truncate_keys();
    auto reopened = store::open_store(cluster->store_url(db));
    CHECK(reopened->store_report("crash-before.jsonl", "kr-seoul-kt", before) == store::StoreOutcome::already_stored);
    CHECK(reopened->store_report("other-name.jsonl", "kr-seoul-kt", after) == store::StoreOutcome::already_stored);
    CHECK(reopened->counts().records == 4 + 3);
    std::string committed;
    for (int port : cluster->http_ports)
        committed += clickhouse_query(port, "SELECT lookup FROM " + db + ".report_keys_local WHERE state = 1");
    CHECK(committed.find("k:crash-after.jsonl") != std::string::npos);
    CHECK(committed.find("r:run-crash-before") != std::string::npos);
}

TEST_CASE("collector on SQLite killed with SIGKILL mid-ingest: every acknowledged report once, none half-stored") {
    TempDir dir;
    std::string url = "sqlite:" + (dir.path / "store.db").string();
    check_kill_during_ingest(url, std::nullopt, "");
}

TEST_CASE("collector on the ClickHouse cluster killed with SIGKILL mid-ingest: every acknowledged report once") {
    auto cluster = running_cluster();
    if (!cluster) return;
    std::string db = fresh_database();
    check_kill_during_ingest(cluster->store_url(db), cluster, db);
}

TEST_CASE("ClickHouse store: a server that does not answer is a StoreError") {
    // A port nothing listens on: bind one, close it.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    int port = ntohs(addr.sin_port);
    ::close(fd);
    CHECK_THROWS_AS(store::open_store("clickhouse://127.0.0.1:" + std::to_string(port) + "/x"), store::StoreError);
}

TEST_CASE("collector: every status code over HTTP, nothing of a bad report stored, no client address kept") {
    TempDir dir;
    fs::path tokens = dir.path / "tokens";
    write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\ncn-beijing-ct " + kOtherToken + "\n");
    fs::path file = dir.path / "store.db";
    auto s = store::open_store("sqlite:" + file.string());
    CapturedStderr log(dir.path / "collector.log");
    {
        RunningCollector running(settings_for(tokens), *s);
        int port = running.port();

        CHECK(request(port, "/v1/health", std::nullopt, "", std::nullopt).status == 200);

        std::string good = report_body("run-1", 3);
        CHECK(upload(port, std::nullopt, "r1.jsonl", good).status == 401);
        CHECK(upload(port, std::string("wrong-token-wrong-token"), "r1.jsonl", good).status == 401);
        CHECK(s->counts().records == 0);

        auto stored = upload(port, std::string(kProbeToken), "r1.jsonl", good);
        CHECK(stored.status == 201);
        CHECK(stored.body.find("\"stored\"") != std::string::npos);
        CHECK(s->counts().records == 3);
        auto again = upload(port, std::string(kProbeToken), "r1.jsonl", good);
        CHECK(again.status == 200);
        CHECK(again.body.find("already stored") != std::string::npos);
        CHECK(upload(port, std::string(kProbeToken), "r1-resent-under-another-name.jsonl", good).status == 200);
        CHECK(s->counts().records == 3);

        // One bad line: 400 naming it, nothing of the report stored.
        std::string bad = record_line("run-2", 0) + "\n" + record_line("run-2", 1) + "\n{\"id\":\"x\"}\n";
        auto refused = upload(port, std::string(kProbeToken), "r2.jsonl", bad);
        CHECK(refused.status == 400);
        CHECK(refused.body.find("line 3: no verdict.status") != std::string::npos);
        CHECK(upload(port, std::string(kProbeToken), "r2.jsonl", "").status == 400);
        CHECK(upload(port, std::string(kProbeToken), "", report_body("run-2")).status == 400);
        CHECK(s->counts().records == 3);

        // Too large: 413, before the body is read.
        std::string huge = report_body("run-3", 2000);
        REQUIRE(huge.size() > (256u << 10));
        CHECK(upload(port, std::string(kProbeToken), "r3.jsonl", huge).status == 413);

        // A report whose records claim another probe's label is stored under its token's label.
        CHECK(upload(port, std::string(kOtherToken), "r4.jsonl", report_body("run-4", 1)).status == 201);

        // Revoked: its line removed, tokens reloaded.
        write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\n");
        running.collector().reload_tokens();
        CHECK(upload(port, std::string(kOtherToken), "r5.jsonl", report_body("run-5", 1)).status == 401);
        CHECK(upload(port, std::string(kProbeToken), "r5.jsonl", report_body("run-5", 1)).status == 201);
        // A bad tokens file is refused and the tokens in use are kept.
        write_tokens(tokens, "broken\n");
        CHECK_THROWS_AS(running.collector().reload_tokens(), InputError);
        CHECK(upload(port, std::string(kProbeToken), "r6.jsonl", report_body("run-6", 1)).status == 201);
    }
    std::string logged = log.text();
    CHECK(logged.find("POST /v1/reports 201 probe=kr-seoul-kt records=3") != std::string::npos);
    CHECK(logged.find("POST /v1/reports 401 probe=-") != std::string::npos);
    CHECK(logged.find(kProbeAddress) == std::string::npos);
    CHECK(logged.find(kProbeToken) == std::string::npos);

    std::string rows = sqlite_dump(file);
    CHECK(rows.find("cn-beijing-ct") != std::string::npos);  // the label of r4's token
    CHECK(rows.find(kProbeAddress) == std::string::npos);
    CHECK(s->counts().reports == 4);
}

// A slowloris client: connects and sends `bytes` one at a time, one every
// `gap`, until the server closes the connection or all are sent. How long the
// server took to close it; nullopt when it never did.
std::optional<std::chrono::milliseconds> trickle(int port, const std::string& bytes, std::chrono::milliseconds gap) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return std::nullopt;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto start = std::chrono::steady_clock::now();
    bool closed = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        for (size_t i = 0; i < bytes.size() && !closed; ++i) {
            closed = ::send(fd, &bytes[i], 1, MSG_NOSIGNAL) != 1;
            std::this_thread::sleep_for(gap);
            char sink[256];
            if (!closed) closed = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) == 0;
        }
    }
    ::close(fd);
    if (!closed) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

const std::string kSlowRequestLine = "POST /v1/reports HTTP/1.1\r\nHost: x\r\n";

TEST_CASE("collector: hostile input gets clear status codes while an honest probe keeps being served") {
    TempDir dir;
    fs::path tokens = dir.path / "tokens";
    write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\n");
    auto s = store::open_store("sqlite:" + (dir.path / "store.db").string());
    auto settings = settings_for(tokens);
    settings.threads = 2;            // fewer threads than slowloris connections
    settings.request_timeout_s = 2;  // each is cut off at its request deadline
    settings.log_requests = false;
    RunningCollector running(settings, *s);
    int port = running.port();
    std::string token = kProbeToken;

    // NUL bytes, a 200,000-deep JSON line, a line that is no JSON: 400, nothing stored.
    std::string with_nul = record_line("run-nul", 0) + "\n";
    with_nul.insert(with_nul.find("line.me"), std::string(1, '\0'));
    CHECK(upload(port, token, "nul.jsonl", with_nul).status == 400);
    CHECK(upload(port, token, "deep.jsonl", std::string(200000, '[') + "\n").status == 400);
    CHECK(upload(port, token, "deep-object.jsonl", [] {
              std::string deep;
              for (int i = 0; i < 30000; ++i) deep += "{\"a\":";
              return deep + "\n";
          }()).status == 400);
    CHECK(upload(port, token, "junk.jsonl", std::string("\xff\xfe not json\n")).status == 400);
    CHECK(s->counts().records == 0);

    // Slowloris: more trickling connections than threads; the honest probe is still stored.
    std::vector<std::future<bool>> slow;
    for (int i = 0; i < 8; ++i)
        slow.push_back(std::async(std::launch::async, [port] {
            std::string one_long_header = kSlowRequestLine + "X-Slow: " + std::string(40, 'a');
            return trickle(port, one_long_header, std::chrono::milliseconds(250)).has_value();
        }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(upload(port, token, "honest.jsonl", report_body("run-honest", 5)).status == 201);
    int closed_by_server = 0;
    for (auto& f : slow) closed_by_server += f.get() ? 1 : 0;
    CHECK_MESSAGE(closed_by_server == 8, "slowloris connections the server did not cut off: " << 8 - closed_by_server);
    CHECK(s->counts().records == 5);
}

TEST_CASE("collector: a slowloris sending whole header lines byte by byte, never the blank line, is cut at the request deadline") {
    TempDir dir;
    fs::path tokens = dir.path / "tokens";
    write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\n");
    auto s = store::open_store("sqlite:" + (dir.path / "store.db").string());
    auto settings = settings_for(tokens);
    settings.request_timeout_s = 1;  // the deadline: accept -> request fully read
    settings.io_timeout_s = 10;      // each byte comes long before this: only the deadline can cut it
    settings.log_requests = false;
    RunningCollector running(settings, *s);
    int port = running.port();

    std::string headers = kSlowRequestLine;
    while (headers.size() < 400) headers += "X-" + std::to_string(headers.size()) + ": b\r\n";  // 8 s at 20 ms a byte
    auto cut = std::async(std::launch::async, [port, &headers] {
        return trickle(port, headers, std::chrono::milliseconds(20));
    });
    // Meanwhile an honest probe is served.
    CHECK(upload(port, std::string(kProbeToken), "honest.jsonl", report_body("run-honest", 2)).status == 201);
    auto after = cut.get();
    REQUIRE_MESSAGE(after.has_value(), "the server never cut the connection");
    CHECK(after->count() >= 900);
    CHECK_MESSAGE(after->count() < 3000, "cut after " << after->count() << " ms, not at the 1 s deadline");
    CHECK(s->counts().records == 2);
}

TEST_CASE("collector: 429 per probe and for unauthenticated floods, others keep being served") {
    TempDir dir;
    fs::path tokens = dir.path / "tokens";
    write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\ncn-beijing-ct " + kOtherToken + "\n");
    auto s = store::open_store("sqlite:" + (dir.path / "store.db").string());
    auto settings = settings_for(tokens);
    settings.probe_rate_per_minute = 0.001;  // no refill within the test
    settings.probe_rate_burst = 2;
    settings.unauthenticated_rate_per_minute = 0.001;
    settings.unauthenticated_rate_burst = 3;
    settings.log_requests = false;
    RunningCollector running(settings, *s);
    int port = running.port();

    CHECK(upload(port, std::string(kProbeToken), "a.jsonl", report_body("a")).status == 201);
    CHECK(upload(port, std::string(kProbeToken), "b.jsonl", report_body("b")).status == 201);
    auto limited = upload(port, std::string(kProbeToken), "c.jsonl", report_body("c"));
    CHECK(limited.status == 429);
    CHECK(s->counts().reports == 2);

    for (int i = 0; i < 3; ++i) CHECK(upload(port, std::nullopt, "x.jsonl", "x").status == 401);
    CHECK(upload(port, std::nullopt, "x.jsonl", "x").status == 429);
    CHECK(upload(port, std::string("not-a-token-of-anyone"), "x.jsonl", "x").status == 429);
    // The other probe is not held back by either.
    CHECK(upload(port, std::string(kOtherToken), "d.jsonl", report_body("d")).status == 201);
    CHECK(request(port, "/v1/health", std::nullopt, "", std::nullopt).status == 200);
}

TEST_CASE("collector: the store failing is a 503 and run --upload keeps the report pending") {
    TempDir dir;
    fs::path tokens = dir.path / "tokens";
    write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\n");
    FailingStore failing;
    auto settings = settings_for(tokens);
    settings.log_requests = false;
    CapturedStderr log(dir.path / "collector.log");
    RunningCollector running(settings, failing);
    auto answer = upload(running.port(), std::string(kProbeToken), "a.jsonl", report_body("a"));
    CHECK(answer.status == 503);

    fs::path report = dir.path / "20260301T100000Z-kr-seoul-kt-a.jsonl";
    std::ofstream(report) << report_body("a");
    fs::path queue = dir.path / "upload";
    enqueue_report(queue.string(), report.string());
    UploadSettings upload_settings;
    upload_settings.url = "http://127.0.0.1:" + std::to_string(running.port()) + "/v1/reports";
    upload_settings.token = kProbeToken;
    upload_settings.attempts = 1;
    auto outcomes = drain_upload_queue(queue.string(), upload_settings);
    REQUIRE(outcomes.size() == 1);
    CHECK_FALSE(outcomes[0].delivered);
    CHECK(outcomes[0].last_status == 503);
    CHECK(pending_reports(queue.string()).size() == 1);
    CHECK(log.text().find("the store failed: store: database or disk is full") != std::string::npos);
}

TEST_CASE("run --upload's client delivers to the collector on ClickHouse, once") {
    auto cluster = running_cluster();
    if (!cluster) return;
    TempDir dir;
    fs::path tokens = dir.path / "tokens";
    write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\n");
    std::string db = fresh_database();
    auto s = store::open_store(cluster->store_url(db));
    auto settings = settings_for(tokens);
    CapturedStderr log(dir.path / "collector.log");
    {
        RunningCollector running(settings, *s);
        fs::path queue = dir.path / "upload";
        UploadSettings upload_settings;
        upload_settings.url = "http://127.0.0.1:" + std::to_string(running.port()) + "/v1/reports";
        upload_settings.token = kProbeToken;
        for (const char* name : {"20260301T100000Z-kr-seoul-kt-r1.jsonl", "20260301T110000Z-kr-seoul-kt-r2.jsonl"}) {
            fs::path report = dir.path / name;
            std::ofstream(report) << report_body(name, 10);
            enqueue_report(queue.string(), report.string());
        }
        auto outcomes = drain_upload_queue(queue.string(), upload_settings);
        REQUIRE(outcomes.size() == 2);
        CHECK(outcomes[0].delivered);
        CHECK(outcomes[0].last_status == 201);
        CHECK(outcomes[1].delivered);
        CHECK(pending_reports(queue.string()).empty());

        // The first report again (a run that died before moving it to sent/): 200, stored once.
        fs::path again = dir.path / "20260301T100000Z-kr-seoul-kt-r1-again.jsonl";
        std::ofstream(again) << report_body("20260301T100000Z-kr-seoul-kt-r1.jsonl", 10);
        enqueue_report(queue.string(), again.string());
        outcomes = drain_upload_queue(queue.string(), upload_settings);
        REQUIRE(outcomes.size() == 1);
        CHECK(outcomes[0].delivered);
        CHECK(outcomes[0].last_status == 200);

        // A bad line through the collector: nothing of it in the cluster.
        std::string bad = report_body("bad-run", 4) + "{\"broken\n";
        CHECK(upload(running.port(), std::string(kProbeToken), "bad.jsonl", bad).status == 400);
        // Sent from the probe address, to look for it below.
        CHECK(upload(running.port(), std::string(kProbeToken), "c.jsonl", report_body("c")).status == 201);
    }
    CHECK(s->counts().reports == 3);
    CHECK(s->counts().records == 23);
    std::string all_rows = clickhouse_query(cluster->http_ports[0], "SELECT * FROM " + db + ".records FORMAT TSV");
    CHECK(all_rows.find("bad-run") == std::string::npos);
    CHECK(all_rows.find(kProbeAddress) == std::string::npos);
    CHECK(all_rows.find("127.0.0.1") == std::string::npos);
    CHECK(log.text().find(kProbeAddress) == std::string::npos);
}

TEST_CASE("collector on SQLite with the disk full: 503, nothing half-stored, stored whole once there is room") {
    TempDir dir;
    testing::SmallTmpfs tmpfs(dir.path, 8192);
    if (!testing::tmpfs_or_skip(tmpfs)) return;
    fs::path tokens = dir.path / "tokens";
    write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\n");
    auto s = store::open_store("sqlite:" + (tmpfs.dir() / "store.db").string());
    auto settings = settings_for(tokens);
    settings.max_body_bytes = 4 << 20;
    settings.log_requests = false;
    CapturedStderr log(dir.path / "collector.log");
    RunningCollector running(settings, *s);
    CHECK(upload(running.port(), std::string(kProbeToken), "small.jsonl", report_body("small", 2)).status == 201);

    tmpfs.fill_leaving(16);
    std::string big = report_body("big", 2000);  // ~1 MB: cannot fit
    CHECK(upload(running.port(), std::string(kProbeToken), "big.jsonl", big).status == 503);
    CHECK(s->counts().reports == 1);
    CHECK(s->counts().records == 2);
    CHECK(log.text().find("the store failed") != std::string::npos);

    fs::remove(tmpfs.dir() / "filler");
    CHECK(upload(running.port(), std::string(kProbeToken), "big.jsonl", big).status == 201);
    CHECK(s->counts().reports == 2);
    CHECK(s->counts().records == 2002);
}

TEST_CASE("ClickHouse store with a shard down: StoreError, nothing half-stored on the shard still up") {
    if (!running_cluster()) return;
    OwnCluster own;
    std::string db = fresh_database();
    auto s = store::open_store(own.cluster.store_url(db));
    CHECK(s->store_report("before.jsonl", "kr-seoul-kt", read_or_fail(report_body("before", 3))) ==
          store::StoreOutcome::stored);

    own.kill_shard(2);
    for (int i = 0; i < 12; ++i) {
        auto r = read_or_fail(report_body("while-down-" + std::to_string(i), 5));
        CHECK_THROWS_AS(s->store_report("while-down-" + std::to_string(i) + ".jsonl", "kr-seoul-kt", r),
                        store::StoreError);
    }
    std::string on_first = clickhouse_query(own.cluster.http_ports[0], "SELECT count() FROM " + db +
                                                                           ".records_local WHERE report_key LIKE 'while-down-%'");
    CHECK(on_first == "0\n");
}

TEST_CASE("collector on a ClickHouse cluster killed with kill -9 mid-ingest: 503 while down, recovers by itself") {
    if (!running_cluster()) return;
    OwnCluster own;
    TempDir dir;
    fs::path tokens = dir.path / "tokens";
    write_tokens(tokens, std::string("kr-seoul-kt ") + kProbeToken + "\n");
    std::string db = fresh_database();
    auto s = store::open_store(own.cluster.store_url(db));
    auto settings = settings_for(tokens);
    settings.max_body_bytes = 8 << 20;
    settings.probe_rate_per_minute = 1e9;
    settings.probe_rate_burst = 1e9;
    settings.log_requests = false;
    CapturedStderr log(dir.path / "collector.log");
    RunningCollector running(settings, *s);

    constexpr int kUploaders = 4, kRecords = 400;
    std::mutex mutex;
    std::set<std::string> acknowledged, attempted;
    std::atomic<bool> stop{false};
    std::vector<std::thread> uploaders;
    for (int u = 0; u < kUploaders; ++u)
        uploaders.emplace_back([&, u] {
            for (int i = 0; !stop; ++i) {
                std::string key = "chkill-" + std::to_string(u) + "-" + std::to_string(i);
                {
                    std::lock_guard lock(mutex);
                    attempted.insert(key);
                }
                long status = try_upload(running.port(), key, report_body(key, kRecords));
                std::lock_guard lock(mutex);
                if (status == 201 || status == 200) acknowledged.insert(key);
            }
        });
    for (;;) {  // kill once some reports are acknowledged, mid-insert for the others
        {
            std::lock_guard lock(mutex);
            if (acknowledged.size() >= 8) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    own.kill_shard(1);
    own.kill_shard(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // uploads keep coming while it is down
    stop = true;
    for (auto& t : uploaders) t.join();

    // Down: 503 with Retry-After, and the probe's queue keeps the report.
    std::string retry_after;
    CHECK(try_upload(running.port(), "while-down.jsonl", report_body("while-down", 5), &retry_after) == 503);
    CHECK(retry_after == "60");
    fs::path report = dir.path / "20260301T100000Z-kr-seoul-kt-queued.jsonl";
    std::ofstream(report) << report_body("queued", 7);
    fs::path queue = dir.path / "upload";
    enqueue_report(queue.string(), report.string());
    UploadSettings upload_settings;
    upload_settings.url = "http://127.0.0.1:" + std::to_string(running.port()) + "/v1/reports";
    upload_settings.token = kProbeToken;
    upload_settings.attempts = 1;
    auto outcomes = drain_upload_queue(queue.string(), upload_settings);
    REQUIRE(outcomes.size() == 1);
    CHECK_FALSE(outcomes[0].delivered);
    CHECK(outcomes[0].last_status == 503);
    CHECK(pending_reports(queue.string()).size() == 1);

    // Back: every acknowledged report is there whole; the same collector stores again.
    own.resume();
    auto after_kill = records_per_report(own.cluster.store_url(db), own.cluster, db);
    for (const auto& key : acknowledged) CHECK_MESSAGE(after_kill[key] == kRecords, "acknowledged " << key);
    for (const auto& stored : after_kill)
        CHECK_MESSAGE((stored.second == 0 || stored.second == kRecords), stored.first << " half-stored: " << stored.second);
    outcomes = drain_upload_queue(queue.string(), upload_settings);
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0].delivered);
    CHECK(outcomes[0].last_status == 201);
    CHECK(pending_reports(queue.string()).empty());
    for (const auto& key : attempted) {
        long status = try_upload(running.port(), key, report_body(key, kRecords));
        CHECK_MESSAGE((status == 200 || status == 201), key << ": " << status);
        if (acknowledged.count(key)) CHECK_MESSAGE(status == 200, "acknowledged " << key << " stored again");
    }
    auto resent = records_per_report(own.cluster.store_url(db), own.cluster, db);
    CHECK(resent.size() == attempted.size() + 1);
    for (const auto& key : attempted) CHECK_MESSAGE(resent[key] == kRecords, key);
    CHECK(log.text().find("the store failed: store 127.0.0.1:") != std::string::npos);
}

}  // TEST_SUITE
