// open_store(): the engine a store URL names (see store.hpp).
#include "probe/store/store.hpp"

#include "probe/store/clickhouse_store.hpp"
#include "probe/store/sqlite_store.hpp"
#include "probe/store/store_url.hpp"

namespace meoktong::store {

analyze::Analysis analyse_store(Store& store, const StoreFilter& filter, int window_minutes, const std::string& source) {
    analyze::Options options;
    options.from_ms = filter.since_ms;
    options.to_ms = filter.until_ms;
    if (!filter.service.empty()) options.services.push_back(filter.service);
    options.cc = filter.cc;
    options.window_minutes = window_minutes;
    analyze::Aggregator agg(options);
    store.aggregate(filter, agg);
    analyze::InputFile input;
    input.path = source;
    for (const auto& [key, cell] : agg.cells()) input.records += cell.total();
    input.lines = input.records;
    std::vector<analyze::InputFile> inputs;
    inputs.push_back(std::move(input));
    return analyze::build_analysis(agg, std::move(inputs));
}

std::unique_ptr<Store> open_store(const std::string& url) {
    StoreUrl parsed = parse_store_url(url);
    if (parsed.engine == Engine::sqlite) return open_sqlite_store(parsed.sqlite_path);
    return open_clickhouse_store(parsed);
}

}  // namespace meoktong::store
