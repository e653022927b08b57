// The one set of parsers for the small values meoktong reads from command
// lines, config files, lists, URIs and the control protocol: integers, ports,
// durations, country codes, ASNs and HOST:PORT. One set of edge rules
// everywhere: no leading or trailing spaces, no sign unless the type allows
// it, no overflow, decimal digits only. Each returns nullopt for bad input;
// callers turn that into their own one-line error naming the option or field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meoktong {

// A decimal integer in [lo, hi]: digits only (a leading '-' only when lo < 0),
// no spaces, no '+', no overflow. "007" is 7.
std::optional<int64_t> parse_integer(std::string_view text, int64_t lo, int64_t hi);
// A TCP/UDP port, 1..65535.
std::optional<uint16_t> parse_port(std::string_view text);
// A duration: a whole number with an optional unit s, m, h or d ("90", "90s",
// "15m", "2h", "7d"; no unit = seconds), returned in seconds, at most 10 years.
std::optional<int64_t> parse_duration_seconds(std::string_view text);
// A two-letter ISO 3166 country code, returned upper-case ("kr" -> "KR").
std::optional<std::string> parse_country_code(std::string_view text);
// An autonomous system number: "AS4766", "as4766" or "4766", returned as
// "AS4766" (leading zeros dropped: "AS04766" -> "AS4766"); 0..4294967295.
std::optional<std::string> parse_asn(std::string_view text);

// HOST:PORT as written in options and records. The host is a name, an IPv4
// address, or an IPv6 address in brackets ("[2001:db8::1]:53"); a bare IPv6
// address ("2001:db8::1") is a host without a port, never split at its last
// colon. `port` is nullopt when none was written.
struct HostPort {
    std::string host;               // without brackets
    std::optional<uint16_t> port;
};
// nullopt when a port is written but is not 1..65535, brackets do not match,
// or the host is empty.
std::optional<HostPort> split_host_port(std::string_view text);
// The inverse: "host:port", "[v6]:port", or the host alone when port is nullopt.
std::string join_host_port(const std::string& host, std::optional<uint16_t> port);
// A host as written in a URI or before ":PORT": an IPv6 address in brackets,
// anything else as it is ("2001:db8::1" -> "[2001:db8::1]").
std::string uri_host(const std::string& host);

}  // namespace meoktong
