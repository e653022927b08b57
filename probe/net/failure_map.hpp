// The one place where errno, DNS rcodes, c-ares, OpenSSL (X509) and libcurl
// errors are mapped onto the failure vocabulary of meoktong/failure.hpp.
// Pure functions: no I/O.
#pragma once

#include <string>

#include "meoktong/failure.hpp"

namespace meoktong::failure {

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
// A DNS-over-HTTPS reply's HTTP status -> failure string; 200 maps to "".
std::string from_doh_status(int status);
// CURLcode -> failure string; CURLE_OK maps to "".
std::string from_curl(int curl_code);

}  // namespace meoktong::failure
