// Store URLs: both engines, every part of a ClickHouse URL, and one-line
// errors for everything else.
#include <doctest/doctest.h>

#include "meoktong/target.hpp"
#include "probe/store/store_url.hpp"

using namespace meoktong;
using namespace meoktong::store;

namespace {

std::string error_of(const std::string& url) {
    try {
        parse_store_url(url);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("sqlite:PATH names a file") {
    auto u = parse_store_url("sqlite:/var/lib/meoktong/store.db");
    CHECK(u.engine == Engine::sqlite);
    CHECK(u.sqlite_path == "/var/lib/meoktong/store.db");
    CHECK(parse_store_url("sqlite:store.db").sqlite_path == "store.db");
    CHECK(error_of("sqlite:") == "bad store URL 'sqlite:': no PATH after sqlite:");
}

TEST_CASE("clickhouse://HOST:PORT/DATABASE, with an optional cluster") {
    auto u = parse_store_url("clickhouse://127.0.0.1:8123/meoktong");
    CHECK(u.engine == Engine::clickhouse);
    REQUIRE(u.hosts.size() == 1);
    CHECK(u.hosts[0].host == "127.0.0.1");
    CHECK(u.hosts[0].port == 8123);
    CHECK(u.database == "meoktong");
    CHECK(u.cluster.empty());

    auto c = parse_store_url("clickhouse://[::1]:8123,ch2.example.org:8124/fleet_1?cluster=two_shards");
    REQUIRE(c.hosts.size() == 2);
    CHECK(c.hosts[0].host == "::1");
    CHECK(c.hosts[1].host == "ch2.example.org");
    CHECK(c.hosts[1].port == 8124);
    CHECK(c.database == "fleet_1");
    CHECK(c.cluster == "two_shards");
}

TEST_CASE("bad store URLs are refused with one line naming the problem") {
    CHECK(error_of("postgres://x/y").find("expected sqlite:PATH or clickhouse://") != std::string::npos);
    CHECK(error_of("clickhouse://127.0.0.1:8123") == "bad store URL 'clickhouse://127.0.0.1:8123': no /DATABASE");
    CHECK(error_of("clickhouse://127.0.0.1/db").find("'127.0.0.1' is not HOST:PORT") != std::string::npos);
    CHECK(error_of("clickhouse://h:0/db").find("is not HOST:PORT") != std::string::npos);
    CHECK(error_of("clickhouse://h:70000/db").find("is not HOST:PORT") != std::string::npos);
    CHECK(error_of("clickhouse:///db").find("no HOST:PORT") != std::string::npos);
    CHECK(error_of("clickhouse://h:1,/db").find("'' is not HOST:PORT") != std::string::npos);
    CHECK(error_of("clickhouse://h:1/").find("the database must be") != std::string::npos);
    CHECK(error_of("clickhouse://h:1/a;DROP").find("the database must be") != std::string::npos);
    CHECK(error_of("clickhouse://h:1/1db").find("the database must be") != std::string::npos);
    CHECK(error_of("clickhouse://h:1/db?shards=2").find("the only option is ?cluster=NAME") != std::string::npos);
    CHECK(error_of("clickhouse://h:1/db?cluster=").find("the cluster must be") != std::string::npos);
    CHECK(error_of("clickhouse://h:1/db?cluster=a'b").find("the cluster must be") != std::string::npos);
    CHECK(error_of("clickhouse://h:1,h:2/db").find("several hosts need ?cluster=NAME") != std::string::npos);
}
