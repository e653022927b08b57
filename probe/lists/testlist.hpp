// The lists library (probe/lists/): reading and validating test lists, the
// built-in JSON lists, list files and Citizen Lab CSV, into core's types.
//
// Reading test lists: the built-in lists (testlists/*.json), list files given
// by path, and Citizen Lab CSV lists, validated with one-line errors naming
// the file, the entry and the problem (docs/testlists.md). The types are the
// core's (meoktong/testlist.hpp).
#pragma once

#include <string>
#include <vector>

#include "meoktong/testlist.hpp"

namespace meoktong {

struct ListOptions {
    // Citizen Lab CSV: refuse the list on its first unusable row instead of
    // skipping the row with a warning (`run --strict`).
    bool strict = false;
};

// A built-in list name ("messengers", "kr", "cn") or a path to a .json list
// or a Citizen Lab .csv. Throws InputError (one line: file, entry, problem).
// A Citizen Lab CSV is refused only when it is not one (header) or has no
// usable row; unusable rows are skipped, logged and counted in rows_skipped.
TestList load_list(const std::string& name_or_path, const ListOptions& options = {});
// Parses list text; `origin` names it in errors. Format chosen by content.
TestList parse_list(const std::string& text, const std::string& origin, const ListOptions& options = {});
// Names of the built-in lists: the *.json files in testlists_dir() whose
// "schema" is kTestListSchema (other data files there are not test lists).
std::vector<std::string> builtin_list_names();
// Directory holding the built-in lists (next to the binary, installed, or the source tree).
std::string testlists_dir();

}  // namespace meoktong
