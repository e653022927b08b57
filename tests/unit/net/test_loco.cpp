// LOCO's GETCONF booking exchange (probe/net/loco.hpp) against the scripted
// booking server of loco_test_server.hpp: the request's header and body, when
// a reply is whole, and the judgement (genuine, another packet id, an error
// status, a configuration without check-in endpoints, bytes that are not LOCO).
#include <doctest/doctest.h>

#include "loco_test_server.hpp"
#include "meoktong/failure.hpp"
#include "probe/net/loco.hpp"

using namespace meoktong;
using testing::getconf_answer;
using testing::loco_packet;

TEST_CASE("loco: the GETCONF request is one LOCO packet with the desktop client's keys") {
    auto packet = loco::getconf_request(0x01020304);
    auto req = testing::read_loco_request(packet);
    REQUIRE(req);
    CHECK(req->packet_id == 0x01020304);
    CHECK(req->method == "GETCONF");
    CHECK(req->body == nlohmann::json{{"MCCMNC", "999"}, {"os", "win32"}, {"model", ""}});
    CHECK(packet[17] == 0);  // body type: BSON
}

TEST_CASE("loco: a reply is whole once its announced body is in") {
    auto reply = loco_packet(7, "GETCONF", getconf_answer({"ticket-loco.kakao.com"}, {995}));
    CHECK_FALSE(loco::reply_complete(std::span(reply).first(21)));
    CHECK_FALSE(loco::reply_complete(std::span(reply).first(reply.size() - 1)));
    CHECK(loco::reply_complete(reply));
    std::vector<uint8_t> huge(22, 0);
    huge[21] = 0x10;  // 256 MB announced: whole (and then judged not LOCO)
    CHECK(loco::reply_complete(huge));
    CHECK(loco::judge_reply(huge, 0).failure == failure::kAppUnexpectedReply);
}

TEST_CASE("loco: a configuration answering our packet id is genuine and names its check-in endpoints") {
    auto j = loco::judge_reply(loco_packet(7, "GETCONF", getconf_answer({"ticket-loco.kakao.com", "10.1.2.3"}, {995, 443})), 7);
    CHECK(j.genuine);
    CHECK_FALSE(j.failure);
    REQUIRE(j.checkin.size() == 4);
    CHECK(j.checkin[0].host == "ticket-loco.kakao.com");
    CHECK(j.checkin[0].port == 995);
    CHECK(j.checkin[3].host == "10.1.2.3");
    CHECK(j.checkin[3].port == 443);
}

TEST_CASE("loco: the endpoints taken from one answer are capped") {
    auto j = loco::judge_reply(loco_packet(7, "GETCONF", getconf_answer({"a.kakao.com", "b.kakao.com", "c.kakao.com"},
                                                                        {1, 2, 3})), 7);
    CHECK(j.genuine);
    CHECK(j.checkin.size() == loco::kMaxCheckinEndpoints);
}

TEST_CASE("loco: another packet id is not genuine; an error status is the provider's") {
    auto other = loco::judge_reply(loco_packet(8, "GETCONF", getconf_answer({"ticket-loco.kakao.com"}, {995})), 7);
    CHECK_FALSE(other.genuine);
    CHECK(other.failure == failure::kAppNotGenuine);
    CHECK(other.checkin.empty());
    auto error = loco::judge_reply(loco_packet(7, "GETCONF", {{"status", -500}}), 7);
    CHECK(error.genuine);
    CHECK(error.failure == failure::kAppUnexpectedReply);
    CHECK(error.detail == "GETCONF status -500");
}

TEST_CASE("loco: what is not a well-formed GETCONF configuration is an unexpected reply") {
    auto judge = [](const std::vector<uint8_t>& bytes) { return loco::judge_reply(bytes, 7); };
    std::string page = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    for (const auto& bytes : {
             std::vector<uint8_t>(page.begin(), page.end()),
             loco_packet(7, "CHECKIN", getconf_answer({"ticket-loco.kakao.com"}, {995})),
             loco_packet(7, "GETCONF", {{"status", 0}}),
             loco_packet(7, "GETCONF", {{"status", "0"}}),
             loco_packet(7, "GETCONF", getconf_answer({"not a host!"}, {995})),
             loco_packet(7, "GETCONF", getconf_answer({"ticket-loco.kakao.com"}, {70000})),
             loco_packet(7, "GETCONF", getconf_answer({}, {995})),
         }) {
        auto j = judge(bytes);
        CHECK_FALSE(j.genuine);
        CHECK(j.failure == failure::kAppUnexpectedReply);
        CHECK(j.checkin.empty());
    }
    auto broken = loco_packet(7, "GETCONF", getconf_answer({"ticket-loco.kakao.com"}, {995}));
    broken[22] = 0xff;  // the BSON document's length no longer matches the body's
    CHECK(judge(broken).detail == "a GETCONF answer whose body is not BSON");
    broken = loco_packet(7, "GETCONF", getconf_answer({"ticket-loco.kakao.com"}, {995}));
    broken[26] = 0x7f;  // the first element's type is none of BSON's
    CHECK(judge(broken).detail == "a GETCONF answer whose body is not BSON");
}
