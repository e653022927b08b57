// The control protocol of SPEC §3, probe side: send the run's targets to a
// control vantage and get its observations back. The server side lives in
// probe/control_server.cpp behind `meoktong control serve`.
#pragma once

#include <string>
#include <vector>

#include "meoktong/record.hpp"

namespace meoktong {

struct ControlClientSettings {
    std::string url;        // e.g. https://ctl.example.org:8443
    std::string token;
    std::string ca_file;    // trust store for the control's certificate; empty = system
    int timeout_ms = 30000; // whole exchange
    size_t max_reply_bytes = 64 << 20;
};

// One ControlResult per target, in order. Never throws: an unreachable, slow
// or garbage-answering control gives every result `failure` set. When
// client_address is given, it receives the probe's address as the control saw
// it (its public address behind NAT), for scrubbing only; "" when unknown.
std::vector<ControlResult> query_control(const ControlClientSettings& settings, const std::vector<Target>& targets,
                                         std::string* client_address = nullptr);

}  // namespace meoktong
