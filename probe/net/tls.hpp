// TLS handshake measurement with OpenSSL on an already connected socket:
// non-blocking, deadline-bounded, chain and name verified without aborting the
// handshake (so a MITM certificate is still recorded with its issuer); and an
// app exchange inside a verified session.
#pragma once

#include <openssl/x509.h>

#include "meoktong/record.hpp"
#include "probe/net/net.hpp"

namespace meoktong::tls {

TlsObservation handshake(Connection& conn, const TlsRequest& request, SteadyTime start);

// The handshake, then, only when the certificate verified, an app protocol's
// first exchange inside the session (Net::tls_exchange).
TlsExchangeResult handshake_and_exchange(Connection& conn, const TlsRequest& request, const AppExchange& exchange,
                                         SteadyTime start);

// Subject, issuer, validity (ISO 8601 UTC), SAN DNS names and SHA-256 of a certificate.
CertificateInfo describe(X509* cert);

}  // namespace meoktong::tls
