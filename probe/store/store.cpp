// open_store(): the engine a store URL names (see store.hpp).
#include "probe/store/store.hpp"

#include "probe/store/clickhouse_store.hpp"
#include "probe/store/sqlite_store.hpp"
#include "probe/store/store_url.hpp"

namespace meoktong::store {

std::unique_ptr<Store> open_store(const std::string& url) {
    StoreUrl parsed = parse_store_url(url);
    if (parsed.engine == Engine::sqlite) return open_sqlite_store(parsed.sqlite_path);
    return open_clickhouse_store(parsed);
}

}  // namespace meoktong::store
