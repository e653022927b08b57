// The report_id of an OONI collector's answer to POST /report (bk-003 §3.1):
// taken from a compliant answer, refused (nothing) for everything else.
#include <doctest/doctest.h>

#include "probe/ops/upload.hpp"

using namespace meoktong;

TEST_CASE("ooni_report_id: the report_id of a compliant answer, nothing for anything else") {
    CHECK(ooni_report_id(R"({"backend_version": "1.3.0", "report_id": "r1_abc", "supported_formats": ["json"]})") ==
          std::optional<std::string>("r1_abc"));
    for (const char* bad : {"", "not json", "[]", R"({"report_id": ""})", R"({"report_id": 7})",
                            R"({"status": "success"})", R"({"report_id": "x")"}) {
        CAPTURE(bad);
        CHECK(!ooni_report_id(bad));
    }
}
