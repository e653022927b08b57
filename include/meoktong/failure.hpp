// The one vocabulary of failure strings (OONI's names where they exist).
// Every observation's `failure` is one of these, or "unknown_failure: ..."
// (probe/net/failure_map.hpp maps errno, c-ares, OpenSSL and libcurl errors
// onto them).
#pragma once

#include <string>

namespace meoktong::failure {

inline constexpr const char* kConnectionRefused = "connection_refused";
inline constexpr const char* kConnectionReset = "connection_reset";
inline constexpr const char* kTimeout = "generic_timeout_error";
inline constexpr const char* kDnsNxdomain = "dns_nxdomain_error";
inline constexpr const char* kDnsServfail = "dns_servfail_error";
inline constexpr const char* kDnsRefused = "dns_refused_error";
inline constexpr const char* kDnsNoAnswer = "dns_no_answer";
inline constexpr const char* kDnsBogusReply = "dns_bogus_reply_error";
inline constexpr const char* kEof = "eof_error";
inline constexpr const char* kSslInvalidHostname = "ssl_invalid_hostname";
inline constexpr const char* kSslUnknownAuthority = "ssl_unknown_authority";
inline constexpr const char* kSslInvalidCertificate = "ssl_invalid_certificate";
inline constexpr const char* kSslFailedHandshake = "ssl_failed_handshake";
inline constexpr const char* kHostUnreachable = "host_unreachable";
inline constexpr const char* kNetworkUnreachable = "network_unreachable";
inline constexpr const char* kTargetNotAllowed = "target_not_allowed";
inline constexpr const char* kHttpBodyTooLarge = "http_body_too_large";
inline constexpr const char* kHttpRequestFailed = "http_request_failed";  // an HTTP status the exchange cannot use
inline constexpr const char* kAppUnexpectedReply = "app_unexpected_reply";  // not the protocol's answer
inline constexpr const char* kAppNotGenuine = "app_not_genuine";            // the answer, but not to our request
inline constexpr const char* kUnknownPrefix = "unknown_failure: ";

}  // namespace meoktong::failure
