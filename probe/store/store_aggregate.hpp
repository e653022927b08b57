// Store::aggregate for both engines: the SQL that makes the engine do the
// heavy part (GROUP BY endpoint, vantage and time window: the same cell key
// analyze uses on files), and the folding of its answer into analyze's cells.
// Three queries, each answering one row per cell (or a few):
//   cells     per cell and failing/working: counts per verdict status, the
//             control's view, the confidence sum, first and last time;
//   methods   per cell: the methods of its failing records and their counts;
//   examples  per cell: its first failing and working measurements (by time).
// Every row starts with the key columns (kKeyColumns). The folder keeps one
// entry per cell, so memory grows with cells, never with records.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "analysis/analyze/analyze.hpp"
#include "probe/store/store.hpp"

namespace meoktong::store {

enum class SqlDialect { sqlite, clickhouse };

struct AggregateQueries {
    std::string cells, methods, examples;
};

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

// Collects the rows of the three answers, then folds them into an Aggregator.
class CellFolder {
public:
    void add_cells_row(const AggregateRow& row);
    void add_methods_row(const AggregateRow& row);
    void add_examples_row(const AggregateRow& row);
    void fold_into(analyze::Aggregator& into);

private:
    using Key = std::tuple<std::string, std::string, std::string, int64_t, bool, std::string, std::string,
                           std::string, int64_t>;  // the kKeyColumns, in order
    struct Entry {
        analyze::ReportLine fields;  // the endpoint and vantage fields
        int64_t window = 0;
        analyze::Cell cell;
    };
    Entry& entry(const AggregateRow& row);

    std::map<Key, Entry> entries_;
};

}  // namespace meoktong::store
