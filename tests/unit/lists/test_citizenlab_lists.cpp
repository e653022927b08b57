// Every Citizen Lab test list as published (../shared/data/citizenlab-test-lists,
// read in place): each country, region and global list loads, none is refused,
// rows that cannot be measured are counted; the 00-LEGEND tables are refused
// as not being lists. Skips with a message when the data folder is absent.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "meoktong/target.hpp"
#include "probe/lists/testlist.hpp"

using namespace meoktong;
namespace fs = std::filesystem;

TEST_CASE("every published Citizen Lab list loads, unusable rows counted, none refused") {
    const fs::path dir = MEOKTONG_CITIZENLAB_LISTS;
    if (!fs::is_directory(dir)) {
        MESSAGE("skipped: no Citizen Lab lists at " << dir.string());
        return;
    }
    std::vector<fs::path> lists, legends;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".csv") continue;
        (entry.path().filename().string().starts_with("00-LEGEND-") ? legends : lists).push_back(entry.path());
    }
    REQUIRE(lists.size() > 100);
    REQUIRE(legends.size() >= 2);
    size_t targets = 0;
    int skipped = 0;
    for (const auto& path : lists) {
        CAPTURE(path.string());
        TestList list;
        CHECK_NOTHROW(list = load_list(path.string()));
        CHECK(!list.services.empty());
        for (const auto& s : list.services) targets += s.targets.size();
        CHECK(list.rows_skipped >= 0);
        skipped += list.rows_skipped;
    }
    MESSAGE(lists.size() << " lists, " << targets << " targets, " << skipped << " rows skipped");
    CHECK(targets > 10000);
    for (const auto& path : legends) {
        CAPTURE(path.string());
        try {
            load_list(path.string());
            FAIL("a legend table was read as a list");
        } catch (const InputError& e) {
            CHECK(std::string(e.what()).find("not a Citizen Lab header") != std::string::npos);
        }
    }
}
