// Country and ASN of the probe's vantage from MaxMind-format databases
// (libmaxminddb; e.g. GeoLite2-Country + GeoLite2-ASN or DB-IP lite files),
// given with --geoip-db. The probe's public address is looked up here and
// used for nothing else: it is never stored in a report, only its country
// code and ASN are. Precedence for the vantage metadata: --cc/--asn on the
// command line, else the database, else the config file, else ZZ / AS0.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "meoktong/record.hpp"

struct MMDB_s;

namespace meoktong {

struct GeoInfo {
    std::optional<std::string> cc;   // "KR"
    std::optional<std::string> asn;  // "AS4766"
};

class GeoIpDatabase {
public:
    // Throws InputError ("geoip db PATH: <reason>") when the file cannot be opened
    // or is not a MaxMind DB.
    explicit GeoIpDatabase(const std::string& path);
    ~GeoIpDatabase();
    GeoIpDatabase(const GeoIpDatabase&) = delete;
    GeoIpDatabase& operator=(const GeoIpDatabase&) = delete;

    // country.iso_code (else registered_country.iso_code) and
    // autonomous_system_number of `ip`; empty fields when not in the database.
    // Throws InputError when `ip` is not an IP address literal.
    GeoInfo lookup(const std::string& ip) const;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    MMDB_s* db_;
};

// Looks `ip` up in each database in turn; the first database that knows a
// field gives it (so a country database and an ASN database combine).
GeoInfo lookup_geoip(const std::vector<std::string>& db_paths, const std::string& ip);

// The public unicast addresses configured on this host's own interfaces
// (a VPS often has one); empty behind NAT. No network traffic.
std::vector<std::string> local_public_addresses();

struct VantageSources {
    std::optional<std::string> cli_cc, cli_asn;        // --cc / --asn
    GeoInfo geoip;                                     // from --geoip-db
    std::optional<std::string> config_cc, config_asn;  // vantage.cc / vantage.asn in the config
};

// cc and asn by the precedence above; label is copied as given.
Vantage resolve_vantage(const std::string& label, const VantageSources& sources);

}  // namespace meoktong
