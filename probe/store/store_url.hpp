// Store URLs (SPEC §6): "sqlite:PATH" and
// "clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE[?cluster=NAME]". PORT is
// ClickHouse's HTTP interface. Several hosts name every shard of the cluster
// (needs ?cluster=): the store creates its tables on each of them, because
// ClickHouse 18.16 without ZooKeeper has no ON CLUSTER DDL, inserts each
// report's records straight into one of them, and reads through the first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "meoktong/parse.hpp"

namespace meoktong::store {

enum class Engine { sqlite, clickhouse };

struct StoreUrl {
    Engine engine = Engine::sqlite;
    std::string sqlite_path;             // sqlite
    std::vector<HostPort> hosts;         // clickhouse, each with a port
    std::string database;                // clickhouse
    std::string cluster;                 // clickhouse, "" without ?cluster=
};

// Throws InputError with a one-line reason ("bad store URL 'x': ...").
StoreUrl parse_store_url(std::string_view url);

}  // namespace meoktong::store
