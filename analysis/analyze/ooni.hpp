// Reading OONI measurements (SPEC §8): the df-000 base format and the test
// keys of the whatsapp, telegram, signal, facebook_messenger and
// web_connectivity tests (queries, tcp_connect, tls_handshakes, requests,
// web_connectivity's control) become meoktong records, one per endpoint OONI
// measured, with OUR verdict from the verdict engine and OONI's own blocking
// keys beside it (Record::ooni). docs/ooni.md says how each test maps.
// Measurements meoktong exported (`export --format ooni`, test "meoktong")
// read back as the records they came from. The probe's IP never survives.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "meoktong/record.hpp"

namespace meoktong::analyze {

// Maps one OONI measurement (one JSON object) onto `out` (cleared first).
// False with `why` (one line: "not JSON: ...", "OONI test 'dnscheck' is not
// read", ...) when it is not a measurement meoktong reads. Never throws.
bool read_ooni_measurement(std::string_view json, std::vector<Record>& out, std::string& why);

}  // namespace meoktong::analyze
