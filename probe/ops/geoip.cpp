// MaxMind DB lookups for the vantage's country and ASN (see geoip.hpp).
#include "probe/ops/geoip.hpp"

#include <maxminddb.h>

#include "meoktong/ipaddr.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "probe/net/interfaces.hpp"

namespace meoktong {

namespace {

std::optional<std::string> string_at(MMDB_lookup_result_s& result, const char* const* path) {
    MMDB_entry_data_s data;
    if (MMDB_aget_value(&result.entry, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
    if (data.type != MMDB_DATA_TYPE_UTF8_STRING) return std::nullopt;
    return std::string(data.utf8_string, data.data_size);
}

std::optional<uint32_t> uint_at(MMDB_lookup_result_s& result, const char* const* path) {
    MMDB_entry_data_s data;
    if (MMDB_aget_value(&result.entry, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
    switch (data.type) {
        case MMDB_DATA_TYPE_UINT16: return data.uint16;
        case MMDB_DATA_TYPE_UINT32: return data.uint32;
        default: return std::nullopt;
    }
}

// A database value is untrusted text: keep it only if it is a valid code.
std::optional<std::string> valid_cc(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    return parse_country_code(*text);
}

}  // namespace

GeoIpDatabase::GeoIpDatabase(const std::string& path) : path_(path), db_(new MMDB_s{}) {
    int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, db_);
    if (status != MMDB_SUCCESS) {
        std::string reason = MMDB_strerror(status);
        delete db_;
        throw InputError("geoip db " + path + ": " + reason);
    }
}

GeoIpDatabase::~GeoIpDatabase() {
    MMDB_close(db_);
    delete db_;
}

GeoInfo GeoIpDatabase::lookup(const std::string& ip) const {
    if (!is_ip_literal(ip)) throw InputError("geoip lookup: '" + ip + "' is not an IP address");
    int gai_error = 0, mmdb_error = 0;
    MMDB_lookup_result_s result = MMDB_lookup_string(db_, ip.c_str(), &gai_error, &mmdb_error);
    GeoInfo info;
    if (gai_error != 0 || mmdb_error != MMDB_SUCCESS || !result.found_entry) return info;
    static const char* const country[] = {"country", "iso_code", nullptr};
    static const char* const registered[] = {"registered_country", "iso_code", nullptr};
    static const char* const asn[] = {"autonomous_system_number", nullptr};
    info.cc = valid_cc(string_at(result, country));
    if (!info.cc) info.cc = valid_cc(string_at(result, registered));
    if (auto number = uint_at(result, asn)) info.asn = "AS" + std::to_string(*number);
    return info;
}

GeoInfo lookup_geoip(const std::vector<std::string>& db_paths, const std::string& ip) {
    GeoInfo merged;
    for (const auto& path : db_paths) {
        GeoInfo found = GeoIpDatabase(path).lookup(ip);
        if (!merged.cc) merged.cc = found.cc;
        if (!merged.asn) merged.asn = found.asn;
    }
    return merged;
}

std::vector<std::string> local_public_addresses() {
    std::vector<std::string> addresses;
    for (const auto& ip : local_addresses())
        if (is_ip_literal(ip) && !special_purpose(ip)) addresses.push_back(ip);
    return addresses;
}

Vantage resolve_vantage(const std::string& label, const VantageSources& sources) {
    Vantage v;
    v.label = label;
    if (auto cc = sources.cli_cc ? sources.cli_cc : sources.geoip.cc ? sources.geoip.cc : sources.config_cc) v.cc = *cc;
    if (auto asn = sources.cli_asn ? sources.cli_asn : sources.geoip.asn ? sources.geoip.asn : sources.config_asn)
        v.asn = *asn;
    return v;
}

}  // namespace meoktong
