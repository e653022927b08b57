// The directory a run's --out names (a report file's folder, or the folder
// itself): where the run lock and the upload queue live beside the reports.
#pragma once

#include <string>

namespace meoktong {

// "reports/run.jsonl" -> "reports"; "reports" -> "reports"; "" -> ".".
std::string report_dir_of_output(const std::string& out);

}  // namespace meoktong
