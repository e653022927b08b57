// Measuring one address of an app-protocol target (SPEC §7): MTProto's
// req_pq_multi in the clear, then obfuscated on a fresh connection when the
// plain exchange did not reach a genuine server (the transport differential);
// STUN's Binding Request over UDP; LOCO's GETCONF inside TLS; WhatsApp's
// Noise XX start, judged against the pinned root key; Signal's provisioning
// WebSocket inside TLS verified against Signal's own roots. Part of
// measure.cpp's logic, over the Net seam.
#pragma once

#include <string>
#include <vector>

#include "probe/net/measure.hpp"
#include "probe/net/net.hpp"

namespace meoktong {

struct AppAddressResult {
    std::vector<TcpObservation> tcp;
    std::vector<TlsObservation> tls;  // loco: the handshake the exchange ran in
    std::vector<AppObservation> app;
    bool reached = false;  // a genuine server answered
};

AppAddressResult measure_app_address(Net& net, const Target& target, const MeasureSettings& settings,
                                     const std::string& ip, SteadyTime start);

}  // namespace meoktong
