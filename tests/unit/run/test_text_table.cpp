// The run's per-service lines: one dead optional endpoint does not make the
// service fail; a failing required endpoint does.
#include <doctest/doctest.h>

#include "meoktong/testlist.hpp"
#include "probe/run/text_table.hpp"

using namespace meoktong;

namespace {

Record record_for(const std::string& host, const std::string& status) {
    Record r;
    r.target.service = "whatsapp";
    r.target.host = host;
    r.target.port = 443;
    r.target.protocol = "tls";
    r.verdict.status = *parse_verdict_status(status);
    return r;
}

TestList whatsapp_list(bool media_required) {
    TestList list;
    Service s;
    s.name = "whatsapp";
    s.display_name = "WhatsApp";
    for (const char* host : {"g.whatsapp.net", "mmg.whatsapp.net"}) {
        ListTarget lt;
        lt.target = record_for(host, "").target;
        lt.target.role = std::string(host) == "g.whatsapp.net" ? "messaging" : "media";
        lt.sources = {"test"};
        lt.required = std::string(host) == "g.whatsapp.net" || media_required;
        s.targets.push_back(lt);
    }
    list.services.push_back(s);
    return list;
}

}  // namespace

TEST_CASE("a failing optional media endpoint leaves the service reachable") {
    std::vector<Record> records{record_for("g.whatsapp.net", "accessible"),
                                record_for("mmg.whatsapp.net", "inconclusive")};
    std::string text = render_services(records, {whatsapp_list(false)});
    CHECK(text.find("WhatsApp: reachable") != std::string::npos);
    CHECK(text.find("mmg.whatsapp.net") != std::string::npos);
}

TEST_CASE("a blocked required endpoint makes the service blocked") {
    std::vector<Record> records{record_for("g.whatsapp.net", "blocked"),
                                record_for("mmg.whatsapp.net", "accessible")};
    std::string text = render_services(records, {whatsapp_list(true)});
    CHECK(text.find("WhatsApp: reachable") == std::string::npos);
    CHECK(text.find("blocked") != std::string::npos);
}

TEST_CASE("no records, no service lines") { CHECK(render_services({}, {}).empty()); }
