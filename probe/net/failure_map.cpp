// Maps every low-level error source onto the stable failure vocabulary of
// meoktong/failure.hpp. Pure functions: no I/O.
#include "probe/net/failure_map.hpp"

#include <ares.h>
#include <cerrno>
#include <curl/curl.h>
#include <openssl/x509_vfy.h>

namespace meoktong::failure {

std::string errno_name(int err) {
    switch (err) {
        case ECONNREFUSED: return "ECONNREFUSED";
        case ECONNRESET: return "ECONNRESET";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EHOSTUNREACH: return "EHOSTUNREACH";
        case ENETUNREACH: return "ENETUNREACH";
        case EPIPE: return "EPIPE";
        case ECONNABORTED: return "ECONNABORTED";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case EAFNOSUPPORT: return "EAFNOSUPPORT";
        case EACCES: return "EACCES";
        case EPERM: return "EPERM";
        case ENETDOWN: return "ENETDOWN";
        case EHOSTDOWN: return "EHOSTDOWN";
        case EPROTO: return "EPROTO";
        default: return "errno=" + std::to_string(err);
    }
}

std::string from_errno(int err) {
    switch (err) {
        case ECONNREFUSED: return kConnectionRefused;
        case ECONNRESET:
        case EPIPE:
        case ECONNABORTED: return kConnectionReset;
        case ETIMEDOUT: return kTimeout;
        case EHOSTUNREACH:
        case EHOSTDOWN: return kHostUnreachable;
        case ENETUNREACH:
        case ENETDOWN: return kNetworkUnreachable;
        default: return std::string(kUnknownPrefix) + errno_name(err);
    }
}

std::string from_dns_rcode(int rcode) {
    switch (rcode) {
        case 0: return "";
        case 2: return kDnsServfail;
        case 3: return kDnsNxdomain;
        case 5: return kDnsRefused;
        default: return std::string(kUnknownPrefix) + "dns_rcode_" + std::to_string(rcode);
    }
}

std::string from_ares_status(int status) {
    switch (status) {
        case ARES_SUCCESS: return "";
        case ARES_ENOTFOUND: return kDnsNxdomain;
        case ARES_ENODATA: return kDnsNoAnswer;
        case ARES_ESERVFAIL: return kDnsServfail;
        case ARES_EREFUSED: return kDnsRefused;
        case ARES_ETIMEOUT: return kTimeout;
        case ARES_EBADRESP:
        case ARES_EFORMERR: return kDnsBogusReply;
        case ARES_ECONNREFUSED: return kConnectionRefused;
        default: return std::string(kUnknownPrefix) + ares_strerror(status);
    }
}

std::string from_x509_verify(long v) {
    switch (v) {
        case X509_V_OK: return "";
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
        case X509_V_ERR_EMAIL_MISMATCH: return kSslInvalidHostname;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_UNTRUSTED: return kSslUnknownAuthority;
        default: return kSslInvalidCertificate;  // expired, not yet valid, bad signature...
    }
}

std::string from_doh_status(int status) { return status == 200 ? "" : kHttpRequestFailed; }

std::string from_curl(int code) {
    switch (static_cast<CURLcode>(code)) {
        case CURLE_OK: return "";
        case CURLE_OPERATION_TIMEDOUT: return kTimeout;
        case CURLE_COULDNT_CONNECT: return kConnectionRefused;
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR: return kConnectionReset;
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE: return kEof;  // the peer closed before the whole reply arrived
        case CURLE_PEER_FAILED_VERIFICATION: return kSslInvalidCertificate;
        case CURLE_SSL_CONNECT_ERROR: return kSslFailedHandshake;
        case CURLE_FILESIZE_EXCEEDED: return kHttpBodyTooLarge;
        case CURLE_WRITE_ERROR: return kHttpBodyTooLarge;  // our write callback stops oversized bodies
        default: return std::string(kUnknownPrefix) + curl_easy_strerror(static_cast<CURLcode>(code));
    }
}

}  // namespace meoktong::failure
