// App-protocol measurement of one address (measure_app.hpp): builds each
// protocol's request with fresh random nonces, runs it through the Net seam
// and records the judgement as an AppObservation.
#include "probe/net/measure_app.hpp"

#include <openssl/rand.h>

#include <bit>
#include <chrono>

#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "probe/net/loco.hpp"
#include "probe/net/mtproto.hpp"
#include "probe/net/stun.hpp"

namespace meoktong {
namespace {

template <typename Bytes>
Bytes random_bytes() {
    Bytes out{};
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)  // never expected; a zero nonce still measures
        out.fill(0);
    return out;
}

std::string address_of(const std::string& ip, uint16_t port) { return uri_host(ip) + ":" + std::to_string(port); }

AppObservation app_observation(const Target& t, const std::string& ip, const char* transport, const AppReply& reply) {
    AppObservation obs;
    obs.t0_ms = reply.t0_ms;
    obs.t_ms = reply.t_ms;
    obs.protocol = t.protocol;
    obs.transport = transport;
    obs.address = address_of(ip, t.port);
    obs.failure = reply.failure;
    obs.raw_error = reply.raw_error;
    return obs;
}

// The transport's failure stands when nothing arrived; otherwise the
// protocol's judgement of what did (a partial reply is not the protocol's).
template <typename Judgement>
void apply_judgement(AppObservation& obs, const AppReply& reply, const Judgement& j) {
    obs.genuine = j.genuine;
    obs.failure = j.failure;
    obs.raw_error = reply.failure ? j.detail + " (" + reply.raw_error + ")" : j.detail;
}

std::optional<AppObservation> mtproto_attempt(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip,
                                              bool obfuscated, SteadyTime start, AppAddressResult& out) {
    TcpResult tcp = connect_retrying(net, ip, t.port, s, start, out.tcp);
    if (!tcp.connection) return std::nullopt;
    auto nonce = random_bytes<mtproto::Nonce>();
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    mtproto::Exchange exchange(nonce, mtproto::message_id_at(now), obfuscated,
                               mtproto::fix_seed(random_bytes<mtproto::ObfuscationSeed>()));
    AppExchange ex;
    ex.request = exchange.request();
    ex.reply_complete = [&](std::span<const uint8_t> reply) { return exchange.reply_complete(reply); };
    ex.timeout_ms = s.timeout_ms;
    AppReply reply = net.stream_exchange(*tcp.connection, ex, start);
    AppObservation obs = app_observation(t, ip, obfuscated ? "obfuscated" : "intermediate", reply);
    if (!reply.bytes.empty()) apply_judgement(obs, reply, mtproto::judge_reply(exchange.cleartext(reply.bytes), nonce));
    return obs;
}

void measure_mtproto(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip, SteadyTime start,
                     AppAddressResult& out) {
    for (bool obfuscated : {false, true}) {
        auto obs = mtproto_attempt(net, t, s, ip, obfuscated, start, out);
        if (!obs) return;  // no connection: the TCP observation says why
        out.app.push_back(*obs);
        if (obs->genuine == true) {
            out.reached = true;
            return;
        }
    }
}

void measure_stun(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip, SteadyTime start,
                  AppAddressResult& out) {
    auto id = random_bytes<stun::TransactionId>();
    AppExchange ex;
    ex.request = stun::binding_request(id);
    ex.reply_complete = [&](std::span<const uint8_t> datagram) { return stun::answers(datagram, id); };
    ex.timeout_ms = s.timeout_ms;
    ex.resend_after_ms = stun::resend_schedule(s.timeout_ms);
    AppReply reply = net.datagram_exchange(ip, t.port, ex, start);
    AppObservation obs = app_observation(t, ip, "udp", reply);
    if (!reply.failure) apply_judgement(obs, reply, stun::judge_reply(reply.bytes));
    out.reached = obs.genuine == true && !obs.failure;
    out.app.push_back(obs);
}

// LOCO's GETCONF inside a TLS session with the booking host (SNI and
// certificate the target's name): nothing is sent to a server whose
// certificate did not verify.
void measure_loco(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip, SteadyTime start,
                  AppAddressResult& out) {
    TcpResult tcp = connect_retrying(net, ip, t.port, s, start, out.tcp);
    if (!tcp.connection) return;
    uint32_t packet_id = 0;
    while (packet_id == 0) packet_id = std::bit_cast<uint32_t>(random_bytes<std::array<uint8_t, 4>>());
    AppExchange ex;
    ex.request = loco::getconf_request(packet_id);
    ex.reply_complete = loco::reply_complete;
    ex.timeout_ms = s.timeout_ms;
    ex.max_reply_bytes = loco::kMaxReplyBytes;
    TlsExchangeResult result =
        net.tls_exchange(*tcp.connection, tls_request_for(t, s, is_ip_literal(t.host) ? "" : t.host, "target"), ex, start);
    out.tls.push_back(result.tls);
    if (!result.reply) return;  // the TLS observation says why
    AppObservation obs = app_observation(t, ip, "tls", *result.reply);
    if (!result.reply->bytes.empty()) {
        loco::Judgement j = loco::judge_reply(result.reply->bytes, packet_id);
        apply_judgement(obs, *result.reply, j);
        for (const auto& e : j.checkin) obs.discovered.push_back(address_of(e.host, e.port));
    }
    out.reached = obs.genuine == true && !obs.failure;
    out.app.push_back(obs);
}

}  // namespace

AppAddressResult measure_app_address(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip,
                                     SteadyTime start) {
    AppAddressResult out;
    if (t.protocol == "mtproto") measure_mtproto(net, t, s, ip, start, out);
    if (t.protocol == "stun") measure_stun(net, t, s, ip, start, out);
    if (t.protocol == "loco") measure_loco(net, t, s, ip, start, out);
    return out;
}

}  // namespace meoktong
