// A scripted Signal provisioning server for unit tests, written from the
// public description (RFC 6455 §4.2 and §5.2; Signal-Server's
// ProvisioningConnectListener, WebSocketProtocol.proto, TextSecure.proto)
// independently of probe/net/signal.cpp: it reads the client's upgrade
// request, answers 101 with the accept value it computes itself (SHA-1 by
// OpenSSL, base64 by hand), and builds server frames and the protobuf bytes of
// the first message by hand.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meoktong::testing {

struct UpgradeRequest {
    std::string request_line;
    std::map<std::string, std::string> headers;  // names lower-cased
};

inline std::optional<UpgradeRequest> read_upgrade_request(std::span<const uint8_t> bytes) {
    std::string text(bytes.begin(), bytes.end());
    if (text.size() < 4 || text.substr(text.size() - 4) != "\r\n\r\n") return std::nullopt;
    UpgradeRequest r;
    size_t at = text.find("\r\n");
    r.request_line = text.substr(0, at);
    for (size_t next; (next = text.find("\r\n", at + 2)) != std::string::npos && next > at + 2; at = next) {
        std::string line = text.substr(at + 2, next - at - 2);
        size_t colon = line.find(':');
        if (colon == std::string::npos) return std::nullopt;
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t value = line.find_first_not_of(' ', colon + 1);
        r.headers[name] = value == std::string::npos ? "" : line.substr(value);
    }
    return r;
}

inline std::string base64_by_hand(const std::vector<uint8_t>& in) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t n = uint32_t{in[i]} << 16;
        if (i + 1 < in.size()) n |= uint32_t{in[i + 1]} << 8;
        if (i + 2 < in.size()) n |= in[i + 2];
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += i + 1 < in.size() ? alphabet[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? alphabet[n & 63] : '=';
    }
    return out;
}

// RFC 6455 §4.2.2 item 5.4.
inline std::string accept_value(const std::string& key) {
    std::string in = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::vector<uint8_t> digest(20);
    unsigned int n = 0;
    EVP_Digest(in.data(), in.size(), digest.data(), &n, EVP_sha1(), nullptr);
    return base64_by_hand(digest);
}

inline std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// The 101 a Jetty server like Signal's answers (the accept value as given).
inline std::vector<uint8_t> switching_protocols(const std::string& accept) {
    return bytes_of("HTTP/1.1 101 Switching Protocols\r\n"
                    "Date: Fri, 04 Dec 2026 23:16:17 GMT\r\n"
                    "connection: Upgrade\r\n"
                    "sec-websocket-accept: " + accept + "\r\n"
                    "upgrade: WebSocket\r\n"
                    "X-Signal-Timestamp: 1796426177000\r\n\r\n");
}

inline std::vector<uint8_t> http_error(int status, const std::string& reason, const std::string& body) {
    return bytes_of("HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: text/html\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body);
}

// One server-to-client frame (RFC 6455 §5.2): FIN as given, unmasked unless a
// key is given, the shortest length encoding unless `announced` overrides it.
inline std::vector<uint8_t> server_frame(uint8_t opcode, const std::vector<uint8_t>& payload, bool fin = true,
                                         std::optional<std::array<uint8_t, 4>> mask = std::nullopt,
                                         std::optional<uint64_t> announced = std::nullopt) {
    uint64_t length = announced.value_or(payload.size());
    std::vector<uint8_t> out{static_cast<uint8_t>((fin ? 0x80 : 0) | opcode)};
    uint8_t mask_bit = mask ? 0x80 : 0;
    if (length < 126) {
        out.push_back(static_cast<uint8_t>(mask_bit | length));
    } else if (length < 65536) {
        out.push_back(mask_bit | 126);
        out.push_back(static_cast<uint8_t>(length >> 8));
        out.push_back(static_cast<uint8_t>(length));
    } else {
        out.push_back(mask_bit | 127);
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(length >> shift));
    }
    if (mask) out.insert(out.end(), mask->begin(), mask->end());
    for (size_t i = 0; i < payload.size(); ++i) out.push_back(mask ? payload[i] ^ (*mask)[i % 4] : payload[i]);
    return out;
}

// Protobuf wire format by hand: varints and length-delimited fields.
inline void pb_varint(std::vector<uint8_t>& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
}
inline void pb_bytes(std::vector<uint8_t>& out, uint32_t field, const std::vector<uint8_t>& bytes) {
    pb_varint(out, field << 3 | 2);
    pb_varint(out, bytes.size());
    out.insert(out.end(), bytes.begin(), bytes.end());
}
inline void pb_uint(std::vector<uint8_t>& out, uint32_t field, uint64_t v) {
    pb_varint(out, field << 3);
    pb_varint(out, v);
}

// ProvisioningAddress { address = 1 }.
inline std::vector<uint8_t> provisioning_address(const std::string& address) {
    std::vector<uint8_t> out;
    pb_bytes(out, 1, bytes_of(address));
    return out;
}

// WebSocketMessage { type = 1 (REQUEST = 1), request = 2 { verb 1, path 2, body 3, id 4, headers 5 } },
// the request as Signal-Server's WebSocketClient.sendRequest writes it.
inline std::vector<uint8_t> websocket_request(uint64_t type, const std::string& verb, const std::string& path,
                                              const std::vector<uint8_t>& body) {
    std::vector<uint8_t> request;
    pb_bytes(request, 1, bytes_of(verb));
    pb_bytes(request, 2, bytes_of(path));
    pb_bytes(request, 3, body);
    pb_uint(request, 4, 0x1234567890abcdefULL);
    pb_bytes(request, 5, bytes_of("X-Signal-Timestamp:1796426177000"));
    std::vector<uint8_t> message;
    pb_uint(message, 1, type);
    pb_bytes(message, 2, request);
    return message;
}

inline const std::string kSampleAddress = "q83vEjRWeJq8AAAAEjRWeA==";  // 16 bytes in URL-safe base64

// The server's first message as Signal sends it after the 101.
inline std::vector<uint8_t> first_message(const std::string& address = kSampleAddress) {
    return server_frame(0x2, websocket_request(1, "PUT", "/v1/address", provisioning_address(address)));
}

// The whole reply to `request`: the 101 (accept computed from its key) and `frames`.
inline std::vector<uint8_t> answer(std::span<const uint8_t> request, const std::vector<uint8_t>& frames) {
    auto req = read_upgrade_request(request);
    std::string key = req && req->headers.count("sec-websocket-key") ? req->headers.at("sec-websocket-key") : "";
    auto out = switching_protocols(accept_value(key));
    out.insert(out.end(), frames.begin(), frames.end());
    return out;
}

}  // namespace meoktong::testing
