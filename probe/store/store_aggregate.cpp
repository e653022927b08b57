// The aggregation SQL of both engines and the folding of its rows (see
// store_aggregate.hpp).
#include "probe/store/store_aggregate.hpp"

#include <algorithm>

namespace meoktong::store {
namespace {

// The cell key; the window column is computed (time_window below).
constexpr const char* kKeyColumns = "service, protocol, host, port, canary, vantage_label, cc, asn, time_window";
constexpr int kKeyCount = 9;

std::string quoted(SqlDialect dialect, std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\0') {
            out += dialect == SqlDialect::clickhouse ? "\\0" : "";
            continue;
        }
        if (c == '\'') out += dialect == SqlDialect::clickhouse ? "\\'" : "''";
        else if (c == '\\' && dialect == SqlDialect::clickhouse) out += "\\\\";
        else out += c;
    }
    return out + "'";
}

// floor(started_ms / window_ms), also for times before 1970, as Aggregator::window_of.
std::string window_expression(SqlDialect dialect, int64_t window_ms) {
    std::string w = std::to_string(window_ms);
    std::string aligned = "(started_ms - (((started_ms % " + w + ") + " + w + ") % " + w + "))";
    if (dialect == SqlDialect::clickhouse) return "intDiv(" + aligned + ", " + w + ")";
    return "(" + aligned + " / " + w + ")";
}

std::string where_clause(SqlDialect dialect, const StoreFilter& f) {
    std::string w = "WHERE 1 = 1";
    if (f.since_ms) w += " AND started_ms >= " + std::to_string(*f.since_ms);
    if (f.until_ms) w += " AND started_ms < " + std::to_string(*f.until_ms);
    if (!f.cc.empty()) w += " AND cc = " + quoted(dialect, f.cc);
    if (!f.service.empty()) w += " AND (service = " + quoted(dialect, f.service) + " OR canary = 1)";
    return w;
}

// An SQLite text that sorts like (started_ms, id).
std::string sqlite_order_key() { return "printf('%019d', started_ms + 4611686018427387904) || id"; }

// The example columns as add_examples_row reads them, of the record with the
// least (started_ms, id) among those of the group where `condition` holds.
std::string first_example(SqlDialect dialect, const std::string& condition) {
    if (dialect == SqlDialect::clickhouse) {
        std::string x = "tupleElement(argMinIf(tuple(id, started_ms, verdict, method, control_view, evidence), "
                        "(started_ms, id), " + condition + ") AS x, 1)";
        for (int i = 2; i <= 6; ++i) x += ", tupleElement(x, " + std::to_string(i) + ")";
        return x;
    }
    // SQLite takes the bare columns from the row of the one min(); the key
    // orders like (started_ms, id) for any time within 146 million years of 1970.
    return "CASE WHEN min(CASE WHEN " + condition + " THEN " + sqlite_order_key() +
           " END) IS NULL THEN '' ELSE id END, started_ms, verdict, method, control_view, evidence";
}

}  // namespace

AggregateQueries aggregate_queries(SqlDialect dialect, const std::string& table, const StoreFilter& filter,
                                   int64_t window_ms) {
    std::string keyed = "SELECT service, protocol, host, port, canary, vantage_label, cc, asn, " +
                        window_expression(dialect, window_ms) + " AS time_window, ";
    std::string from = " FROM " + table + " " + where_clause(dialect, filter);
    std::string key = kKeyColumns;
    bool clickhouse = dialect == SqlDialect::clickhouse;
    AggregateQueries q;
    q.cells = keyed +
              "verdict <> 0 AS failing, min(role), sum(verdict = 0), sum(verdict = 1), sum(verdict = 2), "
              "sum(verdict = 3), sum(verdict = 4), sum(control_view = 1), sum(control_view = 2), sum(confidence), "
              "min(started_ms), max(started_ms)" +
              (clickhouse ? ", " + first_example(dialect, "id <> ''") : "") + from + " GROUP BY " + key + ", failing";
    std::string identity = "service, protocol, host, port, canary, vantage_label, cc, asn, started_ms, id";
    std::string firsts = std::string(kFirstsTable);
    std::string not_a_first = "(" + identity + ") NOT IN " + firsts;
    if (!clickhouse) {
        firsts = "temp." + firsts;
        std::string columns = key + ", id, started_ms, verdict, method, control_view, evidence";
        q.drop_firsts = "DROP TABLE IF EXISTS " + firsts;
        q.firsts = {q.drop_firsts,
                    "CREATE TEMP TABLE " + std::string(kFirstsTable) + " (" + columns + ")",
                    "INSERT INTO " + firsts + " " + keyed + first_example(dialect, "1") + from + " AND id <> '' GROUP BY " +
                        key + ", verdict <> 0"};
        q.firsts.push_back("CREATE INDEX temp.aggregate_firsts_by_id ON " + std::string(kFirstsTable) + " (id)");
        q.read_firsts = "SELECT " + columns + " FROM " + firsts;
        // A row-value NOT IN (subquery) inside an aggregate is not indexed by SQLite: an indexed NOT EXISTS.
        not_a_first = "NOT EXISTS (SELECT 1 FROM " + firsts + " f WHERE f.verdict <> 0";
        for (const char* column : {"service", "protocol", "host", "port", "canary", "vantage_label", "cc", "asn",
                                   "started_ms", "id"})
            not_a_first += std::string(" AND f.") + column + " = " + table + "." + column;
        not_a_first += ")";
    }
    q.failing = keyed + "method, count(*), " + first_example(dialect, "id <> '' AND " + not_a_first) + from +
                " AND verdict <> 0 GROUP BY " + key + ", method";
    return q;
}

CellFolder::Entry& CellFolder::entry(const AggregateRow& row) {
    Key key{row.text(0), row.text(1), row.text(2), row.integer(3), row.integer(4) != 0, row.text(5), row.text(6),
            row.text(7), row.integer(8)};
    auto [it, added] = entries_.try_emplace(std::move(key));
    Entry& e = it->second;
    if (added) {
        const Key& k = it->first;
        e.fields.service = std::get<0>(k);
        e.fields.protocol = std::get<1>(k);
        e.fields.host = std::get<2>(k);
        e.fields.port = std::get<3>(k);
        e.fields.canary = std::get<4>(k);
        e.fields.vantage_label = std::get<5>(k);
        e.fields.cc = std::get<6>(k);
        e.fields.asn = std::get<7>(k);
        e.window = std::get<8>(k);
    }
    return e;
}

namespace {

// The example in columns c..c+5 (id, started_ms, verdict, method,
// control_view, evidence); none when its id is empty.
std::optional<analyze::Example> example_at(const AggregateRow& row, int c) {
    analyze::Example x;
    x.id = row.text(c);
    if (x.id.empty()) return std::nullopt;
    x.at_ms = row.integer(c + 1);
    int64_t verdict = row.integer(c + 2);
    x.status = verdict >= 0 && verdict < kVerdictStatusCount ? VerdictStatus(verdict) : VerdictStatus::inconclusive;
    x.method = row.text(c + 3);
    int64_t control = row.integer(c + 4);
    x.control = control == 1 ? analyze::ControlView::saw_target
                : control == 2 ? analyze::ControlView::failed
                               : analyze::ControlView::none;
    x.evidence = row.text(c + 5);
    return x;
}

}  // namespace

void CellFolder::add_cells_row(const AggregateRow& row, bool with_first_example) {
    Entry& e = entry(row);
    int c = kKeyCount;
    bool failing = row.integer(c) != 0;
    std::string role = row.text(c + 1);
    if (e.fields.role.empty() || role < e.fields.role) e.fields.role = role;
    analyze::Cell& cell = e.cell;
    for (int s = 0; s < kVerdictStatusCount; ++s) cell.statuses[s] += uint32_t(row.integer(c + 2 + s));
    int64_t first = row.integer(c + 10), last = row.integer(c + 11);
    if (failing) {
        cell.control_saw += uint32_t(row.integer(c + 7));
        cell.control_failed += uint32_t(row.integer(c + 8));
        cell.failing_confidence_sum += row.real(c + 9);
        cell.first_fail_ms = std::min(cell.first_fail_ms, first);
        cell.last_fail_ms = std::max(cell.last_fail_ms, last);
    } else {
        cell.first_ok_ms = std::min(cell.first_ok_ms, first);
        cell.last_ok_ms = std::max(cell.last_ok_ms, last);
    }
    if (!with_first_example) return;
    if (auto x = example_at(row, c + 12)) cell.examples.push_back(std::move(*x));
}

void CellFolder::add_examples_row(const AggregateRow& row) {
    if (auto x = example_at(row, kKeyCount)) entry(row).cell.examples.push_back(std::move(*x));
}

void CellFolder::add_failing_row(const AggregateRow& row) {
    Entry& e = entry(row);
    std::string method = row.text(kKeyCount);
    if (!method.empty()) e.cell.methods.emplace_back(std::move(method), uint32_t(row.integer(kKeyCount + 1)));
    auto x = example_at(row, kKeyCount + 2);
    if (x && (!e.second || std::tie(x->at_ms, x->id) < std::tie(e.second->at_ms, e.second->id))) e.second = std::move(x);
}

void CellFolder::fold_into(analyze::Aggregator& into) {
    for (auto& [key, e] : entries_) {
        auto& examples = e.cell.examples;
        if (e.second) examples.push_back(std::move(*e.second));
        std::stable_sort(examples.begin(), examples.end(), [](const analyze::Example& a, const analyze::Example& b) {
            return std::tie(a.at_ms, a.id) < std::tie(b.at_ms, b.id);
        });
        std::sort(e.cell.methods.begin(), e.cell.methods.end(),
                  [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
        into.add_cell(e.fields, e.window, e.cell);
    }
    entries_.clear();
}

}  // namespace meoktong::store
