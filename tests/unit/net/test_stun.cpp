// STUN's Binding Request and the judgement of answers (probe/net/stun.*),
// with datagrams built here from RFC 8489's layout.
#include <doctest/doctest.h>

#include "meoktong/failure.hpp"
#include "probe/net/stun.hpp"

using namespace meoktong;

namespace {

stun::TransactionId id_of(uint8_t b) {
    stun::TransactionId id;
    id.fill(b);
    return id;
}

// A response of `type` to `id` carrying `attributes` (already padded).
std::vector<uint8_t> response(uint16_t type, const stun::TransactionId& id, std::vector<uint8_t> attributes = {}) {
    std::vector<uint8_t> out(20 + attributes.size());
    uint8_t header[8] = {uint8_t(type >> 8), uint8_t(type), uint8_t(attributes.size() >> 8),
                         uint8_t(attributes.size()), 0x21, 0x12, 0xa4, 0x42};
    std::copy(std::begin(header), std::end(header), out.begin());
    std::copy(id.begin(), id.end(), out.begin() + 8);
    std::copy(attributes.begin(), attributes.end(), out.begin() + 20);
    return out;
}

}  // namespace

TEST_CASE("STUN: a Binding Request is a bare 20-byte header with the magic cookie and our id") {
    auto id = id_of(7);
    auto req = stun::binding_request(id);
    REQUIRE(req.size() == 20);
    CHECK(req[0] == 0x00);
    CHECK(req[1] == 0x01);
    CHECK(req[2] == 0);
    CHECK(req[3] == 0);
    CHECK(req[4] == 0x21);
    CHECK(req[7] == 0x42);
    CHECK(std::equal(id.begin(), id.end(), req.begin() + 8));
    CHECK(stun::resend_schedule(5000) == std::vector<int>{500, 1500, 3500});
    CHECK(stun::resend_schedule(400).empty());
}

TEST_CASE("STUN: only a Binding response to our transaction id answers, and a success is genuine") {
    auto id = id_of(9);
    // XOR-MAPPED-ADDRESS, IPv4: what the probe never keeps.
    auto success = response(0x0101, id, {0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0x5e, 0x12, 0xa6, 0x43});
    CHECK(stun::answers(success, id));
    CHECK_FALSE(stun::answers(success, id_of(10)));
    CHECK_FALSE(stun::answers(response(0x0001, id), id));  // a request, not a response
    auto j = stun::judge_reply(success);
    CHECK(j.genuine);
    CHECK_FALSE(j.failure);
    auto no_cookie = success;
    no_cookie[4] = 0;
    CHECK_FALSE(stun::answers(no_cookie, id));
    CHECK_FALSE(stun::answers(std::vector<uint8_t>(success.begin(), success.begin() + 19), id));
}

TEST_CASE("STUN: an error response is a genuine server's refusal; a bad length is not the protocol") {
    auto id = id_of(1);
    auto error = response(0x0111, id, {0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x04, 0x01});  // 401
    REQUIRE(stun::answers(error, id));
    auto j = stun::judge_reply(error);
    CHECK(j.genuine);
    CHECK(j.failure == failure::kAppUnexpectedReply);
    CHECK(j.detail == "Binding Error 401");
    auto bad = response(0x0101, id, {0, 0, 0, 0});
    bad[3] = 8;  // claims more than it carries
    CHECK(stun::judge_reply(bad).failure == failure::kAppUnexpectedReply);
    CHECK_FALSE(stun::judge_reply(bad).genuine);
}
