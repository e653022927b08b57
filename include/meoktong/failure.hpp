// The one vocabulary of failure strings (OONI's names where they exist) and
// the one place where errno, c-ares, DNS rcodes, OpenSSL and libcurl errors are
// mapped onto it. Every observation's `failure` comes from here.
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
inline constexpr const char* kUnknownPrefix = "unknown_failure: ";

// errno from connect/read/write -> failure string ("unknown_failure: <name>" otherwise).
std::string from_errno(int err);
// Symbolic errno name, e.g. "ECONNREFUSED", for raw_error.
std::string errno_name(int err);
// DNS response code (0..15) -> failure string; NOERROR maps to "" (no failure).
std::string from_dns_rcode(int rcode);
// c-ares status (ARES_*) -> failure string; ARES_SUCCESS maps to "".
std::string from_ares_status(int status);
// X509_V_ERR_* verification result -> ssl_* failure string.
std::string from_x509_verify(long verify_result);
// CURLcode -> failure string; CURLE_OK maps to "".
std::string from_curl(int curl_code);

// True for failure strings meaning "no answer within the deadline".
bool is_timeout(const std::string& f);

}  // namespace meoktong::failure
