// LOCO's GETCONF booking exchange (loco.hpp). The header layout and the
// request and answer keys follow public client code (docs/protocols.md);
// the BSON body is nlohmann/json's BSON reader and writer.
#include "probe/net/loco.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "meoktong/failure.hpp"
#include "meoktong/target.hpp"

namespace meoktong::loco {
namespace {

constexpr size_t kMethodBytes = 11;
constexpr uint8_t kBodyBson = 0;

void put_le(std::vector<uint8_t>& out, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get_le(std::span<const uint8_t> in, size_t at, int bytes) {
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | in[at + static_cast<size_t>(i)];
    return v;
}

Judgement unexpected(std::string detail) { return {false, failure::kAppUnexpectedReply, std::move(detail), {}}; }

// ticket.lsl's host names (or addresses) and wifi.ports' ports, or nullopt
// when the configuration lacks either.
std::optional<std::vector<CheckinEndpoint>> checkin_endpoints(const nlohmann::json& body) {
    auto hosts = body.find("ticket");
    auto wifi = body.find("wifi");
    if (hosts == body.end() || !hosts->is_object() || wifi == body.end() || !wifi->is_object()) return std::nullopt;
    auto lsl = hosts->find("lsl");
    auto ports = wifi->find("ports");
    if (lsl == hosts->end() || !lsl->is_array() || ports == wifi->end() || !ports->is_array()) return std::nullopt;
    std::vector<CheckinEndpoint> out;
    for (const auto& host : *lsl) {
        if (!host.is_string() || !is_valid_hostname(host.get<std::string>())) return std::nullopt;
        for (const auto& port : *ports) {
            if (!port.is_number_integer() || port.get<int64_t>() < 1 || port.get<int64_t>() > 65535) return std::nullopt;
            if (out.size() < kMaxCheckinEndpoints)
                out.push_back({host.get<std::string>(), static_cast<uint16_t>(port.get<int64_t>())});
        }
    }
    if (out.empty()) return std::nullopt;
    return out;
}

}  // namespace

std::vector<uint8_t> getconf_request(uint32_t packet_id) {
    nlohmann::json body = {{"MCCMNC", "999"}, {"os", "win32"}, {"model", ""}};
    std::vector<uint8_t> bson = nlohmann::json::to_bson(body);
    std::vector<uint8_t> packet;
    put_le(packet, packet_id, 4);
    put_le(packet, 0, 2);  // status
    std::string method = "GETCONF";
    method.resize(kMethodBytes, '\0');
    packet.insert(packet.end(), method.begin(), method.end());
    packet.push_back(kBodyBson);
    put_le(packet, static_cast<uint32_t>(bson.size()), 4);
    packet.insert(packet.end(), bson.begin(), bson.end());
    return packet;
}

bool reply_complete(std::span<const uint8_t> reply) {
    if (reply.size() < kHeaderBytes) return false;
    uint32_t body = get_le(reply, 18, 4);
    return body > kMaxReplyBytes - kHeaderBytes || reply.size() >= kHeaderBytes + body;
}

Judgement judge_reply(std::span<const uint8_t> reply, uint32_t packet_id) {
    if (reply.size() < kHeaderBytes) return unexpected("a reply of " + std::to_string(reply.size()) + " bytes");
    std::string method(reply.begin() + 6, reply.begin() + 6 + kMethodBytes);
    method.resize(std::min(method.find('\0'), method.size()));
    uint32_t body_length = get_le(reply, 18, 4);
    if (body_length > kMaxReplyBytes - kHeaderBytes || reply.size() < kHeaderBytes + body_length)
        return unexpected("a packet of " + std::to_string(body_length) + " bytes announced, " +
                          std::to_string(reply.size() - kHeaderBytes) + " received");
    if (method != "GETCONF" || reply[17] != kBodyBson)
        return unexpected("not a GETCONF answer in BSON");
    // One BSON document fills the body: its own length (int32, LE) is the body's.
    if (body_length < 5 || get_le(reply, kHeaderBytes, 4) != body_length)
        return unexpected("a GETCONF answer whose body is not BSON");
    nlohmann::json body;
    try {
        body = nlohmann::json::from_bson(reply.subspan(kHeaderBytes, body_length));
    } catch (const nlohmann::json::exception&) {
        return unexpected("a GETCONF answer whose body is not BSON");
    }
    if (!body.is_object()) return unexpected("a GETCONF answer whose body is not a document");
    if (get_le(reply, 0, 4) != packet_id) return {false, failure::kAppNotGenuine, "GETCONF answer to another packet id", {}};
    auto status = body.find("status");
    if (status == body.end() || !status->is_number_integer())
        return unexpected("a GETCONF answer without a status");
    if (status->get<int64_t>() != 0)
        return {true, failure::kAppUnexpectedReply, "GETCONF status " + std::to_string(status->get<int64_t>()), {}};
    auto endpoints = checkin_endpoints(body);
    if (!endpoints) return unexpected("a GETCONF configuration without check-in hosts and ports (ticket.lsl, wifi.ports)");
    return {true, std::nullopt, "GETCONF configuration names " + std::to_string(endpoints->size()) + " check-in endpoints",
            std::move(*endpoints)};
}

}  // namespace meoktong::loco
