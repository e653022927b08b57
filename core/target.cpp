// Parses and prints target URIs; validation errors are one-line InputErrors.
#include "meoktong/target.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <string_view>

namespace meoktong {
namespace {

uint16_t default_port(const std::string& proto) {
    if (proto == "tls" || proto == "https") return 443;
    if (proto == "http") return 80;
    if (proto == "dns") return 0;
    return 0;  // tcp has none
}

uint16_t parse_port(const std::string& uri, const std::string& s) {
    if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), ::isdigit))
        throw InputError("bad target '" + uri + "': port '" + s + "' is not a number");
    int p = std::stoi(s);
    if (p < 1 || p > 65535) throw InputError("bad target '" + uri + "': port " + s + " is out of range 1-65535");
    return static_cast<uint16_t>(p);
}

// Letters, digits, '-' and '_' (seen in real service names), at most 63 of them.
bool is_valid_label(std::string_view label) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    return std::all_of(label.begin(), label.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

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
    t.protocol = uri.substr(0, sep);
    std::transform(t.protocol.begin(), t.protocol.end(), t.protocol.begin(), ::tolower);
    if (t.protocol != "tls" && t.protocol != "tcp" && t.protocol != "https" && t.protocol != "http" &&
        t.protocol != "dns")
        throw InputError("bad target '" + uri + "': unknown scheme '" + t.protocol +
                         "' (use tls, tcp, https, http or dns)");
    std::string rest = uri.substr(sep + 3);
    std::string authority = rest;
    auto slash = rest.find('/');
    if (slash != std::string::npos) {
        authority = rest.substr(0, slash);
        t.path = rest.substr(slash);
        if (t.protocol != "https" && t.protocol != "http" && t.path != "/")
            throw InputError("bad target '" + uri + "': a path is only allowed for http and https");
    }
    std::string port_text;
    if (!authority.empty() && authority[0] == '[') {
        auto close = authority.find(']');
        if (close == std::string::npos) throw InputError("bad target '" + uri + "': unclosed '[' in IPv6 address");
        t.host = authority.substr(1, close - 1);
        if (!is_ip_literal(t.host)) throw InputError("bad target '" + uri + "': '" + t.host + "' is not an IPv6 address");
        std::string after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') throw InputError("bad target '" + uri + "': junk after ']'");
            port_text = after.substr(1);
            if (port_text.empty()) throw InputError("bad target '" + uri + "': empty port");
        }
    } else {
        auto colon = authority.rfind(':');
        if (colon != std::string::npos) {
            if (authority.find(':') != colon)
                throw InputError("bad target '" + uri + "': write IPv6 addresses as [ADDR]:PORT");
            t.host = authority.substr(0, colon);
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) throw InputError("bad target '" + uri + "': empty port");
        } else {
            t.host = authority;
        }
    }
    std::transform(t.host.begin(), t.host.end(), t.host.begin(), ::tolower);
    if (!is_valid_hostname(t.host)) throw InputError("bad target '" + uri + "': '" + t.host + "' is not a valid host name");
    if (!port_text.empty()) {
        if (t.protocol == "dns") throw InputError("bad target '" + uri + "': dns targets take no port");
        t.port = parse_port(uri, port_text);
    } else {
        t.port = default_port(t.protocol);
        if (t.protocol == "tcp") throw InputError("bad target '" + uri + "': port is required for tcp");
    }
    return t;
}

std::string target_uri(const Target& t) {
    std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
    std::string s = t.protocol + "://" + host;
    if (t.protocol != "dns") s += ":" + std::to_string(t.port);
    if (t.protocol == "https" || t.protocol == "http") s += t.path.empty() ? "/" : t.path;
    return s;
}

}  // namespace meoktong
