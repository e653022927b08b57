// Store::aggregate for both engines: the SQL that makes the engine do the
// heavy part (GROUP BY endpoint, vantage and time window: the same cell key
// analyze uses on files), and the folding of its answer into analyze's cells.
// Two scans of the records (three on SQLite), each answering one row per cell
// (or per cell and method):
//   cells     per cell and failing/working: counts per verdict status, the
//             control's view, the confidence sum, first and last time, and
//             (ClickHouse, argMin) the first measurement by (time, id);
//   firsts    SQLite only (it has no argMin): that first measurement per cell
//             and side, kept in the temporary table kFirstsTable;
//   failing   per cell and method of its failing records: their count, and
//             the first one by (time, id) that is not in kFirstsTable (the
//             cell's second failing example, the least over its methods).
// ClickHouse gets kFirstsTable as external data of the failing query (the
// failing firsts, kFirstsColumns), so no scan runs twice. Every row starts
// with the key columns (kKeyColumns). The folder keeps one entry per cell, so
// memory grows with cells, never with records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "analysis/analyze/analyze.hpp"
#include "probe/store/store.hpp"

namespace meoktong::store {

enum class SqlDialect { sqlite, clickhouse };

struct AggregateQueries {
    std::string cells;
    std::vector<std::string> firsts;  // SQLite: the statements that fill kFirstsTable; ClickHouse: none
    std::string read_firsts;          // SQLite: kFirstsTable's examples; ClickHouse: ""
    std::string drop_firsts;          // SQLite: removes kFirstsTable; ClickHouse: ""
    std::string failing;
};

// The table of each cell's first examples that the failing query excludes,
// and (ClickHouse's external data) its columns.
inline constexpr const char* kFirstsTable = "aggregate_firsts";
inline constexpr const char* kFirstsColumns =
    "service String, protocol String, host String, port Int64, canary UInt8, vantage_label String, cc String, "
    "asn String, started_ms Int64, id String";

// The queries over `table` (which has the columns of the records table of
// both schemas) for `filter` and windows of `window_ms`.
AggregateQueries aggregate_queries(SqlDialect dialect, const std::string& table, const StoreFilter& filter,
                                   int64_t window_ms);

// One row of an answer, read by column index.
class AggregateRow {
public:
    virtual ~AggregateRow() = default;
    virtual std::string text(int column) const = 0;
    virtual int64_t integer(int column) const = 0;
    virtual double real(int column) const = 0;
};

// Collects the rows of the answers, then folds them into an Aggregator.
class CellFolder {
public:
    void add_cells_row(const AggregateRow& row, bool with_first_example);  // ClickHouse: true
    void add_examples_row(const AggregateRow& row);  // read_firsts' rows
    void add_failing_row(const AggregateRow& row);
    // The first failing example of every cell as kFirstsColumns' values.
    template <typename OnFirst>
    void each_failing_first(OnFirst on_first) const {
        for (const auto& entry : entries_)
            for (const auto& x : entry.second.cell.examples)
                if (x.status != VerdictStatus::accessible) on_first(entry.second.fields, x);
    }
    void fold_into(analyze::Aggregator& into);

private:
    using Key = std::tuple<std::string, std::string, std::string, int64_t, bool, std::string, std::string,
                           std::string, int64_t>;  // the kKeyColumns, in order
    struct Entry {
        analyze::ReportLine fields;  // the endpoint and vantage fields
        int64_t window = 0;
        analyze::Cell cell;
        std::optional<analyze::Example> second;  // the least of the failing query's candidates
    };
    Entry& entry(const AggregateRow& row);

    std::map<Key, Entry> entries_;
};

}  // namespace meoktong::store
