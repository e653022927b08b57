// The ClickHouse engine of the store (see clickhouse_store.hpp): SQL, and
// RowBinary rows straight to each shard, over ClickHouse's HTTP interface with libcurl.
#include "probe/store/clickhouse_store.hpp"

#include "probe/store/store_aggregate.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace meoktong::store {
namespace {

constexpr long kConnectTimeoutMs = 5000;
constexpr long kRequestTimeoutMs = 120000;
constexpr size_t kErrorTextKept = 300;  // of ClickHouse's error answer, in StoreError

constexpr const char* kColumns =
    "report_key String, run_id String, probe_label String, stored_at DateTime, report_started_at DateTime, "
    "line_no UInt32, id String, started_at DateTime, started_ms Int64, vantage_label String, cc String, "
    "asn String, service String, host String, protocol String, port Int64, role String, canary UInt8, "
    "status String, verdict UInt8, method String, confidence Float64, control_view UInt8, evidence String, "
    "line String";
// kColumns' names, in the order append_rows writes them.
constexpr const char* kColumnNames =
    "report_key, run_id, probe_label, stored_at, report_started_at, line_no, id, started_at, started_ms, "
    "vantage_label, cc, asn, service, host, protocol, port, role, canary, status, verdict, method, confidence, "
    "control_view, evidence, line";

// The look-up table: one row per identity of a report ("k:" Idempotency-Key,
// "r:" run_id), first as intent, then as committed (clickhouse_store.hpp).
constexpr const char* kKeyColumns = "lookup String, state UInt8";
const std::string kKeyPrefix = "k:", kRunIdPrefix = "r:";
constexpr unsigned long kIntent = 0, kCommitted = 1;

// A string literal of ClickHouse SQL: quoted, with backslash and quote escaped.
std::string sql_string(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\\' || c == '\'') out += '\\';
        if (c == '\0') {
            out += "\\0";
            continue;
        }
        out += c;
    }
    return out + "'";
}

// Seconds since the epoch as ClickHouse's DateTime holds them (UInt32).
int64_t datetime_seconds(int64_t ms) { return std::clamp<int64_t>(ms / 1000, 0, int64_t(UINT32_MAX)); }

size_t keep_body(char* data, size_t size, size_t nmemb, void* out) {
    static_cast<std::string*>(out)->append(data, size * nmemb);
    return size * nmemb;
}

class ClickhouseStore : public Store {
public:
    explicit ClickhouseStore(StoreUrl url) : url_(std::move(url)) {
        records_ = url_.database + ".records";
        keys_ = url_.database + ".report_keys";
        for (const auto& host : url_.hosts) create_schema(host);
        fill_keys_from_records();
        parallel_parsing_setting_ =
            query(url_.hosts.front(), "SELECT count() FROM system.settings WHERE name = 'input_format_parallel_parsing'") !=
            "0\n";
    }

    // The look-up table first (O(log n)) for the whole batch, the records only
    // for a report whose earlier attempt stopped between its intent and its
    // commit row; then, on each shard in parallel, one intent insert, one
    // records insert and one commit insert for the batch's new reports.
    std::vector<StoreOutcome> store_reports(const std::vector<ReportToStore>& batch) override {
        std::lock_guard lock(mutex_);
        auto add = [](std::string& list, const std::vector<std::string>& lookups) {  // to an SQL list
            for (const auto& l : lookups) list += (list.empty() ? "" : ", ") + sql_string(l);
        };
        std::vector<std::vector<std::string>> lookups_of(batch.size());
        std::string all_lookups;
        for (size_t i = 0; i < batch.size(); ++i) {
            lookups_of[i].push_back(kKeyPrefix + std::string(batch[i].idempotency_key));
            for (const auto& run_id : batch[i].report->run_ids) lookups_of[i].push_back(kRunIdPrefix + run_id);
            add(all_lookups, lookups_of[i]);
        }
        std::map<std::string, unsigned long> state_of = lookup_states(all_lookups);

        std::vector<StoreOutcome> outcomes(batch.size(), StoreOutcome::already_stored);
        std::set<std::string> claimed;  // the lookups of this batch's reports that are stored now
        // Per shard (each report's rows and look-up rows go to the shard its key hashes to):
        std::vector<std::string> new_lookups(shard_count()), committed_lookups(shard_count()), rows(shard_count());
        bool any_new = false, any_committed = false;
        int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
        for (size_t i = 0; i < batch.size(); ++i) {
            const auto& lookups = lookups_of[i];
            bool committed = false, found = false, in_batch = false;
            for (const auto& l : lookups) {
                auto it = state_of.find(l);
                found = found || it != state_of.end();
                committed = committed || (it != state_of.end() && it->second == kCommitted);
                in_batch = in_batch || claimed.count(l) > 0;
            }
            if (committed || in_batch) continue;
            size_t shard = shard_of(batch[i].idempotency_key);
            if (found && records_stored(batch[i].idempotency_key, *batch[i].report)) {
                add(committed_lookups[shard], lookups);
                any_committed = true;
                continue;
            }
            outcomes[i] = StoreOutcome::stored;
            claimed.insert(lookups.begin(), lookups.end());
            add(new_lookups[shard], lookups);
            append_rows(batch[i], now_ms, rows[shard]);
            any_new = true;
        }
        if (any_new) {
            mark(new_lookups, kIntent);
            std::string params = "query=" + escape("INSERT INTO " + local_table("records") + " (" + kColumnNames +
                                                   ") FORMAT RowBinary");
            if (parallel_parsing_setting_) params += "&input_format_parallel_parsing=0";  // one block: all or nothing
            post_to_shards(params, rows);
            for (size_t shard = 0; shard < new_lookups.size(); ++shard)
                if (!new_lookups[shard].empty())
                    committed_lookups[shard] += (committed_lookups[shard].empty() ? "" : ", ") + new_lookups[shard];
        }
        if (any_new || any_committed) mark(committed_lookups, kCommitted);
        return outcomes;
    }

    StoreCounts counts() override {
        std::string answer = query(url_.hosts.front(), "SELECT uniqExact(report_key), count() FROM " + records_);
        StoreCounts c;
        if (std::sscanf(answer.c_str(), "%lu\t%lu", &c.reports, &c.records) != 2)
            throw StoreError("store " + where(url_.hosts.front()) + ": unexpected answer to a count");
        return c;
    }

    void aggregate(const StoreFilter& filter, analyze::Aggregator& into) override {
        AggregateQueries q = aggregate_queries(SqlDialect::clickhouse, records_, filter, into.window_ms());
        CellFolder folder;
        each_row(q.cells, nullptr, [&](const AggregateRow& row) { folder.add_cells_row(row, true); });
        std::string firsts;  // kFirstsColumns, TabSeparated
        folder.each_failing_first([&](const analyze::ReportLine& f, const analyze::Example& x) {
            for (const std::string* text : {&f.service, &f.protocol, &f.host}) append_tsv(firsts, *text, '\t');
            firsts += std::to_string(f.port) + (f.canary ? "\t1\t" : "\t0\t");
            for (const std::string* text : {&f.vantage_label, &f.cc, &f.asn}) append_tsv(firsts, *text, '\t');
            firsts += std::to_string(x.at_ms) + '\t';
            append_tsv(firsts, x.id, '\n');
        });
        each_row(q.failing, &firsts, [&](const AggregateRow& row) { folder.add_failing_row(row); });
        folder.fold_into(into);
    }

private:
    // An intent row exists for this report: did its records insert land? Its
    // key is looked for in the report's own partition (the month of its first
    // record); its run_ids, which another report may have carried, in all.
    bool records_stored(std::string_view key, const Report& report) {
        std::string started = std::to_string(datetime_seconds(report.records.front().fields.started_ms));
        std::string condition = "(report_started_at = toDateTime(" + started + ") AND report_key = " + sql_string(key) + ")";
        for (const auto& run_id : report.run_ids) condition += " OR run_id = " + sql_string(run_id);
        return query(url_.hosts.front(), "SELECT count() FROM " + records_ + " WHERE " + condition) != "0\n";
    }

    // With ?cluster= each listed host is a shard, written to directly (its
    // records_local); without, the one host's records.
    size_t shard_count() const { return url_.cluster.empty() ? 1 : url_.hosts.size(); }

    // The shard a report goes to, from its key (FNV-1a: stable across builds).
    size_t shard_of(std::string_view key) const {
        uint64_t h = 14695981039346656037ull;
        for (char c : key) h = (h ^ uint8_t(c)) * 1099511628211ull;
        return size_t(h % shard_count());
    }

    // The table a shard's rows go to: with ?cluster= its own NAME_local, else the one table.
    std::string local_table(const std::string& name) const {
        return url_.database + "." + name + (url_.cluster.empty() ? "" : "_local");
    }

    // POSTs body_of_shard[i] (when not empty) to shard i with `params`, the
    // shards in parallel; throws the first shard's StoreError once all answered.
    void post_to_shards(const std::string& params, const std::vector<std::string>& body_of_shard) {
        std::vector<std::exception_ptr> errors(body_of_shard.size());
        auto post_to = [&](size_t shard) {
            try {
                if (!body_of_shard[shard].empty()) post(url_.hosts[shard], params, body_of_shard[shard]);
            } catch (const StoreError&) {
                errors[shard] = std::current_exception();
            }
        };
        std::vector<std::thread> others;
        for (size_t shard = 1; shard < body_of_shard.size(); ++shard) others.emplace_back(post_to, shard);
        post_to(0);
        for (auto& t : others) t.join();
        for (const auto& e : errors)
            if (e) std::rethrow_exception(e);
    }

    // One look-up row per identity in `state`, on each shard the identities
    // of lookups_of_shard[shard] (an SQL list each, maybe empty).
    void mark(const std::vector<std::string>& lookups_of_shard, unsigned long state) {
        std::vector<std::string> sql(lookups_of_shard.size());
        for (size_t shard = 0; shard < sql.size(); ++shard)
            if (!lookups_of_shard[shard].empty())
                sql[shard] = "INSERT INTO " + local_table("report_keys") + " (lookup, state) SELECT arrayJoin([" +
                             lookups_of_shard[shard] + "]), " + std::to_string(state);
        post_to_shards("", sql);
    }

    // A store created before the look-up table existed: every stored report gets its committed rows.
    void fill_keys_from_records() {
        if (query(url_.hosts.front(), "SELECT count() FROM " + keys_) != "0\n") return;
        std::string params = url_.cluster.empty() ? "" : "insert_distributed_sync=1";
        post(url_.hosts.front(), params,
             "INSERT INTO " + keys_ + " (lookup, state) SELECT arrayJoin(if(run_id = '', [concat(" +
                 sql_string(kKeyPrefix) + ", report_key)], [concat(" + sql_string(kKeyPrefix) + ", report_key), concat(" +
                 sql_string(kRunIdPrefix) + ", run_id)])), " + std::to_string(kCommitted) + " FROM " + records_ +
                 " GROUP BY report_key, run_id");
    }

    // A row of a TabSeparated answer, its fields unescaped.
    struct Row : AggregateRow {
        std::vector<std::string> fields;
        const std::string& at(int column) const {
            if (size_t(column) >= fields.size()) throw StoreError("a column is missing");
            return fields[size_t(column)];
        }
        std::string text(int column) const override { return at(column); }
        int64_t integer(int column) const override {
            int64_t v = 0;
            const std::string& f = at(column);
            auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
            if (ec != std::errc() || end != f.data() + f.size()) throw StoreError("not an integer: " + f.substr(0, 40));
            return v;
        }
        double real(int column) const override {
            const std::string& f = at(column);
            char* end = nullptr;
            double v = std::strtod(f.c_str(), &end);
            if (f.empty() || *end != '\0') throw StoreError("not a number: " + f.substr(0, 40));
            return v;
        }
    };

    // Splits one TabSeparated line into `row`, undoing ClickHouse's escapes.
    static void split_tsv(std::string_view line, Row& row) {
        row.fields.assign(1, std::string());
        for (size_t i = 0; i < line.size(); ++i) {
            char c = line[i];
            if (c == '\t') {
                row.fields.emplace_back();
            } else if (c == '\\' && i + 1 < line.size()) {
                char e = line[++i];
                row.fields.back() += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b'
                                   : e == 'f' ? '\f' : e == '0' ? '\0' : e;
            } else {
                row.fields.back() += c;
            }
        }
    }

    // `text` as a TabSeparated field (its escapes undone by split_tsv's reverse), then `end`.
    static void append_tsv(std::string& out, std::string_view text, char end) {
        for (char c : text) {
            if (c == '\\' || c == '\t' || c == '\n' || c == '\r' || c == '\0') out += '\\';
            out += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\0' ? '0' : c;
        }
        out += end;
    }

    // Runs the aggregation `sql` (given `firsts` as the external table
    // kFirstsTable, when not null) and hands each row of its answer to on_row.
    template <typename OnRow>
    void each_row(const std::string& sql, const std::string* firsts, OnRow on_row) {
        std::string query = sql + " FORMAT TabSeparated";
        std::string answer = firsts ? post_with_table(url_.hosts.front(), query, *firsts) : post(url_.hosts.front(), "", query);
        Row row;
        std::string_view rest = answer;
        try {
            while (!rest.empty()) {
                size_t nl = rest.find('\n');
                std::string_view line = rest.substr(0, nl);
                rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
                split_tsv(line, row);
                on_row(row);
            }
        } catch (const StoreError& e) {
            throw StoreError("store " + where(url_.hosts.front()) + ": unexpected answer to an aggregation: " + e.what());
        }
    }

    void create_schema(const HostPort& host) {
        const std::string& db = url_.database;
        query(host, "CREATE DATABASE IF NOT EXISTS " + db);
        std::string engine =
            " ENGINE = MergeTree() PARTITION BY toYYYYMM(report_started_at) ORDER BY (service, cc, started_at)";
        std::string keys_engine = " ENGINE = MergeTree() ORDER BY lookup";
        if (url_.cluster.empty()) {
            query(host, "CREATE TABLE IF NOT EXISTS " + records_ + " (" + kColumns + ")" + engine);
            query(host, "CREATE TABLE IF NOT EXISTS " + keys_ + " (" + kKeyColumns + ")" + keys_engine);
            return;
        }
        query(host, "CREATE TABLE IF NOT EXISTS " + db + ".records_local (" + kColumns + ")" + engine);
        query(host, "CREATE TABLE IF NOT EXISTS " + records_ + " AS " + db + ".records_local ENGINE = Distributed(" +
                        url_.cluster + ", " + db + ", records_local, cityHash64(report_key))");
        query(host, "CREATE TABLE IF NOT EXISTS " + db + ".report_keys_local (" + kKeyColumns + ")" + keys_engine);
        query(host, "CREATE TABLE IF NOT EXISTS " + keys_ + " AS " + db + ".report_keys_local ENGINE = Distributed(" +
                        url_.cluster + ", " + db + ", report_keys_local, cityHash64(lookup))");
    }

    // Each look-up of the SQL list `lookups` that the table holds, with its highest state.
    std::map<std::string, unsigned long> lookup_states(const std::string& lookups) {
        std::string answer = query(url_.hosts.front(), "SELECT lookup, max(state) FROM " + keys_ + " WHERE lookup IN (" +
                                                           lookups + ") GROUP BY lookup FORMAT TabSeparated");
        std::map<std::string, unsigned long> states;
        Row row;
        std::string_view rest = answer;
        while (!rest.empty()) {
            size_t nl = rest.find('\n');
            split_tsv(rest.substr(0, nl), row);
            rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
            if (row.fields.size() != 2) throw StoreError("store " + where(url_.hosts.front()) + ": unexpected answer to a look-up");
            states[row.fields[0]] = row.fields[1] == "1" ? kCommitted : kIntent;
        }
        return states;
    }

    // RowBinary (ClickHouse's native row format, read since before 18.16):
    // little-endian fixed-size numbers, strings as a LEB128 length and the
    // bytes. No escaping on either side, unlike TabSeparated.
    template <typename Number>
    static void append_binary(std::string& out, Number n) {
        static_assert(std::endian::native == std::endian::little, "RowBinary is little-endian");
        char bytes[sizeof n];
        std::memcpy(bytes, &n, sizeof n);
        out.append(bytes, sizeof n);
    }
    static void append_binary_string(std::string& out, std::string_view s) {
        for (uint64_t n = s.size();; n >>= 7) {
            if (n < 0x80) {
                out += char(n);
                break;
            }
            out += char((n & 0x7f) | 0x80);
        }
        out.append(s);
    }

    // One RowBinary row per record of `r`, in kColumnNames' order; every row
    // carries the report's key, label and times, and its record's run_id.
    static void append_rows(const ReportToStore& r, int64_t now_ms, std::string& out) {
        const Report& report = *r.report;
        std::string key, identity;
        append_binary_string(key, r.idempotency_key);
        append_binary_string(identity, r.probe_label);
        append_binary(identity, uint32_t(datetime_seconds(now_ms)));
        append_binary(identity, uint32_t(datetime_seconds(report.records.front().fields.started_ms)));
        for (const auto& record : report.records) {
            const auto& f = record.fields;
            out += key;
            append_binary_string(out, f.run_id);  // the record's own, as on SQLite
            out += identity;
            append_binary(out, uint32_t(record.line_no));
            append_binary_string(out, f.id);
            append_binary(out, uint32_t(datetime_seconds(f.started_ms)));
            append_binary(out, int64_t(f.started_ms));
            append_binary_string(out, f.vantage_label);
            append_binary_string(out, f.cc);
            append_binary_string(out, f.asn);
            append_binary_string(out, f.service);
            append_binary_string(out, f.host);
            append_binary_string(out, f.protocol);
            append_binary(out, int64_t(f.port));
            append_binary_string(out, f.role);
            append_binary(out, uint8_t(f.canary ? 1 : 0));
            append_binary_string(out, f.status);
            append_binary(out, uint8_t(f.verdict));
            append_binary_string(out, f.method);
            append_binary(out, double(f.confidence));
            append_binary(out, uint8_t(f.control_view()));
            append_binary_string(out, f.first_evidence);
            append_binary_string(out, record.line);
        }
    }

    std::string where(const HostPort& host) const { return join_host_port(host.host, host.port); }

    static std::string escape(const std::string& s) {
        std::unique_ptr<char, decltype(&curl_free)> e(curl_easy_escape(nullptr, s.data(), int(s.size())), curl_free);
        return e ? std::string(e.get()) : std::string();
    }

    // A statement without data: the SQL is the body. Returns the answer (TSV).
    std::string query(const HostPort& host, const std::string& sql) { return post(host, "", sql); }

    // POSTs `body` to http://HOST:PORT/?PARAMS; the answer's body on 200,
    // StoreError (naming ClickHouse's own reason) on anything else.
    std::string post(const HostPort& host, const std::string& params, const std::string& body) {
        return perform(host, params, [&](CURL* c) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        });
    }

    // Runs the SELECT `sql` with `table` (TabSeparated rows of kFirstsColumns)
    // as its external table kFirstsTable: a multipart form, the query in the URL.
    std::string post_with_table(const HostPort& host, const std::string& sql, const std::string& table) {
        std::string name = kFirstsTable;
        std::string params = "query=" + escape(sql) + "&" + name + "_structure=" + escape(kFirstsColumns);
        std::unique_ptr<curl_mime, decltype(&curl_mime_free)> form(nullptr, curl_mime_free);
        return perform(host, params, [&](CURL* c) {
            form.reset(curl_mime_init(c));
            curl_mimepart* part = curl_mime_addpart(form.get());
            curl_mime_name(part, name.c_str());
            curl_mime_filename(part, (name + ".tsv").c_str());
            curl_mime_data(part, table.data(), table.size());
            curl_easy_setopt(c, CURLOPT_MIMEPOST, form.get());
        });
    }

    // One request to http://HOST:PORT/?PARAMS, its body set by set_body(curl).
    template <typename SetBody>
    std::string perform(const HostPort& host, const std::string& params, SetBody set_body) {
        // libcurl >= 7.84 initialises itself thread-safely in curl_easy_init.
        std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
        if (!curl) throw StoreError("store: curl_easy_init failed");
        std::string url = "http://" + where(host) + "/?" + params;
        std::string answer;
        CURL* c = curl.get();
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        set_body(c);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, kRequestTimeoutMs);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
        CURLcode rc = curl_easy_perform(c);
        if (rc != CURLE_OK) throw StoreError("store " + where(host) + ": " + curl_easy_strerror(rc));
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
            std::string reason = answer.substr(0, kErrorTextKept);
            std::replace(reason.begin(), reason.end(), '\n', ' ');
            throw StoreError("store " + where(host) + ": HTTP " + std::to_string(status) + ": " + reason);
        }
        return answer;
    }

    StoreUrl url_;
    std::string records_, keys_;
    bool parallel_parsing_setting_ = false;
    std::mutex mutex_;
};

}  // namespace

std::unique_ptr<Store> open_clickhouse_store(const StoreUrl& url) { return std::make_unique<ClickhouseStore>(url); }

}  // namespace meoktong::store
