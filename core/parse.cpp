// The one set of value parsers (include/meoktong/parse.hpp): integers, ports,
// durations, country codes, ASNs and HOST:PORT, with one set of edge rules.
#include "meoktong/parse.hpp"

#include <charconv>
#include <limits>

namespace meoktong {

namespace {

bool all_digits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return true;
}

}  // namespace

std::optional<int64_t> parse_integer(std::string_view text, int64_t lo, int64_t hi) {
    bool negative = !text.empty() && text.front() == '-';
    std::string_view digits = negative ? text.substr(1) : text;
    if (!all_digits(digits) || (negative && lo >= 0)) return std::nullopt;
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    if (value < lo || value > hi) return std::nullopt;
    return value;
}

std::optional<uint16_t> parse_port(std::string_view text) {
    auto value = parse_integer(text, 1, 65535);
    if (!value) return std::nullopt;
    return static_cast<uint16_t>(*value);
}

std::optional<int64_t> parse_duration_seconds(std::string_view text) {
    constexpr int64_t ten_years = int64_t{10} * 365 * 86400;
    int64_t unit = 1;
    if (!text.empty()) {
        switch (text.back()) {
            case 's': unit = 1; break;
            case 'm': unit = 60; break;
            case 'h': unit = 3600; break;
            case 'd': unit = 86400; break;
            default: unit = 0; break;
        }
        if (unit != 0) text.remove_suffix(1);
        else unit = 1;
    }
    auto count = parse_integer(text, 0, ten_years);
    if (!count || *count > ten_years / unit) return std::nullopt;
    return *count * unit;
}

std::optional<std::string> parse_country_code(std::string_view text) {
    if (text.size() != 2) return std::nullopt;
    std::string code;
    for (char c : text) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c < 'A' || c > 'Z') return std::nullopt;
        code += c;
    }
    return code;
}

std::optional<std::string> parse_asn(std::string_view text) {
    if (text.size() >= 2 && (text[0] == 'A' || text[0] == 'a') && (text[1] == 'S' || text[1] == 's'))
        text.remove_prefix(2);
    auto number = parse_integer(text, 0, std::numeric_limits<uint32_t>::max());
    if (!number) return std::nullopt;
    return "AS" + std::to_string(*number);
}

std::optional<HostPort> split_host_port(std::string_view text) {
    HostPort result;
    std::string_view rest;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        result.host = std::string(text.substr(1, close - 1));
        rest = text.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return std::nullopt;
    } else {
        auto first = text.find(':');
        if (first != std::string_view::npos && text.find(':', first + 1) != std::string_view::npos) {
            result.host = std::string(text);  // a bare IPv6 address: no port
        } else {
            result.host = std::string(text.substr(0, first));
            if (first != std::string_view::npos) rest = text.substr(first);
        }
        if (result.host.find_first_of("[]") != std::string::npos) return std::nullopt;
    }
    if (result.host.empty()) return std::nullopt;
    if (!rest.empty()) {
        auto port = parse_port(rest.substr(1));
        if (!port) return std::nullopt;
        result.port = *port;
    }
    return result;
}

std::string join_host_port(const std::string& host, std::optional<uint16_t> port) {
    if (!port) return host;
    return uri_host(host) + ":" + std::to_string(*port);
}

std::string uri_host(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace meoktong
