// MTProto's req_pq_multi exchange (probe/net/mtproto.*) against the scripted
// server of mtproto_test_server.hpp: both transports' framing, the resPQ
// judgement, and replies that are not a genuine server's.
#include <doctest/doctest.h>

#include "meoktong/failure.hpp"
#include "mtproto_test_server.hpp"
#include "probe/net/mtproto.hpp"

using namespace meoktong;
using meoktong::testing::MtprotoRequest;

namespace {

mtproto::Nonce nonce_of(uint8_t b) {
    mtproto::Nonce n;
    n.fill(b);
    return n;
}

mtproto::ObfuscationSeed seed_of(uint8_t b) {
    mtproto::ObfuscationSeed s;
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(b + i * 7);
    return mtproto::fix_seed(s);
}

}  // namespace

TEST_CASE("MTProto: a plain and an obfuscated req_pq_multi reach the server, and a resPQ echoing the nonce is genuine") {
    for (bool obfuscated : {false, true}) {
        CAPTURE(obfuscated);
        auto nonce = nonce_of(0x42);
        mtproto::Exchange ex(nonce, mtproto::message_id_at(1.7e9), obfuscated, seed_of(3));
        auto req = testing::read_request(ex.request());
        REQUIRE(req);
        CHECK(req->obfuscated == obfuscated);
        CHECK(req->constructor == 0xbe7e8ef1);
        CHECK(req->nonce == nonce);
        auto wire = testing::on_the_wire(*req, testing::respq_packet(req->nonce));
        CHECK_FALSE(ex.reply_complete(std::span(wire).first(wire.size() - 1)));
        CHECK(ex.reply_complete(wire));
        auto j = mtproto::judge_reply(ex.cleartext(wire), nonce);
        CHECK(j.genuine);
        CHECK_FALSE(j.failure);
    }
}

TEST_CASE("MTProto: the obfuscated header never looks like another protocol or transport") {
    mtproto::ObfuscationSeed s{};
    s[0] = 0xef;  // the abridged tag, and bytes 4..7 zero
    auto fixed = mtproto::fix_seed(s);
    CHECK(fixed[0] != 0xef);
    CHECK((fixed[4] | fixed[5] | fixed[6] | fixed[7]) != 0);
    for (const char* start : {"HEAD", "POST", "GET ", "OPTI"}) {
        mtproto::ObfuscationSeed t{};
        std::copy_n(start, 4, t.begin());
        t[4] = 1;
        auto f = mtproto::fix_seed(t);
        CHECK(std::string(f.begin(), f.begin() + 4) != start);
    }
    mtproto::ObfuscationSeed tag{};
    tag.fill(0xee);
    auto f = mtproto::fix_seed(tag);
    CHECK_FALSE((f[0] == 0xee && f[1] == 0xee && f[2] == 0xee && f[3] == 0xee));
    CHECK(f[0] != 0xef);
    CHECK(mtproto::message_id_at(1.7e9) % 4 == 0);
}

TEST_CASE("MTProto: replies that are not a genuine server's answer to our nonce") {
    auto nonce = nonce_of(0x11);
    mtproto::Exchange ex(nonce, 4, false, seed_of(1));
    SUBCASE("a resPQ to another nonce is not genuine") {
        auto j = mtproto::judge_reply(testing::respq_packet(nonce_of(0x12)), nonce);
        CHECK_FALSE(j.genuine);
        CHECK(j.failure == failure::kAppNotGenuine);
    }
    SUBCASE("a transport error") {
        std::vector<uint8_t> error = {4, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff};  // -404
        auto j = mtproto::judge_reply(error, nonce);
        CHECK(j.failure == failure::kAppUnexpectedReply);
        CHECK(j.detail == "transport error -404");
    }
    SUBCASE("an HTTP answer from a middlebox") {
        std::string http = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        std::vector<uint8_t> bytes(http.begin(), http.end());
        CHECK(ex.reply_complete(bytes));  // an absurd length: stop reading
        auto j = mtproto::judge_reply(bytes, nonce);
        CHECK_FALSE(j.genuine);
        CHECK(j.failure == failure::kAppUnexpectedReply);
    }
    SUBCASE("a truncated resPQ, and one with a broken fingerprint vector") {
        auto packet = testing::respq_packet(nonce);
        auto cut = std::vector<uint8_t>(packet.begin(), packet.end() - 5);
        CHECK(mtproto::judge_reply(cut, nonce).failure == failure::kAppUnexpectedReply);
        packet[packet.size() - 12] = 0xff;  // the vector's count
        CHECK(mtproto::judge_reply(packet, nonce).failure == failure::kAppUnexpectedReply);
    }
    SUBCASE("another constructor") {
        auto packet = testing::respq_packet(nonce);
        packet[24] = 0x00;
        auto j = mtproto::judge_reply(packet, nonce);
        CHECK(j.failure == failure::kAppUnexpectedReply);
        CHECK(j.detail.find("not resPQ") != std::string::npos);
    }
}
