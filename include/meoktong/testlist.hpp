// What a test list is (docs/testlists.md): services with sourced targets,
// their required-ness and groups, plus canaries. The data model only: lists
// are read and validated by probe/lists/testlist.hpp.
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
    int rows_skipped = 0;        // Citizen Lab CSV rows that cannot be measured (skipped, warned)
};

inline constexpr const char* kTestListSchema = "meoktong.testlist/v1";

}  // namespace meoktong
