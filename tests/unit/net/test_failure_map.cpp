// Error classification: errno, DNS rcodes, c-ares, X509 verification and
// curl codes onto the one failure vocabulary.
#include <doctest/doctest.h>

#include <ares.h>
#include <curl/curl.h>
#include <openssl/x509_vfy.h>

#include <cerrno>

#include "probe/net/failure_map.hpp"

using namespace meoktong;

TEST_CASE("errno values map to OONI failure strings") {
    CHECK(failure::from_errno(ECONNREFUSED) == "connection_refused");
    CHECK(failure::from_errno(ECONNRESET) == "connection_reset");
    CHECK(failure::from_errno(ETIMEDOUT) == "generic_timeout_error");
    CHECK(failure::from_errno(EHOSTUNREACH) == "host_unreachable");
    CHECK(failure::from_errno(ENETUNREACH) == "network_unreachable");
    CHECK(failure::from_errno(EMFILE).rfind("unknown_failure: ", 0) == 0);
    CHECK(failure::errno_name(ECONNREFUSED) == "ECONNREFUSED");
}

TEST_CASE("DNS rcodes and c-ares statuses") {
    CHECK(failure::from_dns_rcode(0).empty());
    CHECK(failure::from_dns_rcode(2) == "dns_servfail_error");
    CHECK(failure::from_dns_rcode(3) == "dns_nxdomain_error");
    CHECK(failure::from_dns_rcode(5) == "dns_refused_error");
    CHECK(failure::from_ares_status(ARES_ENODATA) == "dns_no_answer");
    CHECK(failure::from_ares_status(ARES_ETIMEOUT) == "generic_timeout_error");
}

TEST_CASE("certificate verification results") {
    CHECK(failure::from_x509_verify(X509_V_OK).empty());
    CHECK(failure::from_x509_verify(X509_V_ERR_HOSTNAME_MISMATCH) == "ssl_invalid_hostname");
    CHECK(failure::from_x509_verify(X509_V_ERR_IP_ADDRESS_MISMATCH) == "ssl_invalid_hostname");
    CHECK(failure::from_x509_verify(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) == "ssl_unknown_authority");
    CHECK(failure::from_x509_verify(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) == "ssl_unknown_authority");
    CHECK(failure::from_x509_verify(X509_V_ERR_CERT_HAS_EXPIRED) == "ssl_invalid_certificate");
}

TEST_CASE("curl codes") {
    CHECK(failure::from_curl(CURLE_OK).empty());
    CHECK(failure::from_curl(CURLE_OPERATION_TIMEDOUT) == "generic_timeout_error");
    CHECK(failure::from_curl(CURLE_RECV_ERROR) == "connection_reset");
    CHECK(failure::from_curl(CURLE_GOT_NOTHING) == "eof_error");
    CHECK(failure::from_curl(CURLE_PARTIAL_FILE) == "eof_error");
}
