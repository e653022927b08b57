// JSON (de)serialisation of the record types, with the exact keys of SPEC §4.
// Readers are tolerant: a missing optional key gets its default; a wrong type
// throws nlohmann::json::exception, which callers turn into a counted error.
#pragma once

#include <nlohmann/json.hpp>

#include "meoktong/record.hpp"

namespace meoktong {

using json = nlohmann::json;

void to_json(json& j, const Target& v);
void from_json(const json& j, Target& v);
void to_json(json& j, const DnsAnswer& v);
void from_json(const json& j, DnsAnswer& v);
void to_json(json& j, const DnsResponse& v);
void from_json(const json& j, DnsResponse& v);
void to_json(json& j, const DnsObservation& v);
void from_json(const json& j, DnsObservation& v);
void to_json(json& j, const TcpObservation& v);
void from_json(const json& j, TcpObservation& v);
void to_json(json& j, const CertificateInfo& v);
void from_json(const json& j, CertificateInfo& v);
void to_json(json& j, const TlsObservation& v);
void from_json(const json& j, TlsObservation& v);
void to_json(json& j, const HttpObservation& v);
void from_json(const json& j, HttpObservation& v);
void to_json(json& j, const AppObservation& v);
void from_json(const json& j, AppObservation& v);
void to_json(json& j, const PacketObservation& v);
void from_json(const json& j, PacketObservation& v);
void to_json(json& j, const Observations& v);
void from_json(const json& j, Observations& v);
void to_json(json& j, const ControlResult& v);
void from_json(const json& j, ControlResult& v);
void to_json(json& j, const RunContext& v);
void from_json(const json& j, RunContext& v);
void to_json(json& j, const Verdict& v);
void from_json(const json& j, Verdict& v);
void to_json(json& j, const EarlierTry& v);
void from_json(const json& j, EarlierTry& v);
void to_json(json& j, const Vantage& v);
void from_json(const json& j, Vantage& v);
void to_json(json& j, const Record& v);
void from_json(const json& j, Record& v);

// Observations without "packets" (the control protocol's shape, SPEC §3).
json control_observations_json(const Observations& o);

}  // namespace meoktong
