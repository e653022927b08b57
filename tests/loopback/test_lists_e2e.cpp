// End to end: `meoktong lists FILE` on a Citizen Lab list with unusable rows
// warns on stderr about each (file and row, the line `run` logs) and counts
// them; --strict refuses the list; a clean list prints no warning.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "binary_run.hpp"

using namespace meoktong::testing;
namespace fs = std::filesystem;

namespace {

const std::string kLists = std::string(MEOKTONG_SOURCE_DIR) + "/tests/data/lists/";

struct Scratch {
    fs::path dir;
    Scratch() {
        char tmpl[] = "/tmp/meoktong-lists-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
    }
    ~Scratch() { fs::remove_all(dir); }
};

}  // namespace

TEST_CASE("meoktong lists FILE warns about each unusable Citizen Lab row (file, row) and counts them") {
    Scratch scratch;
    BinaryRun r = run_binary("lists " + kLists + "csv_empty_host.csv", scratch.dir);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find("level=warn event=list_row_skipped list=" + kLists + "csv_empty_host.csv row=3 ") !=
          std::string::npos);
    CHECK(r.err.find("http:///www.blackblocg.info") != std::string::npos);
    CHECK(r.out.find("2 services, 2 targets, 1 rows skipped (warnings on stderr)") != std::string::npos);
    CHECK(r.out.find("navalny.com") != std::string::npos);

    BinaryRun two = run_binary("lists " + kLists + "csv_idn_host.csv", scratch.dir);
    REQUIRE_MESSAGE(two.status == 0, two.err);
    CHECK(two.err.find("row=4 ") != std::string::npos);
    CHECK(two.out.find("1 rows skipped") != std::string::npos);
}

TEST_CASE("meoktong lists --strict refuses a list with an unusable row; a clean list has no warning") {
    Scratch scratch;
    BinaryRun strict = run_binary("lists --strict " + kLists + "csv_empty_host.csv", scratch.dir);
    CHECK(strict.status == 2);
    CHECK(std::count(strict.err.begin(), strict.err.end(), '\n') == 1);
    CHECK(strict.err.find("row 3") != std::string::npos);
    CHECK(strict.out.empty());

    BinaryRun clean = run_binary("lists " + kLists + "citizenlab_sample.csv", scratch.dir);
    REQUIRE_MESSAGE(clean.status == 0, clean.err);
    CHECK(clean.err.empty());
    CHECK(clean.out.find("rows skipped") == std::string::npos);

    BinaryRun none = run_binary("lists " + kLists + "csv_no_usable_row.csv", scratch.dir);
    CHECK(none.status == 2);
    CHECK(none.err.find("no usable row") != std::string::npos);
}
