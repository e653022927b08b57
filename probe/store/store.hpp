// The store library (probe/store/): where a fleet's reports are kept. The
// storage seam declared here and its two engines, SQLite (embedded) and
// ClickHouse (over its HTTP interface).
//
// The storage seam of the fleet (SPEC §6): one interface, Store, that the
// collector and `store import` hand whole reports to, and open_store(), which
// picks the engine a store URL names (sqlite_store.cpp, clickhouse_store.cpp).
//
// What every engine guarantees (docs/fleet.md, "The store's guarantees"):
// - a report is stored whole or not at all: after a crash at any point either
//   every record of it is there or none is;
// - idempotent: a report whose Idempotency-Key, or whose run_id, is already
//   stored is not stored again and the answer says so (already_stored); a
//   report carrying several run_ids is matched on every one of them
//   (Report::run_ids), on both engines;
// - store_reports() returns only once the report is durable as far as the
//   engine can make it (SQLite: committed with synchronous=FULL; ClickHouse:
//   the insert acknowledged by the shard that holds it);
// - what is stored is the report's lines, the key, the run_id and the label of
//   the probe (its token) that sent it. There is no field for the address a
//   probe connected from: no engine can store it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analyze/analyze.hpp"
#include "analysis/analyze/incident.hpp"
#include "probe/store/report.hpp"

namespace meoktong::store {

// The engine could not store (disk full, server down, schema refused). The
// report is then not stored, not even in part; the caller answers 5xx.
struct StoreError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class StoreOutcome { stored, already_stored };

struct StoreCounts {
    uint64_t reports = 0, records = 0;
};

// Which stored records Store::aggregate reads: started since_ms <= t < until_ms,
// of country cc, of service (canaries always kept, as analyze --service does);
// unset or empty: no limit.
struct StoreFilter {
    std::optional<int64_t> since_ms, until_ms;
    std::string cc, service;
};

// One report handed to the store: the key it was sent under, the label of the
// probe (its token) that sent it, and the report (validated by read_report).
struct ReportToStore {
    std::string_view idempotency_key;
    std::string_view probe_label;
    const Report* report = nullptr;
};

class Store {
public:
    virtual ~Store() = default;

    // Stores every report of `batch` in one transaction of the engine, durable
    // when this returns: outcome i is batch[i]'s. A report whose key or run_id
    // is already stored, or is an earlier report's of the same batch, is
    // already_stored. Thread-safe. Throws StoreError when the engine fails;
    // then no report of the batch was stored in part (some may have been
    // stored whole, and are already_stored when sent again).
    virtual std::vector<StoreOutcome> store_reports(const std::vector<ReportToStore>& batch) = 0;

    // store_reports of one report.
    StoreOutcome store_report(std::string_view idempotency_key, std::string_view probe_label, const Report& report) {
        return store_reports({ReportToStore{idempotency_key, probe_label, &report}}).front();
    }

    // How many reports and records are stored. Throws StoreError.
    virtual StoreCounts counts() = 0;
    // Fills `into` with the cells (endpoint, vantage, time window of
    // into.window_ms()) of the records `filter` selects, the aggregation done
    // by the engine's GROUP BY (store_aggregate.hpp): what it returns grows
    // with the number of cells, not of records. Throws StoreError.
    virtual void aggregate(const StoreFilter& filter, analyze::Aggregator& into) = 0;
};

// `meoktong analyze --store` and the collector's live view: the incidents of
// the records `filter` selects, aggregated by the store into windows of
// `window_minutes`, judged by analyze as it judges files. The analysis names
// one input, `source` (the store URL, or what the caller calls the store),
// with the records read. Throws StoreError.
analyze::Analysis analyse_store(Store& store, const StoreFilter& filter, int window_minutes, const std::string& source);

// Opens (creating its schema when missing) the store that `url` names (see
// store_url.hpp). Throws InputError for a bad URL, StoreError when the engine
// cannot be reached or set up.
std::unique_ptr<Store> open_store(const std::string& url);

}  // namespace meoktong::store
