// Exporting records (SPEC §8, `meoktong export`): one CSV row per record, or
// one OONI measurement (df-000, test "meoktong") per record, which
// `analyze` reads back as the record it came from. Pure renderers; cli
// writes the output. Neither carries the probe's IP (records never hold it;
// OONI's probe_ip is its placeholder "127.0.0.1").
#pragma once

#include <string>

#include "meoktong/record.hpp"

namespace meoktong::analyze {

// The header row, ending in a newline: measured_at, cc, asn, service, host,
// port, protocol, status, method, confidence, evidence, source, id.
std::string csv_header();
// One row (RFC 4180 quoting), ending in a newline; evidence is the first
// sentence of the verdict's, source is "meoktong" or "ooni".
std::string csv_row(const Record& record);

// One OONI measurement as a JSON line (without its newline).
std::string ooni_measurement(const Record& record);

}  // namespace meoktong::analyze
