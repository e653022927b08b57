// A scripted LOCO booking server for unit tests, written from the public
// clients' description of the packet (docs/protocols.md) independently of
// probe/net/loco.cpp: it reads a GETCONF request's header and answers with a
// GETCONF packet carrying the BSON document a test gives it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meoktong::testing {

struct LocoRequest {
    uint32_t packet_id = 0;
    std::string method;
    nlohmann::json body;
};

inline uint32_t le32(std::span<const uint8_t> in, size_t at) {
    return uint32_t{in[at]} | uint32_t{in[at + 1]} << 8 | uint32_t{in[at + 2]} << 16 | uint32_t{in[at + 3]} << 24;
}

inline std::optional<LocoRequest> read_loco_request(std::span<const uint8_t> in) {
    if (in.size() < 22 || in.size() != 22 + le32(in, 18)) return std::nullopt;
    LocoRequest r;
    r.packet_id = le32(in, 0);
    r.method.assign(in.begin() + 6, in.begin() + 17);
    r.method.resize(r.method.find('\0') == std::string::npos ? r.method.size() : r.method.find('\0'));
    r.body = nlohmann::json::from_bson(in.subspan(22));
    return r;
}

inline std::vector<uint8_t> loco_packet(uint32_t packet_id, const std::string& method, const nlohmann::json& body) {
    std::vector<uint8_t> bson = nlohmann::json::to_bson(body);
    std::vector<uint8_t> out;
    auto put = [&](uint32_t v, int n) {
        for (int i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    put(packet_id, 4);
    put(0, 2);
    std::string padded = method;
    padded.resize(11, '\0');
    out.insert(out.end(), padded.begin(), padded.end());
    out.push_back(0);
    put(static_cast<uint32_t>(bson.size()), 4);
    out.insert(out.end(), bson.begin(), bson.end());
    return out;
}

// A configuration as the booking host answers it (keys of the public clients).
inline nlohmann::json getconf_answer(std::vector<std::string> hosts, std::vector<int> ports) {
    return {{"status", 0},
            {"revision", 1},
            {"ticket", {{"lsl", hosts}, {"lsl6", nlohmann::json::array()}}},
            {"wifi", {{"ports", ports}, {"connTimeout", 10}}},
            {"3g", {{"ports", ports}}}};
}

}  // namespace meoktong::testing
