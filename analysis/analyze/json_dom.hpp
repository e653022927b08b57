// Parsing one input unit (a JSONL line, or a file holding one JSON document)
// with simdjson's DOM: shared by the report-line reader and the OONI reader,
// so a unit is parsed once whichever format it turns out to be. Internal to
// the analyze library.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "analysis/analyze/analyze.hpp"

namespace meoktong::analyze {

// Parses `text`; the object stays valid until the next call on this thread.
// False with `why` ("not JSON: ...", "not a JSON object") otherwise.
bool parse_json_object(std::string_view text, simdjson::dom::object& root, std::string& why);

// True when `root` is an OONI measurement (df-000: test_name and test_keys)
// rather than a meoktong record.
bool is_ooni_measurement(const simdjson::dom::object& root);

// read_report_line on an object already parsed.
bool read_report_fields(const simdjson::dom::object& root, ReportLine& out, std::string& why);

// The records of one OONI measurement (ooni.hpp), from its parsed object.
bool ooni_records(const simdjson::dom::object& root, std::vector<Record>& out, std::string& why);

}  // namespace meoktong::analyze
