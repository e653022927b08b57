// WhatsApp's Noise XX start (probe/net/whatsapp.hpp) against the scripted
// server of whatsapp_test_server.hpp: the request's bytes, when a reply is
// whole, and the judgement (a genuine chain; another root; a leaf that does
// not name the static key; wrong serials; a replayed or spoiled ServerHello;
// an expired chain; bytes that are not a ServerHello).
#include <doctest/doctest.h>

#include <string>

#include "meoktong/failure.hpp"
#include "probe/net/whatsapp.hpp"
#include "whatsapp_test_server.hpp"

using namespace meoktong;
namespace wa = meoktong::testing::wa;

namespace {

constexpr int64_t kNow = 1'700'000'000;

whatsapp::Key key_of(uint8_t seed) {
    whatsapp::Key k{};
    for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + 31 * i);
    return k;
}

whatsapp::Judgement judge_answer(const wa::ChainOptions& options, const whatsapp::Key* root = nullptr) {
    wa::Responder server;
    whatsapp::Handshake handshake(key_of(1));
    auto reply = server.answer(handshake.request(), options);
    REQUIRE(reply);
    return handshake.judge(*reply, root ? *root : server.root_public(), kNow);
}

void check_not_genuine(const whatsapp::Judgement& j, const std::string& detail) {
    CHECK_FALSE(j.genuine);
    CHECK(j.failure == failure::kAppNotGenuine);
    CHECK(j.detail == detail);
}

}  // namespace

TEST_CASE("whatsapp: the request is the WA header and one frame holding a ClientHello with our ephemeral key") {
    whatsapp::Handshake handshake(key_of(1));
    const auto& req = handshake.request();
    REQUIRE(req.size() > 7);
    CHECK(std::vector<uint8_t>(req.begin(), req.begin() + 4) == std::vector<uint8_t>{'W', 'A', 6, 3});
    size_t length = size_t{req[4]} << 16 | size_t{req[5]} << 8 | req[6];
    CHECK(req.size() == 7 + length);
    auto hello = wa::len_field(std::span(req).subspan(7), 2);
    REQUIRE(hello);
    auto ephemeral = wa::len_field(*hello, 1);
    REQUIRE(ephemeral);
    auto expected = wa::x25519_public_of(key_of(1));
    CHECK(*ephemeral == std::vector<uint8_t>(expected.begin(), expected.end()));
    CHECK_FALSE(wa::len_field(std::span(req).subspan(7), 4));  // no ClientFinish, ever
}

TEST_CASE("whatsapp: a reply is whole once its frame is in, or at once when it announces too much") {
    wa::Responder server;
    whatsapp::Handshake handshake(key_of(1));
    auto reply = server.answer(handshake.request());
    REQUIRE(reply);
    CHECK_FALSE(handshake.reply_complete(std::span(*reply).first(2)));
    CHECK_FALSE(handshake.reply_complete(std::span(*reply).first(reply->size() - 1)));
    CHECK(handshake.reply_complete(*reply));
    std::string page = "HTTP/1.1 403 Forbidden\r\n";
    CHECK(handshake.reply_complete(std::span(reinterpret_cast<const uint8_t*>(page.data()), 3)));
}

TEST_CASE("whatsapp: a ServerHello whose chain verifies against the root and names the static key is genuine") {
    auto j = judge_answer({});
    CHECK(j.genuine);
    CHECK_FALSE(j.failure);
    CHECK(j.detail == "the ServerHello's certificate chain verifies against the root key (intermediate serial 7, leaf serial 4242)");
}

TEST_CASE("whatsapp: a chain signed by another root is not genuine") {
    wa::Responder other;
    auto j = judge_answer({}, &other.root_public());
    check_not_genuine(j, "the intermediate certificate is not signed by the root key");
    auto published = whatsapp::Key{0x14, 0x23, 0x75, 0x57, 0x4d, 0x0a, 0x58, 0x71, 0x66, 0xaa, 0xe7, 0x1e, 0xbe, 0x51, 0x64, 0x37,
                                   0xc4, 0xa2, 0x8b, 0x73, 0xe3, 0x69, 0x5c, 0x6c, 0xe1, 0xf7, 0xf9, 0x54, 0x5d, 0xa8, 0xee, 0x6b};
    check_not_genuine(judge_answer({}, &published), "the intermediate certificate is not signed by the root key");
}

TEST_CASE("whatsapp: a leaf naming another key than the static one is not genuine") {
    wa::ChainOptions options;
    options.leaf_key = wa::x25519_public_of(key_of(9));
    check_not_genuine(judge_answer(options), "the leaf certificate's key is not the ServerHello's static key");
}

TEST_CASE("whatsapp: serials must chain: the intermediate's issuer is the root's 0, the leaf's the intermediate") {
    wa::ChainOptions options;
    options.intermediate_issuer = 1;
    check_not_genuine(judge_answer(options), "the intermediate certificate's issuer serial is 1, not 0");
    options = {};
    options.leaf_issuer = 8;
    check_not_genuine(judge_answer(options), "the leaf certificate's issuer serial is 8, not the intermediate's 7");
}

TEST_CASE("whatsapp: a ServerHello made for another client, or spoiled on the way, does not decrypt") {
    wa::Responder server;
    whatsapp::Handshake ours(key_of(1));
    whatsapp::Handshake theirs(key_of(2));
    auto replayed = server.answer(theirs.request());
    REQUIRE(replayed);
    check_not_genuine(ours.judge(*replayed, server.root_public(), kNow),
                      "the ServerHello's static key does not decrypt under the Noise keys");
    wa::ChainOptions options;
    options.corrupt_payload = true;
    check_not_genuine(judge_answer(options), "the ServerHello's payload does not decrypt under the Noise keys");
}

TEST_CASE("whatsapp: a chain outside its validity is the genuine server's fault") {
    wa::ChainOptions options;
    options.not_after = kNow - 1;
    auto j = judge_answer(options);
    CHECK(j.genuine);
    CHECK(j.failure == failure::kAppUnexpectedReply);
    CHECK(j.detail == "the intermediate certificate expired at " + std::to_string(kNow - 1));
    options = {};
    options.not_before = kNow + 1;
    CHECK(judge_answer(options).detail == "the intermediate certificate is not valid before " + std::to_string(kNow + 1));
}

TEST_CASE("whatsapp: a decrypted payload that is no certificate chain is not genuine") {
    wa::Responder server;
    auto key = server.static_public();
    std::vector<uint8_t> garbage = {0xff, 0xff, 0xff};
    check_not_genuine(whatsapp::judge_cert_chain(garbage, key, server.root_public(), kNow),
                      "the ServerHello's payload is not a CertChain");
    std::vector<uint8_t> empty;
    check_not_genuine(whatsapp::judge_cert_chain(empty, key, server.root_public(), kNow),
                      "a CertChain without a well-formed leaf and intermediate (details, signature)");
    auto chain = server.cert_chain({});
    CHECK(whatsapp::judge_cert_chain(chain, key, server.root_public(), kNow).genuine);
}

TEST_CASE("whatsapp: what is not a ServerHello frame is an unexpected reply") {
    whatsapp::Handshake handshake(key_of(1));
    auto judge = [&](const std::vector<uint8_t>& bytes) { return handshake.judge(bytes, key_of(5), kNow); };
    std::string page = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    wa::Responder server;
    auto whole = server.answer(handshake.request());
    REQUIRE(whole);
    std::vector<uint8_t> truncated(whole->begin(), whole->end() - 10);
    std::vector<uint8_t> own_hello(handshake.request().begin() + 4, handshake.request().end());  // a ClientHello echoed
    struct Case {
        std::vector<uint8_t> bytes;
        std::string detail;
    };
    for (const auto& c : {
             Case{std::vector<uint8_t>(page.begin(), page.end()), "a frame of 4740180 bytes announced, 42 received"},
             Case{{0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef}, "a frame that is not a HandshakeMessage"},
             Case{truncated, "a frame of " + std::to_string(whole->size() - 3) + " bytes announced, " +
                                 std::to_string(truncated.size() - 3) + " received"},
             Case{own_hello, "a HandshakeMessage without a ServerHello"},
             Case{{0x00, 0x00, 0x04, 0x1a, 0x02, 0x0a, 0x00}, "a ServerHello without its 32-byte ephemeral key, static key and payload"},
             Case{{0x00}, "a reply of 1 bytes"},
         }) {
        auto j = judge(c.bytes);
        CHECK_FALSE(j.genuine);
        CHECK(j.failure == failure::kAppUnexpectedReply);
        CHECK(j.detail == c.detail);
    }
}
