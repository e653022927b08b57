// TLS client handshake for measurements (see tls.hpp).
#include "probe/net/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>

#include "probe/net/failure_map.hpp"
#include "meoktong/target.hpp"
#include "meoktong/text.hpp"
#include "probe/net/tcp.hpp"

namespace meoktong::tls {
namespace {

constexpr int kMaxChainLength = 6;
constexpr int kMaxSanNames = 100;

struct CtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};

// One client context per trust store, shared by all threads (SSL_CTX is
// thread-safe once configured). nullptr when the CA file cannot be loaded.
SSL_CTX* context_for(const std::string& ca_file) {
    static std::mutex mutex;
    static auto* contexts = [] {
        OPENSSL_init_ssl(0, nullptr);  // before our destructor is registered: cleanup order
        static std::map<std::string, std::unique_ptr<SSL_CTX, CtxFree>> map;
        return &map;
    }();
    std::lock_guard lock(mutex);
    auto it = contexts->find(ca_file);
    if (it != contexts->end()) return it->second.get();
    std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(TLS_client_method()));
    if (ctx) {
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);  // verify, record, never abort
        bool loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                                      : SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) == 1;
        if (!loaded) ctx.reset();
    }
    SSL_CTX* raw = ctx.get();
    (*contexts)[ca_file] = std::move(ctx);
    return raw;
}

std::string openssl_error_text(unsigned long e) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

std::string name_text(const X509_NAME* name) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || name == nullptr) return "";
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
}

std::string iso_time(const ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "";
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::vector<std::string> san_dns_names(X509* cert) {
    std::vector<std::string> out;
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (names == nullptr) return out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && i < kMaxSanNames; ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
        if (n->type != GEN_DNS) continue;
        const ASN1_STRING* s = n->d.dNSName;
        out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(names);
    return out;
}

std::string sha256_hex(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return "";
    return hex_encode(std::string_view(reinterpret_cast<const char*>(md), n));
}

void configure_verification(SSL* ssl, const TlsRequest& req) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    bool first = true;
    for (const auto& name : req.verify_names) {
        if (is_ip_literal(name)) {
            X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
        } else if (first) {
            X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
            first = false;
        } else {
            X509_VERIFY_PARAM_add1_host(param, name.c_str(), 0);
        }
    }
}

void record_peer_chain(SSL* ssl, TlsObservation& obs) {
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
    for (int i = 0; chain != nullptr && i < sk_X509_num(chain) && i < kMaxChainLength; ++i)
        obs.peer_certificates.push_back(describe(sk_X509_value(chain, i)));
}

// The failure of a handshake step that did not want more I/O.
void classify_handshake_error(int ssl_error, int saved_errno, unsigned long lib_error, TlsObservation& obs) {
    if (ssl_error == SSL_ERROR_SYSCALL) {
        if (saved_errno != 0) {
            obs.failure = failure::from_errno(saved_errno);
            obs.raw_error = failure::errno_name(saved_errno);
        } else {
            obs.failure = failure::kEof;
            obs.raw_error = lib_error != 0 ? openssl_error_text(lib_error) : "unexpected EOF";
        }
        return;
    }
    if (ssl_error == SSL_ERROR_ZERO_RETURN ||
        (lib_error != 0 && ERR_GET_REASON(lib_error) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        obs.failure = failure::kEof;
        obs.raw_error = lib_error != 0 ? openssl_error_text(lib_error) : "close_notify";
        return;
    }
    obs.failure = failure::kSslFailedHandshake;
    obs.raw_error = lib_error != 0 ? openssl_error_text(lib_error) : "SSL_ERROR " + std::to_string(ssl_error);
}

// A BIO callback that ends OpenSSL's reads of the socket at the deadline
// (callback arg: the deadline). SSL_connect reads as long as bytes arrive, so a
// server streaming handshake messages the client skips (HelloRequest) without
// pause would otherwise hold it past any deadline; a read refused here is a
// retryable one, so the handshake loop below sees WANT_READ and times out.
long stop_reading_at_deadline(BIO* bio, int oper, const char*, size_t, int, long, int ret, size_t*) {
    if (oper != BIO_CB_READ) return ret;
    const auto* deadline = reinterpret_cast<const SteadyTime*>(BIO_get_callback_arg(bio));
    if (std::chrono::steady_clock::now() < *deadline) return ret;
    BIO_set_retry_read(bio);
    return -1;
}

// Drives SSL_connect until done, failed or past the deadline. True on success.
bool run_handshake(SSL* ssl, int fd, std::chrono::steady_clock::time_point deadline, TlsObservation& obs) {
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int rc = SSL_connect(ssl);
        if (rc == 1) return true;
        int saved_errno = errno;
        int ssl_error = SSL_get_error(ssl, rc);
        short events = ssl_error == SSL_ERROR_WANT_READ ? POLLIN : ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (events == 0) {
            classify_handshake_error(ssl_error, saved_errno, ERR_peek_last_error(), obs);
            return false;
        }
        if (!tcp::wait_ready(fd, events, deadline)) {
            obs.failure = failure::kTimeout;
            obs.raw_error = "handshake timed out";
            return false;
        }
    }
}

}  // namespace

CertificateInfo describe(X509* cert) {
    CertificateInfo info;
    info.subject = name_text(X509_get_subject_name(cert));
    info.issuer = name_text(X509_get_issuer_name(cert));
    info.not_before = iso_time(X509_get0_notBefore(cert));
    info.not_after = iso_time(X509_get0_notAfter(cert));
    info.dns_names = san_dns_names(cert);
    info.sha256 = sha256_hex(cert);
    return info;
}

namespace {

// A handshake driven to its end: the observation, and the session when the
// certificate verified (nothing is sent inside a session that did not).
struct Session {
    TlsObservation obs;
    std::unique_ptr<SSL, SslFree> ssl;
    std::unique_ptr<SteadyTime> deadline;  // the BIO callback's, moved on by the exchange
};

Session handshake_session(Connection& conn, const TlsRequest& request, SteadyTime start) {
    Session s;
    TlsObservation& obs = s.obs;
    obs.ip = conn.ip;
    obs.port = conn.port;
    obs.sni = request.sni;
    obs.purpose = request.purpose;
    obs.t0_ms = ms_since(start);
    s.deadline = std::make_unique<SteadyTime>(std::chrono::steady_clock::now() +
                                              std::chrono::milliseconds(request.timeout_ms));
    SSL_CTX* ctx = context_for(request.ca_file);
    std::unique_ptr<SSL, SslFree> ssl(ctx != nullptr ? SSL_new(ctx) : nullptr);
    if (!ssl || SSL_set_fd(ssl.get(), conn.fd) != 1) {
        obs.failure = std::string(failure::kUnknownPrefix) + "tls setup";
        obs.raw_error = ctx == nullptr ? "cannot load trust store '" + request.ca_file + "'" : "SSL_new";
        obs.t_ms = ms_since(start);
        return s;
    }
    BIO* socket_bio = SSL_get_rbio(ssl.get());
    BIO_set_callback_arg(socket_bio, reinterpret_cast<char*>(s.deadline.get()));
    BIO_set_callback_ex(socket_bio, stop_reading_at_deadline);
    if (!request.sni.empty()) SSL_set_tlsext_host_name(ssl.get(), request.sni.c_str());
    configure_verification(ssl.get(), request);
    bool ok = run_handshake(ssl.get(), conn.fd, *s.deadline, obs);
    obs.t_ms = ms_since(start);
    record_peer_chain(ssl.get(), obs);
    if (!ok) return s;
    obs.tls_version = SSL_get_version(ssl.get());
    if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl.get())) obs.cipher = SSL_CIPHER_get_name(c);
    long verify = SSL_get_verify_result(ssl.get());
    obs.certificate_valid = verify == X509_V_OK && !obs.peer_certificates.empty();
    if (!obs.certificate_valid) {
        obs.failure = verify == X509_V_OK ? failure::kSslInvalidCertificate : failure::from_x509_verify(verify);
        obs.raw_error = X509_verify_cert_error_string(verify);
        return s;
    }
    s.ssl = std::move(ssl);
    return s;
}

// The failure of an SSL_write/SSL_read that did not want more I/O.
void classify_session_error(int ssl_error, int saved_errno, unsigned long lib_error, AppReply& reply) {
    TlsObservation as_handshake;
    classify_handshake_error(ssl_error, saved_errno, lib_error, as_handshake);
    reply.failure = as_handshake.failure == failure::kSslFailedHandshake
                        ? std::string(failure::kUnknownPrefix) + "tls session error"
                        : *as_handshake.failure;
    reply.raw_error = as_handshake.raw_error;
}

// One SSL_write or SSL_read step: waits for the socket when OpenSSL asks to.
// Returns the byte count (> 0), 0 to try again, or -1 with reply's failure set.
template <typename Step>
int session_step(SSL* ssl, int fd, SteadyTime deadline, AppReply& reply, const char* timeout_text, Step step) {
    ERR_clear_error();
    errno = 0;
    int rc = step();
    if (rc > 0) return rc;
    int saved_errno = errno;
    int ssl_error = SSL_get_error(ssl, rc);
    short events = ssl_error == SSL_ERROR_WANT_READ ? POLLIN : ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (events == 0) {
        classify_session_error(ssl_error, saved_errno, ERR_peek_last_error(), reply);
        return -1;
    }
    if (!tcp::wait_ready(fd, events, deadline)) {
        reply.failure = failure::kTimeout;
        reply.raw_error = timeout_text;
        return -1;
    }
    return 0;
}

AppReply exchange_in_session(Session& s, int fd, const AppExchange& ex, SteadyTime start) {
    AppReply reply;
    reply.t0_ms = ms_since(start);
    *s.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ex.timeout_ms);
    SSL* ssl = s.ssl.get();
    size_t sent = 0;
    while (sent < ex.request.size()) {
        int n = session_step(ssl, fd, *s.deadline, reply, "request not sent before the deadline", [&] {
            return SSL_write(ssl, ex.request.data() + sent, static_cast<int>(ex.request.size() - sent));
        });
        if (n < 0) {
            reply.t_ms = ms_since(start);
            return reply;
        }
        sent += static_cast<size_t>(n);
    }
    uint8_t buffer[4096];
    while (!ex.reply_complete(reply.bytes) && reply.bytes.size() < ex.max_reply_bytes) {
        size_t room = std::min(sizeof buffer, ex.max_reply_bytes - reply.bytes.size());
        const char* timeout_text = reply.bytes.empty() ? "no reply" : "reply incomplete at the deadline";
        int n = session_step(ssl, fd, *s.deadline, reply, timeout_text,
                             [&] { return SSL_read(ssl, buffer, static_cast<int>(room)); });
        if (n < 0) {
            if (reply.failure == failure::kEof) reply.raw_error = reply.bytes.empty() ? "closed before replying" : "closed mid-reply";
            reply.t_ms = ms_since(start);
            return reply;
        }
        reply.bytes.insert(reply.bytes.end(), buffer, buffer + n);
    }
    reply.t_ms = ms_since(start);
    return reply;
}

}  // namespace

TlsObservation handshake(Connection& conn, const TlsRequest& request, SteadyTime start) {
    return handshake_session(conn, request, start).obs;
}

TlsExchangeResult handshake_and_exchange(Connection& conn, const TlsRequest& request, const AppExchange& exchange,
                                         SteadyTime start) {
    Session s = handshake_session(conn, request, start);
    TlsExchangeResult out;
    if (s.ssl) out.reply = exchange_in_session(s, conn.fd, exchange, start);
    out.tls = std::move(s.obs);
    return out;
}

}  // namespace meoktong::tls
