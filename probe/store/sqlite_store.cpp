// The SQLite engine of the store (see sqlite_store.hpp), on libsqlite3.
#include "probe/store/sqlite_store.hpp"

#include "probe/store/store_aggregate.hpp"

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace meoktong::store {
namespace {

constexpr int kBusyTimeoutMs = 10000;  // another process holding the write lock
// The writer never checkpoints: a thread of the store does, on its own
// connection, once the WAL holds kCheckpointPages (64 MiB of 16 KiB pages), so
// copying the WAL into the file and its fsync overlap the next batches
// instead of stalling them. PASSIVE checkpoints never block the writer; at
// kWalPagesLimit the checkpoint waits for the writer (RESTART) so that the
// WAL stays bounded under sustained ingest.
constexpr int kCheckpointPages = 4096;
constexpr int kWalPagesLimit = 4 * kCheckpointPages;

constexpr const char* kSchema = R"sql(
PRAGMA page_size = 16384;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA cache_size = -16384;
CREATE TABLE IF NOT EXISTS reports (
    idempotency_key TEXT PRIMARY KEY,
    run_id          TEXT NOT NULL,
    probe_label     TEXT NOT NULL,
    stored_at_ms    INTEGER NOT NULL,
    records         INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS reports_by_run_id ON reports(run_id) WHERE run_id <> '';
CREATE TABLE IF NOT EXISTS report_run_ids (
    run_id     TEXT PRIMARY KEY,
    report_key TEXT NOT NULL REFERENCES reports(idempotency_key)
);
CREATE TABLE IF NOT EXISTS records (
    report_key    TEXT NOT NULL REFERENCES reports(idempotency_key),
    line_no       INTEGER NOT NULL,
    id            TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    started_ms    INTEGER NOT NULL,
    vantage_label TEXT NOT NULL,
    cc            TEXT NOT NULL,
    asn           TEXT NOT NULL,
    service       TEXT NOT NULL,
    host          TEXT NOT NULL,
    protocol      TEXT NOT NULL,
    port          INTEGER NOT NULL,
    role          TEXT NOT NULL,
    canary        INTEGER NOT NULL,
    status        TEXT NOT NULL,
    verdict       INTEGER NOT NULL,
    method        TEXT NOT NULL,
    confidence    REAL NOT NULL,
    control_view  INTEGER NOT NULL,
    evidence      TEXT NOT NULL,
    line          TEXT NOT NULL,
    PRIMARY KEY (report_key, line_no)
);
CREATE INDEX IF NOT EXISTS records_by_time ON records(started_ms);
)sql";

constexpr const char* kFindReport =
    "SELECT 1 FROM reports WHERE idempotency_key = ?1 OR (?2 <> '' AND run_id = ?2) LIMIT 1";
// Every run_id of a report is looked up (a store made before report_run_ids
// existed has the first run_id of each report in reports only).
constexpr const char* kFindRunId =
    "SELECT 1 FROM report_run_ids WHERE run_id = ?1 UNION ALL SELECT 1 FROM reports WHERE run_id = ?1 LIMIT 1";
constexpr const char* kInsertRunId = "INSERT INTO report_run_ids (run_id, report_key) VALUES (?1, ?2)";
constexpr const char* kInsertReport =
    "INSERT INTO reports (idempotency_key, run_id, probe_label, stored_at_ms, records) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kInsertRecord =
    "INSERT INTO records (report_key, line_no, id, run_id, started_ms, vantage_label, cc, asn, service, host, "
    "protocol, port, role, canary, status, verdict, method, confidence, control_view, evidence, line) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)";
constexpr const char* kCounts = "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM records)";

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

class SqliteStore : public Store {
public:
    explicit SqliteStore(const std::string& path) : path_(path) {
        sqlite3* db = nullptr;
        int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
        db_.reset(db);
        if (rc != SQLITE_OK) fail("cannot open");
        sqlite3_busy_timeout(db, kBusyTimeoutMs);
        if (sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) fail("cannot set up its tables");
        exec("PRAGMA wal_autocheckpoint = 0");
        checkpoint_db_.reset(open_connection());
        sqlite3_wal_hook(db, on_wal_commit, this);
        checkpointer_ = std::thread([this] { checkpoint_in_background(); });
        find_ = prepare(kFindReport);
        find_run_id_ = prepare(kFindRunId);
        insert_run_id_ = prepare(kInsertRunId);
        insert_report_ = prepare(kInsertReport);
        insert_record_ = prepare(kInsertRecord);
        counts_ = prepare(kCounts);
    }

    ~SqliteStore() override {
        {
            std::lock_guard lock(checkpoint_mutex_);
            stopping_ = true;
        }
        checkpoint_wanted_.notify_one();
        checkpointer_.join();
    }

    std::vector<StoreOutcome> store_reports(const std::vector<ReportToStore>& batch) override {
        std::lock_guard lock(mutex_);
        exec("BEGIN IMMEDIATE");
        try {
            std::vector<StoreOutcome> outcomes;
            outcomes.reserve(batch.size());
            bool any_stored = false;
            for (const auto& r : batch) {
                outcomes.push_back(insert(r.idempotency_key, r.probe_label, *r.report));
                any_stored = any_stored || outcomes.back() == StoreOutcome::stored;
            }
            exec(any_stored ? "COMMIT" : "ROLLBACK");
            return outcomes;
        } catch (const StoreError&) {
            sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);  // a failed COMMIT may have rolled back already
            throw;
        }
    }

    StoreCounts counts() override {
        std::lock_guard lock(mutex_);
        Reset reset{counts_.get()};
        if (sqlite3_step(counts_.get()) != SQLITE_ROW) fail("cannot count");
        return {uint64_t(sqlite3_column_int64(counts_.get(), 0)), uint64_t(sqlite3_column_int64(counts_.get(), 1))};
    }

    void aggregate(const StoreFilter& filter, analyze::Aggregator& into) override {
        AggregateQueries q = aggregate_queries(SqlDialect::sqlite, "records", filter, into.window_ms());
        CellFolder folder;
        {
            std::lock_guard lock(mutex_);  // one connection: its statements run one at a time
            each_row(q.cells, [&](const AggregateRow& row) { folder.add_cells_row(row, false); });
            for (const auto& statement : q.firsts) each_row(statement, [](const AggregateRow&) {});
            each_row(q.read_firsts, [&](const AggregateRow& row) { folder.add_examples_row(row); });
            each_row(q.failing, [&](const AggregateRow& row) { folder.add_failing_row(row); });
            each_row(q.drop_firsts, [](const AggregateRow&) {});
        }
        folder.fold_into(into);
    }

private:
    // A row of the statement being stepped.
    struct Row : AggregateRow {
        sqlite3_stmt* s;
        explicit Row(sqlite3_stmt* statement) : s(statement) {}
        std::string text(int column) const override {
            const unsigned char* t = sqlite3_column_text(s, column);
            return t ? std::string(reinterpret_cast<const char*>(t), size_t(sqlite3_column_bytes(s, column))) : std::string();
        }
        int64_t integer(int column) const override { return sqlite3_column_int64(s, column); }
        double real(int column) const override { return sqlite3_column_double(s, column); }
    };

    template <typename OnRow>
    void each_row(const std::string& sql, OnRow on_row) {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db_.get(), sql.c_str(), int(sql.size()), &raw, nullptr) != SQLITE_OK)
            fail("cannot prepare the aggregation");
        Statement statement(raw, sqlite3_finalize);
        Row row(raw);
        int rc;
        while ((rc = sqlite3_step(raw)) == SQLITE_ROW) on_row(row);
        if (rc != SQLITE_DONE) fail("cannot aggregate");
    }

    struct Closer {
        void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
    };
    // Resets a statement (and its bindings) however the scope is left.
    struct Reset {
        sqlite3_stmt* s;
        ~Reset() {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
        }
    };

    // A second connection to the file (the checkpointer's), or nullptr.
    sqlite3* open_connection() {
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
            sqlite3_close_v2(db);
            fail("cannot open a second connection");
        }
        sqlite3_busy_timeout(db, kBusyTimeoutMs);
        sqlite3_exec(db, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr);
        return db;
    }

    // After each commit of the writer: how many pages the WAL holds.
    static int on_wal_commit(void* self, sqlite3*, const char*, int wal_pages) {
        auto* store = static_cast<SqliteStore*>(self);
        std::lock_guard lock(store->checkpoint_mutex_);
        store->wal_pages_ = wal_pages;
        if (wal_pages >= kCheckpointPages) store->checkpoint_wanted_.notify_one();
        return SQLITE_OK;
    }

    // The checkpointer thread. A failed checkpoint loses nothing (the WAL
    // still holds every commit); the next commit asks again.
    void checkpoint_in_background() {
        std::unique_lock lock(checkpoint_mutex_);
        for (;;) {
            checkpoint_wanted_.wait(lock, [this] { return stopping_ || wal_pages_ >= kCheckpointPages; });
            if (stopping_) return;
            int mode = wal_pages_ >= kWalPagesLimit ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
            wal_pages_ = 0;  // until the writer's next commit says how big the WAL is
            lock.unlock();
            sqlite3_wal_checkpoint_v2(checkpoint_db_.get(), nullptr, mode, nullptr, nullptr);
            lock.lock();
        }
    }

    [[noreturn]] void fail(const std::string& what) const {
        std::string reason = db_ ? sqlite3_errmsg(db_.get()) : "out of memory";
        throw StoreError("store " + path_ + ": " + what + ": " + reason);
    }

    Statement prepare(const char* sql) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
            fail("cannot prepare a statement");
        return Statement(s, sqlite3_finalize);
    }

    void exec(const char* sql) {
        if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(std::string("cannot ") + sql);
    }

    static void bind(sqlite3_stmt* s, int i, std::string_view text) {
        sqlite3_bind_text64(s, i, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
    }

    void step_done(sqlite3_stmt* s) {
        if (sqlite3_step(s) != SQLITE_DONE) fail("cannot store the report");
    }

    StoreOutcome insert(std::string_view key, std::string_view probe_label, const Report& report) {
        {
            Reset reset{find_.get()};
            bind(find_.get(), 1, key);
            bind(find_.get(), 2, report.run_id);
            int rc = sqlite3_step(find_.get());
            if (rc == SQLITE_ROW) return StoreOutcome::already_stored;
            if (rc != SQLITE_DONE) fail("cannot look the report up");
        }
        for (const auto& run_id : report.run_ids) {
            Reset reset{find_run_id_.get()};
            bind(find_run_id_.get(), 1, run_id);
            int rc = sqlite3_step(find_run_id_.get());
            if (rc == SQLITE_ROW) return StoreOutcome::already_stored;
            if (rc != SQLITE_DONE) fail("cannot look the report up");
        }
        {
            auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
            sqlite3_stmt* s = insert_report_.get();
            Reset reset{s};
            bind(s, 1, key);
            bind(s, 2, report.run_id);
            bind(s, 3, probe_label);
            sqlite3_bind_int64(s, 4, now_ms);
            sqlite3_bind_int64(s, 5, int64_t(report.records.size()));
            step_done(s);
        }
        for (const auto& run_id : report.run_ids) {
            Reset reset{insert_run_id_.get()};
            bind(insert_run_id_.get(), 1, run_id);
            bind(insert_run_id_.get(), 2, key);
            step_done(insert_run_id_.get());
        }
        sqlite3_stmt* s = insert_record_.get();
        for (const auto& r : report.records) {
            Reset reset{s};
            const auto& f = r.fields;
            bind(s, 1, key);
            sqlite3_bind_int64(s, 2, r.line_no);
            bind(s, 3, f.id);
            bind(s, 4, f.run_id);
            sqlite3_bind_int64(s, 5, f.started_ms);
            bind(s, 6, f.vantage_label);
            bind(s, 7, f.cc);
            bind(s, 8, f.asn);
            bind(s, 9, f.service);
            bind(s, 10, f.host);
            bind(s, 11, f.protocol);
            sqlite3_bind_int64(s, 12, f.port);
            bind(s, 13, f.role);
            sqlite3_bind_int(s, 14, f.canary ? 1 : 0);
            bind(s, 15, f.status);
            sqlite3_bind_int(s, 16, int(f.verdict));
            bind(s, 17, f.method);
            sqlite3_bind_double(s, 18, f.confidence);
            sqlite3_bind_int(s, 19, int(f.control_view()));
            bind(s, 20, f.first_evidence);
            bind(s, 21, r.line);
            step_done(s);
        }
        return StoreOutcome::stored;
    }

    std::string path_;
    std::unique_ptr<sqlite3, Closer> db_;
    Statement find_{nullptr, sqlite3_finalize}, find_run_id_{nullptr, sqlite3_finalize},
        insert_run_id_{nullptr, sqlite3_finalize}, insert_report_{nullptr, sqlite3_finalize},
        insert_record_{nullptr, sqlite3_finalize}, counts_{nullptr, sqlite3_finalize};
    std::mutex mutex_;
    std::unique_ptr<sqlite3, Closer> checkpoint_db_;
    int wal_pages_ = 0;  // under checkpoint_mutex_
    std::mutex checkpoint_mutex_;
    std::condition_variable checkpoint_wanted_;
    bool stopping_ = false;
    std::thread checkpointer_;
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path) { return std::make_unique<SqliteStore>(path); }

}  // namespace meoktong::store
