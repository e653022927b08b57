// Signal's provisioning WebSocket (signal.hpp). Facts from signalapp/Signal-Server:
// ProvisioningConnectListener.java (on connect the server sends the request
// PUT /v1/address, headers ["X-Signal-Timestamp:<ms>"], body a ProvisioningAddress
// holding 16 random bytes in URL-safe base64), websocket-resources'
// WebSocketProtocol.proto and service's TextSecure.proto (the messages below,
// proto2), WhisperServerService.java (the servlet path, no authentication on
// it), RemoteDeprecationFilter.java (an unrecognised User-Agent is let
// through); from signalapp/libsignal rust/net/src/env.rs (the same path, no
// query) and rust/net/src/proto/chat_websocket.proto, chat_provisioning.proto.
// The handshake checks are RFC 6455 §4.1 and §4.2.2.
#include "probe/net/signal.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <openssl/evp.h>
#include <wslay/wslay.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string_view>

#include "meoktong/failure.hpp"
#include "meoktong/record.hpp"

namespace meoktong::signal {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::internal::WireFormatLite;

constexpr std::string_view kHeadEnd = "\r\n\r\n";
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 §1.3

// WebSocketMessage (WebSocketProtocol.proto): type = 1, request = 2; Type REQUEST = 1.
constexpr uint32_t kMessageTypeField = 1;
constexpr uint32_t kMessageRequestField = 2;
constexpr uint32_t kTypeRequest = 1;
// WebSocketRequestMessage: verb = 1, path = 2, body = 3 (headers = 5, id = 4 are not read).
constexpr uint32_t kRequestVerbField = 1;
constexpr uint32_t kRequestPathField = 2;
constexpr uint32_t kRequestBodyField = 3;
// ProvisioningAddress (TextSecure.proto): address = 1.
constexpr uint32_t kAddressField = 1;

constexpr uint32_t tag_of(uint32_t field, WireFormatLite::WireType type) { return field << 3 | type; }
constexpr auto kLengthDelimited = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;

Judgement unexpected(std::string detail) { return {false, failure::kAppUnexpectedReply, std::move(detail)}; }

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Server-chosen text in a detail: printable ASCII only, and short.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    return out;
}

std::string base64(std::span<const uint8_t> bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
}

// RFC 6455 §4.2.2: base64(SHA-1(key + GUID)).
std::string expected_accept(const std::string& key) {
    std::string input = key + std::string(kAcceptGuid);
    std::array<uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1) return "";
    return base64(std::span(digest).first(length));
}

struct ResponseHead {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    size_t bytes = 0;                                          // through the blank line

    std::optional<std::string_view> header(std::string_view name) const {
        for (const auto& [n, v] : headers)
            if (n == name) return std::string_view(v);
        return std::nullopt;
    }
};

// Where the head ends (after its blank line) within the bound, if it does.
std::optional<size_t> head_length(std::span<const uint8_t> reply) {
    std::string_view text(reinterpret_cast<const char*>(reply.data()), std::min(reply.size(), kMaxHeadBytes));
    size_t at = text.find(kHeadEnd);
    if (at == std::string_view::npos) return std::nullopt;
    return at + kHeadEnd.size();
}

// The status line ("HTTP/1.x NNN reason") and the header lines of a whole head.
std::optional<ResponseHead> parse_head(std::span<const uint8_t> reply) {
    auto length = head_length(reply);
    if (!length) return std::nullopt;
    std::string_view text(reinterpret_cast<const char*>(reply.data()), *length - kHeadEnd.size());
    size_t line_end = text.find("\r\n");
    std::string_view status_line = text.substr(0, line_end);
    auto digit = [&](size_t i) { return std::isdigit(static_cast<unsigned char>(status_line[i])) != 0; };
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || !digit(7) || status_line[8] != ' ' ||
        (status_line.size() > 12 && status_line[12] != ' '))
        return std::nullopt;
    ResponseHead head;
    head.bytes = *length;
    for (size_t i = 9; i < 12; ++i) {
        if (!digit(i)) return std::nullopt;
        head.status = head.status * 10 + (status_line[i] - '0');
    }
    while (line_end != std::string_view::npos) {
        text.remove_prefix(line_end + 2);
        line_end = text.find("\r\n");
        std::string_view line = text.substr(0, line_end);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return std::nullopt;
        head.headers.emplace_back(lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    }
    return head;
}

// True when the comma-separated `value` holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        size_t comma = value.find(',');
        if (lower(trim(value.substr(0, comma))) == token) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

// The first WebSocket frame after the head, read by wslay from the buffered bytes.
struct Frame {
    enum class State { kIncomplete, kWhole, kNotWebSocket, kTooLarge } state = State::kIncomplete;
    bool fin = false;
    bool masked = false;
    uint8_t rsv = 0;
    uint8_t opcode = 0;
    uint64_t announced = 0;
    std::vector<uint8_t> payload;
};

struct Buffered {
    std::span<const uint8_t> bytes;
    size_t taken = 0;
};

ssize_t feed_wslay(uint8_t* buf, size_t len, int /*flags*/, void* user_data) {
    auto* in = static_cast<Buffered*>(user_data);
    size_t n = std::min(len, in->bytes.size() - in->taken);
    std::copy_n(in->bytes.begin() + static_cast<std::ptrdiff_t>(in->taken), n, buf);
    in->taken += n;
    return static_cast<ssize_t>(n);  // 0 once drained: wslay then wants more (WSLAY_ERR_WANT_READ)
}

Frame first_frame(std::span<const uint8_t> bytes) {
    Frame frame;
    Buffered in{bytes};
    wslay_frame_callbacks callbacks{nullptr, feed_wslay, nullptr};
    wslay_frame_context_ptr raw = nullptr;
    if (wslay_frame_context_init(&raw, &callbacks, &in) != 0) return frame;  // out of memory: read as cut short
    std::unique_ptr<wslay_frame_context, decltype(&wslay_frame_context_free)> ctx(raw, wslay_frame_context_free);
    // Each successful call hands over at least one payload byte, or the whole
    // (possibly empty) payload: the loop ends within kMaxMessageBytes calls.
    for (;;) {
        wslay_frame_iocb iocb{};
        ssize_t r = wslay_frame_recv(ctx.get(), &iocb);
        if (r == WSLAY_ERR_WANT_READ) return frame;
        if (r < 0) {
            frame.state = Frame::State::kNotWebSocket;
            return frame;
        }
        frame.fin = iocb.fin != 0;
        frame.masked = iocb.mask != 0;
        frame.rsv = iocb.rsv;
        frame.opcode = iocb.opcode;
        frame.announced = iocb.payload_length;
        if (iocb.payload_length > kMaxMessageBytes) {
            frame.state = Frame::State::kTooLarge;
            return frame;
        }
        frame.payload.insert(frame.payload.end(), iocb.data, iocb.data + iocb.data_length);
        if (frame.payload.size() >= iocb.payload_length) {
            frame.state = Frame::State::kWhole;
            return frame;
        }
    }
}

// A length-delimited field's bytes, its length bounded by what is left.
bool read_bytes(CodedInputStream& in, size_t total, std::string& out) {
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) return false;
    if (length > total - static_cast<size_t>(in.CurrentPosition())) return false;
    return in.ReadString(&out, static_cast<int>(length));
}

// Reads the fields of one protobuf message, calling `field(tag, in)` for each
// one; it returns false to fail the parse, or skips fields it does not take
// (proto2: unknown fields and known ones of another wire type are skipped).
template <typename OnField>
bool parse_message(std::span<const uint8_t> bytes, OnField field) {
    if (bytes.size() > kMaxMessageBytes) return false;
    CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
    while (uint32_t tag = in.ReadTag()) {
        std::optional<bool> taken = field(tag, in, bytes.size());
        if (taken ? !*taken : !WireFormatLite::SkipField(&in, tag)) return false;
    }
    return in.ConsumedEntireMessage();
}

std::span<const uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Request {
    std::string verb, path, body;
};

struct Message {
    std::optional<uint32_t> type;
    std::optional<Request> request;
};

// A later occurrence of a field overrides an earlier one, and repeated
// embedded messages merge, as protobuf's parsers do.
bool parse_request(std::span<const uint8_t> bytes, Request& request) {
    return parse_message(bytes, [&](uint32_t tag, CodedInputStream& in, size_t total) -> std::optional<bool> {
        if (tag == tag_of(kRequestVerbField, kLengthDelimited)) return read_bytes(in, total, request.verb);
        if (tag == tag_of(kRequestPathField, kLengthDelimited)) return read_bytes(in, total, request.path);
        if (tag == tag_of(kRequestBodyField, kLengthDelimited)) return read_bytes(in, total, request.body);
        return std::nullopt;
    });
}

std::optional<Message> parse_websocket_message(std::span<const uint8_t> bytes) {
    Message message;
    bool ok = parse_message(bytes, [&](uint32_t tag, CodedInputStream& in, size_t total) -> std::optional<bool> {
        if (tag == tag_of(kMessageTypeField, WireFormatLite::WIRETYPE_VARINT)) {
            uint32_t type = 0;
            if (!in.ReadVarint32(&type)) return false;
            message.type = type;
            return true;
        }
        if (tag == tag_of(kMessageRequestField, kLengthDelimited)) {
            std::string nested;
            if (!read_bytes(in, total, nested)) return false;
            if (!message.request) message.request.emplace();
            return parse_request(as_bytes(nested), *message.request);
        }
        return std::nullopt;
    });
    if (!ok) return std::nullopt;
    return message;
}

std::optional<std::string> parse_provisioning_address(std::span<const uint8_t> bytes) {
    std::string address;
    bool ok = parse_message(bytes, [&](uint32_t tag, CodedInputStream& in, size_t total) -> std::optional<bool> {
        if (tag == tag_of(kAddressField, kLengthDelimited)) return read_bytes(in, total, address);
        return std::nullopt;
    });
    if (!ok) return std::nullopt;
    return address;
}

Judgement judge_frame(const Frame& frame, size_t after_head) {
    switch (frame.state) {
    case Frame::State::kIncomplete:
        return unexpected("a WebSocket frame cut short (" + std::to_string(after_head) + " bytes after the 101)");
    case Frame::State::kNotWebSocket:
        return unexpected("bytes after the 101 that are not a WebSocket frame");
    case Frame::State::kTooLarge:
        return unexpected("a WebSocket frame of " + std::to_string(frame.announced) + " bytes announced");
    case Frame::State::kWhole:
        break;
    }
    if (frame.masked) return unexpected("a masked frame from the server");
    if (frame.rsv != 0) return unexpected("a WebSocket frame with reserved bits set");
    if (frame.opcode == WSLAY_CONNECTION_CLOSE) {
        if (frame.payload.size() < 2) return unexpected("WebSocket close without a code before the provisioning address");
        int code = frame.payload[0] << 8 | frame.payload[1];
        return unexpected("WebSocket close " + std::to_string(code) + " before the provisioning address");
    }
    if (frame.opcode == WSLAY_TEXT_FRAME) return unexpected("a text frame, not Signal's binary message");
    if (frame.opcode != WSLAY_BINARY_FRAME)
        return unexpected("a WebSocket frame of opcode " + std::to_string(frame.opcode) + " first");
    if (!frame.fin) return unexpected("a fragmented first message");

    auto message = parse_websocket_message(frame.payload);
    if (!message) return unexpected("a binary message that is not a WebSocketMessage");
    if (message->type != kTypeRequest || !message->request)
        return unexpected("a WebSocketMessage of type " + std::to_string(message->type.value_or(0)) + ", not a request");
    const Request& request = *message->request;
    if (request.verb != "PUT" || request.path != "/v1/address")
        return unexpected("the request " + printable(request.verb) + " " + printable(request.path) +
                          ", not PUT /v1/address");
    auto address = parse_provisioning_address(as_bytes(request.body));
    if (!address) return unexpected("a PUT /v1/address whose body is not a ProvisioningAddress");
    if (address->empty()) return unexpected("an empty provisioning address");
    return {true, std::nullopt, "provisioning address received"};
}

Judgement judge(std::span<const uint8_t> reply, const std::string& key) {
    auto head = parse_head(reply);
    if (!head) {
        if (!head_length(reply)) return unexpected("no HTTP response head in " + std::to_string(reply.size()) + " bytes");
        return unexpected("not an HTTP response");
    }
    std::string status = "HTTP " + std::to_string(head->status) + " at the provisioning socket";
    if (head->status >= 500 || head->status == 429) return {true, failure::kAppUnexpectedReply, status};
    if (head->status != 101) return unexpected(status);
    auto upgrade = head->header("upgrade");
    auto connection = head->header("connection");
    if (!upgrade || lower(*upgrade) != "websocket" || !connection || !has_token(*connection, "upgrade"))
        return unexpected("HTTP 101 without Upgrade: websocket");
    auto accept = head->header("sec-websocket-accept");
    if (!accept || *accept != expected_accept(key)) return unexpected("HTTP 101 with a wrong Sec-WebSocket-Accept");
    auto after_head = reply.subspan(head->bytes);
    return judge_frame(first_frame(after_head), after_head.size());
}

}  // namespace

Upgrade upgrade_request(const std::string& host, const std::array<uint8_t, 16>& key_bytes) {
    Upgrade out;
    out.key = base64(key_bytes);
    std::string text = std::string("GET ") + kProvisioningPath + " HTTP/1.1\r\n" +
                       "Host: " + host + "\r\n" +
                       "User-Agent: meoktong/" + kSoftwareVersion + "\r\n" +
                       "Upgrade: websocket\r\n" +
                       "Connection: Upgrade\r\n" +
                       "Sec-WebSocket-Key: " + out.key + "\r\n" +
                       "Sec-WebSocket-Version: 13\r\n\r\n";
    out.request.assign(text.begin(), text.end());
    return out;
}

bool reply_complete(std::span<const uint8_t> reply) {
    if (reply.size() >= kMaxReplyBytes) return true;
    auto length = head_length(reply);
    if (!length) return reply.size() >= kMaxHeadBytes;
    auto head = parse_head(reply);
    if (!head || head->status != 101) return true;
    return first_frame(reply.subspan(head->bytes)).state != Frame::State::kIncomplete;
}

Judgement judge_reply(std::span<const uint8_t> reply, const std::string& key) {
    try {
        return judge(reply, key);
    } catch (const std::exception& e) {
        return unexpected(std::string("reply not judged: ") + e.what());
    }
}

}  // namespace meoktong::signal
