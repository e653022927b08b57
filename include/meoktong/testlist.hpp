// Test lists (testlists/*.json, documented in docs/testlists.md) and Citizen
// Lab CSV import: services with sourced targets, plus canaries.
#pragma once

#include <string>
#include <vector>

#include "meoktong/record.hpp"

namespace meoktong {

struct ListTarget {
    Target target;                      // service, role, cert_names, download_url filled in
    std::vector<std::string> sources;   // where the endpoint is documented or observed
    bool required = true;               // the app needs it: the service fails without it
    // Required targets sharing a group are alternatives (e.g. WhatsApp's
    // e1..e16 chat servers): the app needs any one of them. "" = no group.
    std::string group;
};

struct Service {
    std::string name;            // "kakaotalk"
    std::string display_name;    // "KakaoTalk"
    std::string description;
    std::vector<ListTarget> targets;
};

struct TestList {
    std::string name;
    std::string version;
    std::string description;
    std::string path;            // file it was read from
    std::vector<Service> services;
    std::vector<ListTarget> canaries;
};

inline constexpr const char* kTestListSchema = "meoktong.testlist/v1";

// A built-in list name ("messengers", "kr", "cn") or a path to a .json list
// or a Citizen Lab .csv. Throws InputError (one line: file, entry, problem).
TestList load_list(const std::string& name_or_path);
// Parses list text; `origin` names it in errors. Format chosen by content.
TestList parse_list(const std::string& text, const std::string& origin);
// Names of the built-in lists: the *.json files in testlists_dir() whose
// "schema" is kTestListSchema (other data files there are not test lists).
std::vector<std::string> builtin_list_names();
// Directory holding the built-in lists (next to the binary, installed, or the source tree).
std::string testlists_dir();

}  // namespace meoktong
