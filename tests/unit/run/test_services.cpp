// Per-service outcome: required endpoints, groups of alternatives, optional
// endpoints, ad-hoc targets, canaries, and the summary sentence.
#include <doctest/doctest.h>

#include <string>

#include "analysis/verdict/services.hpp"
#include "probe/lists/testlist.hpp"

using namespace meoktong;

namespace {

TestList whatsapp_list() {
    return parse_list(R"({"name":"t","version":"1","services":[
      {"name":"whatsapp","display_name":"WhatsApp","targets":[
        {"host":"e1.whatsapp.net","port":443,"protocol":"tcp","role":"messaging","group":"chat","sources":["s"]},
        {"host":"e2.whatsapp.net","port":443,"protocol":"tcp","role":"messaging","group":"chat","sources":["s"]},
        {"host":"v.whatsapp.net","protocol":"https","path":"/v2/register","role":"login","sources":["s"]},
        {"host":"mmg.whatsapp.net","protocol":"tls","role":"media","required":false,"sources":["s"]}]},
      {"name":"viber","display_name":"Viber","targets":[
        {"host":"www.viber.com","protocol":"https","role":"web","required":false,"sources":["s"]},
        {"host":"dl-media.viber.com","protocol":"tls","role":"media","required":false,"sources":["s"]}]}]})",
                      "t.json");
}

Record record(const std::string& service, const std::string& host, uint16_t port, const std::string& protocol,
              const std::string& role, const std::string& status, const char* method = nullptr) {
    Record r;
    r.target.service = service;
    r.target.host = host;
    r.target.port = port;
    r.target.protocol = protocol;
    r.target.role = role;
    if (protocol == "https") r.target.path = "/v2/register";
    r.verdict.status = *parse_verdict_status(status);
    if (method) r.verdict.method = method;
    return r;
}

std::vector<Record> whatsapp_records(const std::string& e1, const std::string& e2, const std::string& reg,
                                     const std::string& mmg) {
    return {record("whatsapp", "e1.whatsapp.net", 443, "tcp", "messaging", e1, e1 == "blocked" ? "tcp_reset" : nullptr),
            record("whatsapp", "e2.whatsapp.net", 443, "tcp", "messaging", e2, e2 == "blocked" ? "tcp_reset" : nullptr),
            record("whatsapp", "v.whatsapp.net", 443, "https", "login", reg),
            record("whatsapp", "mmg.whatsapp.net", 443, "tls", "media", mmg)};
}

ServiceOutcome only(const std::vector<ServiceOutcome>& outcomes) {
    REQUIRE(outcomes.size() == 1);
    return outcomes[0];
}

}  // namespace

TEST_CASE("one dead media server does not make WhatsApp blocked") {
    auto s = only(service_outcomes(whatsapp_records("accessible", "accessible", "accessible", "inconclusive"),
                                   {whatsapp_list()}));
    CHECK(s.status == "reachable");
    CHECK(s.display_name == "WhatsApp");
    CHECK(s.summary == "WhatsApp: reachable; media endpoint mmg.whatsapp.net failing (inconclusive)");
    CHECK(s.endpoints == 4);
    CHECK(s.accessible == 3);
    CHECK(s.counts[VerdictStatus::accessible] == 3);
    CHECK(s.counts[VerdictStatus::inconclusive] == 1);
    REQUIRE(s.endpoint_outcomes.size() == 4);
    CHECK_FALSE(s.endpoint_outcomes[3].required);
    CHECK(s.endpoint_outcomes[0].group == "chat");
}

TEST_CASE("a group of alternatives needs only one member") {
    auto s = only(service_outcomes(whatsapp_records("blocked", "accessible", "accessible", "accessible"),
                                   {whatsapp_list()}));
    CHECK(s.status == "reachable");
    CHECK(s.summary.find("messaging endpoint e1.whatsapp.net:443 failing (blocked: tcp_reset)") != std::string::npos);
}

TEST_CASE("every member of a required group failing decides the status") {
    auto s = only(service_outcomes(whatsapp_records("blocked", "blocked", "accessible", "accessible"),
                                   {whatsapp_list()}));
    CHECK(s.status == "blocked");
    CHECK(s.summary ==
          "WhatsApp: blocked; messaging endpoints e1.whatsapp.net:443, e2.whatsapp.net:443 all failing "
          "(blocked: tcp_reset); 2 of 4 endpoints accessible");
}

TEST_CASE("the worst unmet requirement wins: blocked over provider_down over inconclusive") {
    auto s = only(service_outcomes(whatsapp_records("provider_down", "provider_down", "blocked", "accessible"),
                                   {whatsapp_list()}));
    CHECK(s.status == "blocked");
    CHECK(s.summary.find("login endpoint v.whatsapp.net failing (blocked)") != std::string::npos);
    CHECK(s.summary.find("messaging endpoints") != std::string::npos);

    auto down = only(service_outcomes(whatsapp_records("accessible", "accessible", "provider_down", "blocked"),
                                      {whatsapp_list()}));
    CHECK(down.status == "provider_down");  // the blocked endpoint is optional media

    auto local = only(service_outcomes(whatsapp_records("local_failure", "inconclusive", "inconclusive", "accessible"),
                                       {whatsapp_list()}));
    CHECK(local.status == "local_failure");
}

TEST_CASE("a service whose endpoints are all optional is reachable when any works") {
    std::vector<Record> records = {record("viber", "www.viber.com", 443, "https", "web", "blocked", "http_blockpage"),
                                   record("viber", "dl-media.viber.com", 443, "tls", "media", "accessible")};
    records[0].target.path = "/";
    auto s = only(service_outcomes(records, {whatsapp_list()}));
    CHECK(s.status == "reachable");
    records[1].verdict.status = VerdictStatus::provider_down;
    auto failing = only(service_outcomes(records, {whatsapp_list()}));
    CHECK(failing.status == "blocked");
}

TEST_CASE("ad-hoc targets count as required; canaries are left out; order follows the records") {
    std::vector<Record> records = {
        record("adhoc", "example.org", 443, "tls", "", "provider_down", "tcp_refused"),
        record("canary", "www.google.com", 443, "tls", "canary", "blocked"),
        record("adhoc", "example.net", 443, "tls", "", "accessible"),
    };
    records[1].target.canary = true;
    records.push_back(whatsapp_records("accessible", "accessible", "accessible", "accessible")[0]);
    auto outcomes = service_outcomes(records, {whatsapp_list()});
    REQUIRE(outcomes.size() == 2);
    CHECK(outcomes[0].service == "adhoc");
    CHECK(outcomes[0].display_name == "adhoc");
    CHECK(outcomes[0].status == "provider_down");
    CHECK(outcomes[0].summary ==
          "adhoc: provider_down; endpoint example.org failing (provider_down: tcp_refused); 1 of 2 endpoints accessible");
    CHECK(outcomes[1].service == "whatsapp");
    CHECK(outcomes[1].status == "reachable");
    CHECK(outcomes[1].summary == "WhatsApp: reachable (1 of 1 endpoints accessible)");
}

TEST_CASE("long lists of failing endpoints are capped in the sentence") {
    std::vector<Record> records;
    for (int i = 1; i <= 5; ++i)
        records.push_back(record("adhoc", "h" + std::to_string(i) + ".example.org", 443, "tls", "web", "blocked"));
    auto s = only(service_outcomes(records, {}));
    CHECK(s.status == "blocked");
    CHECK(s.summary.find("h3.example.org failing (blocked) and 2 more;") != std::string::npos);
    CHECK(s.summary.find("h4.example.org") == std::string::npos);
}
