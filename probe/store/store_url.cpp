// Parsing store URLs (see store_url.hpp).
#include "probe/store/store_url.hpp"

#include "meoktong/target.hpp"

namespace meoktong::store {
namespace {

constexpr std::string_view kSqliteScheme = "sqlite:";
constexpr std::string_view kClickhouseScheme = "clickhouse://";

[[noreturn]] void refuse(std::string_view url, const std::string& why) {
    throw InputError("bad store URL '" + std::string(url) + "': " + why);
}

// ClickHouse database and cluster names: letters, digits, '_' (no quoting needed in SQL).
bool is_plain_identifier(std::string_view s) {
    if (s.empty() || s.size() > 64 || (s[0] >= '0' && s[0] <= '9')) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

StoreUrl parse_clickhouse(std::string_view url) {
    StoreUrl out;
    out.engine = Engine::clickhouse;
    std::string_view rest = url.substr(kClickhouseScheme.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) refuse(url, "no /DATABASE");
    std::string_view hosts = rest.substr(0, slash);
    std::string_view path = rest.substr(slash + 1);
    std::string_view query;
    if (size_t q = path.find('?'); q != std::string_view::npos) {
        query = path.substr(q + 1);
        path = path.substr(0, q);
    }
    if (hosts.empty()) refuse(url, "no HOST:PORT");
    while (true) {
        size_t comma = hosts.find(',');
        std::string_view one = hosts.substr(0, comma);
        auto hp = split_host_port(one);
        if (!hp || !hp->port) refuse(url, "'" + std::string(one) + "' is not HOST:PORT");
        out.hosts.push_back(*hp);
        if (comma == std::string_view::npos) break;
        hosts = hosts.substr(comma + 1);
    }
    if (!is_plain_identifier(path)) refuse(url, "the database must be a name of letters, digits and '_'");
    out.database = std::string(path);
    if (!query.empty()) {
        constexpr std::string_view kCluster = "cluster=";
        if (query.substr(0, kCluster.size()) != kCluster) refuse(url, "the only option is ?cluster=NAME");
        std::string_view cluster = query.substr(kCluster.size());
        if (!is_plain_identifier(cluster)) refuse(url, "the cluster must be a name of letters, digits and '_'");
        out.cluster = std::string(cluster);
    }
    if (out.hosts.size() > 1 && out.cluster.empty()) refuse(url, "several hosts need ?cluster=NAME");
    return out;
}

}  // namespace

StoreUrl parse_store_url(std::string_view url) {
    if (url.substr(0, kSqliteScheme.size()) == kSqliteScheme) {
        StoreUrl out;
        out.engine = Engine::sqlite;
        out.sqlite_path = std::string(url.substr(kSqliteScheme.size()));
        if (out.sqlite_path.empty()) refuse(url, "no PATH after sqlite:");
        if (out.sqlite_path.find('\0') != std::string::npos) refuse(url, "NUL in PATH");
        return out;
    }
    if (url.substr(0, kClickhouseScheme.size()) == kClickhouseScheme) return parse_clickhouse(url);
    refuse(url, "expected sqlite:PATH or clickhouse://HOST:PORT/DATABASE[?cluster=NAME]");
}

}  // namespace meoktong::store
