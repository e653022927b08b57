// Parses and prints target URIs (SPEC §3 and the app URIs of §7); validation errors are one-line InputErrors.
#include "meoktong/target.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "meoktong/parse.hpp"
#include "meoktong/text.hpp"

namespace meoktong {
namespace {

// Letters, digits, '-' and '_' (seen in real service names), at most 63 of them.
bool is_valid_label(std::string_view label) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    return std::all_of(label.begin(), label.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

bool is_known_protocol(const std::string& protocol) {
    return protocol == "dns" || protocol == "tcp" || protocol == "tls" || protocol == "https" || protocol == "http" ||
           is_app_protocol(protocol);
}

bool is_app_protocol(const std::string& protocol) {
    return protocol == "mtproto" || protocol == "stun" || protocol == "loco" || protocol == "whatsapp" ||
           protocol == "signal";
}

const char* known_protocols_text() { return "dns, tcp, tls, https, http, mtproto, stun, loco, whatsapp or signal"; }

bool port_required(const std::string& protocol) {
    return protocol == "tcp" || (is_app_protocol(protocol) && protocol != "signal");
}

uint16_t default_port(const std::string& protocol) {
    if (protocol == "tls" || protocol == "https" || protocol == "signal") return 443;
    if (protocol == "http") return 80;
    return 0;  // dns, tcp and the other app protocols have none
}

// A name, not an address: its last label is not all digits, so 999.1.1.1 or
// 127.1 (which resolvers and the control would read differently) are refused.
bool is_valid_hostname(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    if (is_ip_literal(h)) return true;
    std::string_view name = h;
    if (name.back() == '.') name.remove_suffix(1);  // fully qualified
    std::string_view last;
    for (size_t start = 0;;) {
        size_t dot = name.find('.', start);
        last = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (!is_valid_label(last)) return false;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return !std::all_of(last.begin(), last.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool is_ip_literal(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Target parse_target_uri(const std::string& uri) {
    auto sep = uri.find("://");
    if (sep == std::string::npos) throw InputError("bad target '" + uri + "': expected SCHEME://HOST[:PORT]");
    Target t;
    t.service = "adhoc";
    t.protocol = ascii_lower(uri.substr(0, sep));
    if (!is_known_protocol(t.protocol))
        throw InputError("bad target '" + uri + "': unknown scheme '" + t.protocol +
                         "' (use " + known_protocols_text() + ")");
    std::string rest = uri.substr(sep + 3);
    std::string authority = rest;
    auto slash = rest.find('/');
    if (slash != std::string::npos) {
        authority = rest.substr(0, slash);
        t.path = rest.substr(slash);
        if (t.protocol != "https" && t.protocol != "http" && t.path != "/")
            throw InputError("bad target '" + uri + "': a path is only allowed for http and https");
    }
    auto host_port = split_host_port(authority);
    if (!host_port)
        throw InputError("bad target '" + uri + "': '" + authority +
                         "' is not HOST[:PORT] (a port 1-65535, IPv6 addresses in brackets)");
    bool bracketed = authority.front() == '[';
    if (bracketed && !is_ip_literal(host_port->host))
        throw InputError("bad target '" + uri + "': '" + host_port->host + "' is not an IPv6 address");
    if (!bracketed && host_port->host.find(':') != std::string::npos)
        throw InputError("bad target '" + uri + "': write IPv6 addresses as [ADDR]:PORT");
    t.host = ascii_lower(host_port->host);
    if (!is_valid_hostname(t.host)) throw InputError("bad target '" + uri + "': '" + t.host + "' is not a valid host name");
    if (host_port->port) {
        if (t.protocol == "dns") throw InputError("bad target '" + uri + "': dns targets take no port");
        t.port = *host_port->port;
    } else {
        t.port = default_port(t.protocol);
        if (port_required(t.protocol))
            throw InputError("bad target '" + uri + "': port is required for " + t.protocol);
    }
    return t;
}

std::string target_uri(const Target& t) {
    std::string s = t.protocol + "://" + uri_host(t.host);
    if (t.protocol != "dns") s += ":" + std::to_string(t.port);
    if (t.protocol == "https" || t.protocol == "http") s += t.path.empty() ? "/" : t.path;
    return s;
}

}  // namespace meoktong
