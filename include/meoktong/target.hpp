// Target URIs of SPEC §3 (tls://HOST[:PORT], tcp://HOST:PORT,
// https://HOST[:PORT]/PATH, http://HOST[:PORT]/PATH, dns://HOST, and the
// app-protocol targets of SPEC §7: mtproto://HOST:PORT, stun://HOST:PORT,
// loco://HOST:PORT, whatsapp://HOST:PORT, signal://HOST[:PORT]) parsed into
// Targets, and the key that matches a target across probe and control.
#pragma once

#include <stdexcept>
#include <string>

#include "meoktong/record.hpp"

namespace meoktong {

// Bad user input (target URI, list entry, option value): message is one line.
struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws InputError naming the problem, e.g. "bad target 'tcp://x': port is required".
Target parse_target_uri(const std::string& uri);

// True for the URI schemes meoktong measures: dns, tcp, tls, https, http, mtproto, stun, loco, whatsapp, signal.
bool is_known_protocol(const std::string& protocol);

// The schemes above as a phrase for error messages: "dns, tcp, ... or signal".
const char* known_protocols_text();

// True for the app protocols of SPEC §7 measured by their own exchange: mtproto, stun, loco, whatsapp, signal.
bool is_app_protocol(const std::string& protocol);

// True when a target of this protocol must name its port: tcp and the app protocols but signal.
bool port_required(const std::string& protocol);

// The port of a target that names none: 443 for tls, https and signal, 80 for
// http, 0 for dns, tcp and the other app protocols (which must name one).
uint16_t default_port(const std::string& protocol);

// The target written back as a URI (inverse of parse_target_uri).
std::string target_uri(const Target& t);

// A DNS name (labels of letters, digits, '-', '_'; 63/253 limits; a final dot
// allowed) or an IP literal.
bool is_valid_hostname(const std::string& h);

// True when s is an IPv4 or IPv6 literal (without brackets).
bool is_ip_literal(const std::string& s);

}  // namespace meoktong
