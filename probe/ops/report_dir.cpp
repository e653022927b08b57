// The directory of --out (report_dir.hpp).
#include "probe/ops/report_dir.hpp"

#include <filesystem>

namespace meoktong {

std::string report_dir_of_output(const std::string& out) {
    namespace fs = std::filesystem;
    fs::path p(out.empty() ? "." : out);
    std::error_code ec;
    bool is_report_file = p.extension() == ".jsonl" && !fs::is_directory(p, ec);
    fs::path dir = is_report_file ? p.parent_path() : p;
    return dir.empty() ? "." : dir.string();
}

}  // namespace meoktong
