// App-protocol measurement of one address (measure_app.hpp): builds each
// protocol's request with fresh random nonces, runs it through the Net seam
// and records the judgement as an AppObservation.
#include "probe/net/measure_app.hpp"

#include <openssl/rand.h>

#include <bit>
#include <chrono>

#include <nlohmann/json.hpp>

#include "meoktong/failure.hpp"
#include "meoktong/files.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "probe/net/loco.hpp"
#include "probe/net/mtproto.hpp"
#include "probe/net/signal.hpp"
#include "probe/net/stun.hpp"
#include "probe/net/whatsapp.hpp"

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

// An app exchange inside a TLS session with SNI and certificate the
// target's name (loco, signal): the TLS observation always; the exchange, and
// `judge(bytes, observation)` on what came back, only when the certificate
// verified against tls.ca_file (nothing is sent to an interceptor).
template <typename Judge>
void tls_app_exchange(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip, SteadyTime start,
                      TlsRequest tls, const AppExchange& ex, AppAddressResult& out, const Judge& judge) {
    TcpResult tcp = connect_retrying(net, ip, t.port, s, start, out.tcp);
    if (!tcp.connection) return;
    TlsExchangeResult result = net.tls_exchange(*tcp.connection, tls, ex, start);
    out.tls.push_back(result.tls);
    if (!result.reply) return;  // the TLS observation says why
    AppObservation obs = app_observation(t, ip, "tls", *result.reply);
    if (!result.reply->bytes.empty()) judge(result.reply->bytes, *result.reply, obs);
    out.reached = obs.genuine == true && !obs.failure;
    out.app.push_back(obs);
}

TlsRequest target_tls_request(const Target& t, const MeasureSettings& s) {
    return tls_request_for(t, s, is_ip_literal(t.host) ? "" : t.host, "target");
}

// LOCO's GETCONF inside a TLS session with the booking host, against the
// system's trust store.
void measure_loco(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip, SteadyTime start,
                  AppAddressResult& out) {
    uint32_t packet_id = 0;
    while (packet_id == 0) packet_id = std::bit_cast<uint32_t>(random_bytes<std::array<uint8_t, 4>>());
    AppExchange ex;
    ex.request = loco::getconf_request(packet_id);
    ex.reply_complete = loco::reply_complete;
    ex.timeout_ms = s.timeout_ms;
    ex.max_reply_bytes = loco::kMaxReplyBytes;
    tls_app_exchange(net, t, s, ip, start, target_tls_request(t, s), ex, out,
                     [&](std::span<const uint8_t> bytes, const AppReply& reply, AppObservation& obs) {
                         loco::Judgement j = loco::judge_reply(bytes, packet_id);
                         apply_judgement(obs, reply, j);
                         for (const auto& e : j.checkin) obs.discovered.push_back(address_of(e.host, e.port));
                     });
}

// A pinned root or key file of the app protocols: --app-roots's, else the
// shipped one ("" when neither exists).
std::string pinned_file(const MeasureSettings& s, const char* name) {
    return s.app_roots_dir.empty() ? find_data_file(name) : s.app_roots_dir + "/" + name;
}

// WhatsApp's root public key from whatsapp-root-key.json (root_public_key_hex),
// or nullopt when the file is missing or malformed.
std::optional<whatsapp::Key> whatsapp_root_key(const MeasureSettings& s) {
    std::string path = pinned_file(s, "whatsapp-root-key.json");
    if (path.empty()) return std::nullopt;
    try {
        std::string hex = nlohmann::json::parse(read_file(path)).at("root_public_key_hex").get<std::string>();
        whatsapp::Key key{};
        if (hex.size() != 2 * key.size()) return std::nullopt;
        for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
        return key;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Signal's provisioning WebSocket inside a TLS session verified against
// Signal's own roots (signal-roots.pem), never the system's: the upgrade, then
// the server's first message. Nothing is sent after the upgrade.
void measure_signal(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip, SteadyTime start,
                    AppAddressResult& out) {
    TlsRequest tls = target_tls_request(t, s);
    tls.ca_file = pinned_file(s, "signal-roots.pem");
    if (tls.ca_file.empty()) tls.ca_file = "signal-roots.pem (not found in testlists/)";  // fails to load: never the system store
    signal::Upgrade upgrade =
        signal::upgrade_request(t.port == 443 ? t.host : uri_host(t.host) + ":" + std::to_string(t.port),
                                random_bytes<std::array<uint8_t, 16>>());
    AppExchange ex;
    ex.request = upgrade.request;
    ex.reply_complete = signal::reply_complete;
    ex.timeout_ms = s.timeout_ms;
    ex.max_reply_bytes = signal::kMaxReplyBytes;
    tls_app_exchange(net, t, s, ip, start, tls, ex, out,
                     [&](std::span<const uint8_t> bytes, const AppReply& reply, AppObservation& obs) {
                         apply_judgement(obs, reply, signal::judge_reply(bytes, upgrade.key));
                     });
}

// WhatsApp's Noise XX start over TCP: the connection header and ClientHello,
// then the ServerHello judged against the pinned root key. Nothing is sent
// after it: no ClientFinish, no login.
void measure_whatsapp(Net& net, const Target& t, const MeasureSettings& s, const std::string& ip, SteadyTime start,
                      AppAddressResult& out) {
    std::optional<whatsapp::Key> root = whatsapp_root_key(s);
    TcpResult tcp = connect_retrying(net, ip, t.port, s, start, out.tcp);
    if (!tcp.connection) return;
    whatsapp::Handshake handshake(random_bytes<whatsapp::Key>());
    AppExchange ex;
    ex.request = handshake.request();
    ex.reply_complete = [&](std::span<const uint8_t> reply) { return handshake.reply_complete(reply); };
    ex.timeout_ms = s.timeout_ms;
    ex.max_reply_bytes = whatsapp::kFrameLengthBytes + whatsapp::kMaxReplyFrame;
    AppReply reply = net.stream_exchange(*tcp.connection, ex, start);
    AppObservation obs = app_observation(t, ip, "noise", reply);
    if (!reply.bytes.empty() && root) {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        apply_judgement(obs, reply, handshake.judge(reply.bytes, *root, now.count()));
    } else if (!reply.bytes.empty()) {
        obs.failure = std::string(failure::kUnknownPrefix) + "no WhatsApp root key";
        obs.raw_error = "whatsapp-root-key.json not found or malformed (testlists/, --app-roots)";
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
    if (t.protocol == "whatsapp") measure_whatsapp(net, t, s, ip, start, out);
    if (t.protocol == "signal") measure_signal(net, t, s, ip, start, out);
    return out;
}

}  // namespace meoktong
