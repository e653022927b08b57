// Signal's provisioning WebSocket (probe/net/signal.hpp) against the scripted
// server of signal_test_server.hpp: the upgrade request, when a reply is
// whole, and the judgement (the first message genuine, Signal's own HTTP
// errors, a wrong accept, pages, other frames and messages, huge lengths).
#include <doctest/doctest.h>

#include "meoktong/failure.hpp"
#include "probe/net/signal.hpp"
#include "signal_test_server.hpp"

using namespace meoktong;
using testing::answer;
using testing::bytes_of;
using testing::first_message;
using testing::server_frame;
using testing::websocket_request;

namespace {

const std::array<uint8_t, 16> kKeyBytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

TEST_CASE("signal: the upgrade request asks for the provisioning socket with a fresh key") {
    auto up = signal::upgrade_request("chat.signal.org", kKeyBytes);
    CHECK(up.key == "AQIDBAUGBwgJCgsMDQ4PEA==");  // RFC 6455 §4.1: base64 of the 16 bytes
    auto req = testing::read_upgrade_request(up.request);
    REQUIRE(req);
    CHECK(req->request_line == "GET /v1/websocket/provisioning/ HTTP/1.1");
    CHECK(req->headers["host"] == "chat.signal.org");
    CHECK(req->headers["upgrade"] == "websocket");
    CHECK(req->headers["connection"] == "Upgrade");
    CHECK(req->headers["sec-websocket-key"] == up.key);
    CHECK(req->headers["sec-websocket-version"] == "13");
    CHECK(req->headers["user-agent"].rfind("meoktong/", 0) == 0);
    CHECK(req->headers.count("authorization") == 0);
}

TEST_CASE("signal: the accept value of RFC 6455's own example is what the server computes") {
    CHECK(testing::accept_value("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    auto reply = testing::switching_protocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    reply = concat(reply, first_message());
    CHECK(signal::judge_reply(reply, "dGhlIHNhbXBsZSBub25jZQ==").genuine);
}

TEST_CASE("signal: the first provisioning message is genuine and its address stays out of the detail") {
    auto up = signal::upgrade_request("chat.signal.org", kKeyBytes);
    auto reply = answer(up.request, first_message());
    CHECK(signal::reply_complete(reply));
    auto j = signal::judge_reply(reply, up.key);
    CHECK(j.genuine);
    CHECK_FALSE(j.failure);
    CHECK(j.detail == "provisioning address received");
    CHECK(j.detail.find(testing::kSampleAddress) == std::string::npos);
    // What follows the first frame (here a ping) is not read.
    CHECK(signal::judge_reply(concat(reply, server_frame(0x9, {})), up.key).genuine);
}

TEST_CASE("signal: a reply is whole once the head and one frame are in, or the head is not a 101") {
    auto up = signal::upgrade_request("chat.signal.org", kKeyBytes);
    auto reply = answer(up.request, first_message());
    auto head_bytes = answer(up.request, {}).size();
    CHECK_FALSE(signal::reply_complete(std::span(reply).first(10)));
    CHECK_FALSE(signal::reply_complete(std::span(reply).first(head_bytes)));
    CHECK_FALSE(signal::reply_complete(std::span(reply).first(head_bytes + 1)));
    CHECK_FALSE(signal::reply_complete(std::span(reply).first(reply.size() - 1)));
    auto cut = signal::judge_reply(std::span(reply).first(reply.size() - 1), up.key);
    CHECK_FALSE(cut.genuine);
    CHECK(cut.failure == failure::kAppUnexpectedReply);
    CHECK(cut.detail.find("cut short") != std::string::npos);
    auto page = testing::http_error(403, "Forbidden", "<html>blocked</html>");
    CHECK(signal::reply_complete(std::span(page).first(page.size() - 5)));  // the head is enough
}

TEST_CASE("signal: Signal's 5xx and 429 are the provider's; other statuses are not the provisioning socket") {
    auto up = signal::upgrade_request("chat.signal.org", kKeyBytes);
    auto unavailable = signal::judge_reply(testing::http_error(503, "Service Unavailable", ""), up.key);
    CHECK(unavailable.genuine);
    CHECK(unavailable.failure == failure::kAppUnexpectedReply);
    CHECK(unavailable.detail == "HTTP 503 at the provisioning socket");
    auto limited = signal::judge_reply(testing::http_error(429, "Too Many Requests", ""), up.key);
    CHECK(limited.genuine);
    CHECK(limited.failure == failure::kAppUnexpectedReply);
    for (int status : {403, 404, 499, 200, 302}) {
        auto j = signal::judge_reply(testing::http_error(status, "Whatever", "<html>blocked</html>"), up.key);
        CHECK_FALSE(j.genuine);
        CHECK(j.failure == failure::kAppUnexpectedReply);
        CHECK(j.detail == "HTTP " + std::to_string(status) + " at the provisioning socket");
    }
}

TEST_CASE("signal: a 101 with the wrong accept or without the upgrade headers is not the server's") {
    auto up = signal::upgrade_request("chat.signal.org", kKeyBytes);
    auto wrong = concat(testing::switching_protocols(testing::accept_value("another key")), first_message());
    auto j = signal::judge_reply(wrong, up.key);
    CHECK_FALSE(j.genuine);
    CHECK(j.failure == failure::kAppUnexpectedReply);
    CHECK(j.detail == "HTTP 101 with a wrong Sec-WebSocket-Accept");
    auto bare = concat(bytes_of("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: " +
                                testing::accept_value(up.key) + "\r\n\r\n"),
                       first_message());
    CHECK(signal::judge_reply(bare, up.key).detail == "HTTP 101 without Upgrade: websocket");
}

TEST_CASE("signal: frames other than one binary message from the server are unexpected") {
    auto up = signal::upgrade_request("chat.signal.org", kKeyBytes);
    auto message = websocket_request(1, "PUT", "/v1/address", testing::provisioning_address(testing::kSampleAddress));
    auto judge = [&](const std::vector<uint8_t>& frames) {
        auto reply = answer(up.request, frames);
        CHECK(signal::reply_complete(reply));
        auto j = signal::judge_reply(reply, up.key);
        CHECK_FALSE(j.genuine);
        CHECK(j.failure == failure::kAppUnexpectedReply);
        return j.detail;
    };
    CHECK(judge(server_frame(0x1, message)) == "a text frame, not Signal's binary message");
    CHECK(judge(server_frame(0x8, {0x03, 0xf0, 'b', 'y', 'e'})) == "WebSocket close 1008 before the provisioning address");
    CHECK(judge(server_frame(0x8, {})) == "WebSocket close without a code before the provisioning address");
    CHECK(judge(server_frame(0x2, message, false)) == "a fragmented first message");
    CHECK(judge(server_frame(0x2, message, true, std::array<uint8_t, 4>{9, 8, 7, 6})) == "a masked frame from the server");
    CHECK(judge(server_frame(0x9, {})) == "a WebSocket frame of opcode 9 first");
    auto reserved = server_frame(0x2, message);
    reserved[0] |= 0x40;
    CHECK(judge(reserved) == "a WebSocket frame with reserved bits set");
    std::vector<uint8_t> overlong{0x82, 126, 0, 3, 1, 2, 3};  // a 3-byte length in the 16-bit form: RFC 6455 §5.2 forbids it
    CHECK(judge(overlong) == "bytes after the 101 that are not a WebSocket frame");
}

TEST_CASE("signal: messages other than PUT /v1/address with an address are unexpected") {
    auto up = signal::upgrade_request("chat.signal.org", kKeyBytes);
    auto judge = [&](const std::vector<uint8_t>& message) {
        auto j = signal::judge_reply(answer(up.request, server_frame(0x2, message)), up.key);
        CHECK_FALSE(j.genuine);
        CHECK(j.failure == failure::kAppUnexpectedReply);
        return j.detail;
    };
    auto address = testing::provisioning_address(testing::kSampleAddress);
    CHECK(judge(websocket_request(1, "PUT", "/v1/message", address)) == "the request PUT /v1/message, not PUT /v1/address");
    CHECK(judge(websocket_request(1, "GET", "/v1/address", address)) == "the request GET /v1/address, not PUT /v1/address");
    CHECK(judge(websocket_request(2, "PUT", "/v1/address", address)) == "a WebSocketMessage of type 2, not a request");
    CHECK(judge(websocket_request(1, "PUT", "/v1/address", testing::provisioning_address(""))) ==
          "an empty provisioning address");
    CHECK(judge(websocket_request(1, "PUT", "/v1/address", {})) == "an empty provisioning address");
    CHECK(judge(websocket_request(1, "PUT", "/v1/address", {0x0a, 0x05, 'a'})) ==
          "a PUT /v1/address whose body is not a ProvisioningAddress");
    CHECK(judge(bytes_of("<html>not protobuf</html>")) == "a binary message that is not a WebSocketMessage");
    CHECK(judge({0x08, 0x01}) == "a WebSocketMessage of type 1, not a request");
}

TEST_CASE("signal: unknown protobuf fields are skipped, as protobuf's own parser does") {
    auto up = signal::upgrade_request("chat.signal.org", kKeyBytes);
    auto message = websocket_request(1, "PUT", "/v1/address", testing::provisioning_address(testing::kSampleAddress));
    testing::pb_uint(message, 15, 7);                      // an unknown varint field
    testing::pb_bytes(message, 3, bytes_of("response?"));  // an unknown response: skipped too
    CHECK(signal::judge_reply(answer(up.request, server_frame(0x2, message)), up.key).genuine);
}

TEST_CASE("signal: huge lengths are bounded, never read") {
    auto up = signal::upgrade_request("chat.signal.org", kKeyBytes);
    auto huge = answer(up.request, server_frame(0x2, {1, 2, 3}, true, std::nullopt, uint64_t{1} << 40));
    CHECK(signal::reply_complete(huge));
    auto j = signal::judge_reply(huge, up.key);
    CHECK_FALSE(j.genuine);
    CHECK(j.detail == "a WebSocket frame of 1099511627776 bytes announced");
    // A protobuf length far past the message's end.
    std::vector<uint8_t> message{0x08, 0x01, 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a};
    CHECK(signal::judge_reply(answer(up.request, server_frame(0x2, message)), up.key).detail ==
          "a binary message that is not a WebSocketMessage");
    // A head that never ends.
    std::vector<uint8_t> endless = bytes_of("HTTP/1.1 101 Switching Protocols\r\n");
    endless.resize(signal::kMaxHeadBytes, 'x');
    CHECK(signal::reply_complete(endless));
    CHECK(signal::judge_reply(endless, up.key).detail == "no HTTP response head in 8192 bytes");
    CHECK(signal::judge_reply(bytes_of("SSH-2.0-OpenSSH\r\n\r\n"), up.key).detail == "not an HTTP response");
}
