// HTTP(S) measurement with libcurl and the body text helpers (see http.hpp).
#include "probe/net/http.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "probe/net/failure_map.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/target.hpp"
#include "meoktong/text.hpp"

namespace meoktong::http {
namespace {

constexpr size_t kTitleWindow = 64 * 1024;
constexpr size_t kMaxHeaders = 100;

// Bytes in the UTF-8 sequence starting at p (0 if it is not valid there).
size_t utf8_sequence_length(const unsigned char* p, size_t left) {
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (left < need + 1) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i <= need; ++i)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return need + 1;
}

// Decodes the handful of entities titles commonly use; others stay as written.
std::string decode_entities(std::string_view s) {
    static const std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''},
        {"&nbsp;", ' '}};
    std::string out;
    for (size_t i = 0; i < s.size();) {
        bool replaced = false;
        if (s[i] == '&') {
            for (const auto& [name, ch] : kEntities) {
                if (s.substr(i, name.size()) == name) {
                    out += ch;
                    i += name.size();
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out += s[i++];
    }
    return out;
}

std::string collapse_whitespace(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

// Streams the body: hash, length, bounded head kept for title and excerpt.
struct BodySink {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md{EVP_MD_CTX_new(), EVP_MD_CTX_free};
    std::string head;
    size_t keep = kTitleWindow;
    size_t max = 0;
    int64_t total = 0;
    bool truncated = false;
    SteadyTime start;
    double last_byte_ms = -1;  // when the last body byte arrived, since start
};

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
    auto* sink = static_cast<BodySink*>(user);
    size_t n = size * nmemb;
    size_t room = sink->max - static_cast<size_t>(sink->total);
    size_t take = std::min(n, room);
    EVP_DigestUpdate(sink->md.get(), data, take);
    if (sink->head.size() < sink->keep) sink->head.append(data, std::min(take, sink->keep - sink->head.size()));
    sink->total += static_cast<int64_t>(take);
    if (n > 0) sink->last_byte_ms = ms_since(sink->start);
    if (take < n) {
        sink->truncated = true;
        return 0;  // stop the transfer: the body bound is reached
    }
    return n;
}

size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
    auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
    std::string_view line(data, size * nmemb);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.substr(0, 5) == "HTTP/") {
        headers->clear();  // a new response (after 1xx): keep only the final one's headers
        return size * nmemb;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || headers->size() >= kMaxHeaders) return size * nmemb;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers->emplace_back(sanitize_utf8(line.substr(0, std::min<size_t>(colon, 256))),
                          sanitize_utf8(value.substr(0, kMaxHeaderValue)));
    return size * nmemb;
}

std::string hex_digest(EVP_MD_CTX* md) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(md, out, &n) != 1) return "";
    return hex_encode(std::string_view(reinterpret_cast<const char*>(out), n));
}

void ensure_curl_initialised() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

size_t valid_utf8_prefix_length(std::string_view s, size_t max) {
    size_t limit = std::min(max, s.size());
    size_t i = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    while (i < limit) {
        size_t n = utf8_sequence_length(p + i, s.size() - i);
        if (n == 0 || i + n > limit) break;
        i += n;
    }
    return i;
}

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_sequence_length(p + i, s.size() - i);
        if (n == 0) {
            out += '?';
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::string extract_title(std::string_view body) {
    std::string_view window = body.substr(0, kTitleWindow);
    const std::string folded = ascii_lower(window);  // the tags in any case; the same offsets as window
    size_t open = folded.find("<title");
    while (open != std::string_view::npos) {
        size_t after = open + 6;
        if (after < window.size() && (window[after] == '>' || std::isspace(static_cast<unsigned char>(window[after]))))
            break;
        open = folded.find("<title", after);
    }
    if (open == std::string_view::npos) return "";
    size_t gt = window.find('>', open);
    if (gt == std::string_view::npos) return "";
    size_t close = folded.find("</title", gt + 1);
    std::string_view raw = window.substr(gt + 1, close == std::string_view::npos ? std::string_view::npos : close - gt - 1);
    std::string text = collapse_whitespace(decode_entities(sanitize_utf8(raw.substr(0, kMaxTitleBytes * 8))));
    return text.substr(0, valid_utf8_prefix_length(text, kMaxTitleBytes));
}

// What every measuring request shares: the direct path (no environment proxy), no
// redirects, one deadline for connect and transfer, our user agent, the CA file.
static void set_measuring_options(CURL* c, int timeout_ms, const std::string& ca_file, char* error_buffer) {
    curl_easy_setopt(c, CURLOPT_PROXY, "");  // never an environment proxy: we measure the direct path
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "meoktong/0.1.0");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
    if (!ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
}

// CURLOPT_PREREQFUNCTION: the connection is up, the request not yet sent. No
// exception may unwind through libcurl's C frames: a failing watcher (e.g.
// bad_alloc) only loses the capture of this connection.
static int on_prerequest(void* clientp, char*, char*, int, int local_port) {
    const auto& on_connected = *static_cast<const std::function<void(uint16_t)>*>(clientp);
    try {
        if (local_port > 0 && local_port <= 65535) on_connected(static_cast<uint16_t>(local_port));
    } catch (...) {
    }
    return CURL_PREREQFUNC_OK;
}

HttpObservation get(const HttpRequest& req, SteadyTime start) {
    ensure_curl_initialised();
    HttpObservation obs;
    obs.url = req.url;
    obs.ip = req.ip;
    obs.port = req.port;
    obs.t0_ms = ms_since(start);
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    BodySink sink;
    sink.max = req.max_body_bytes;
    sink.keep = std::max(kTitleWindow, req.excerpt_bytes);
    sink.start = start;
    if (!curl || !sink.md || EVP_DigestInit_ex(sink.md.get(), EVP_sha256(), nullptr) != 1) {
        obs.failure = std::string(failure::kUnknownPrefix) + "http setup";
        obs.t_ms = ms_since(start);
        return obs;
    }
    std::string pin = req.host + ":" + std::to_string(req.port) + ":" +
                      (req.ip.find(':') != std::string::npos ? "[" + req.ip + "]" : req.ip);
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> resolve(
        req.ip.empty() || is_ip_literal(req.host) ? nullptr : curl_slist_append(nullptr, pin.c_str()),
        curl_slist_free_all);
    char error_buffer[CURL_ERROR_SIZE] = {};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
    set_measuring_options(c, req.timeout_ms, req.ca_file, error_buffer);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &obs.headers);
    if (req.on_connected) {
        curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prerequest);
        curl_easy_setopt(c, CURLOPT_PREREQDATA, &req.on_connected);
    }
    CURLcode rc = curl_easy_perform(c);
    obs.t_ms = ms_since(start);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    obs.status = static_cast<int>(status);
    obs.body_length = sink.total;
    obs.body_truncated = sink.truncated;
    obs.body_sha256 = hex_digest(sink.md.get());
    obs.title = extract_title(sink.head);
    obs.body_excerpt = sink.head.substr(0, valid_utf8_prefix_length(sink.head, req.excerpt_bytes));
    bool stopped_by_bound = rc == CURLE_WRITE_ERROR && sink.truncated;
    if (rc != CURLE_OK && !stopped_by_bound) {
        obs.failure = failure::from_curl(rc);
        obs.raw_error = sanitize_utf8(error_buffer[0] != 0 ? error_buffer : curl_easy_strerror(rc));
    }
    // A download that ran into the deadline keeps what arrived and how fast:
    // a throttled path times out, and its rate is the evidence.
    if (req.measure_throughput && (!obs.failure || obs.failure == failure::kTimeout)) {
        curl_off_t bytes_per_second = 0, total_us = 0;
        curl_easy_getinfo(c, CURLINFO_SPEED_DOWNLOAD_T, &bytes_per_second);
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total_us);
        obs.throughput_kbps = static_cast<double>(bytes_per_second) * 8.0 / 1000.0;
        obs.transfer_ms = static_cast<double>(total_us) / 1000.0;
        // A stalled flow (TSPU-style: stopped dead after some kilobytes, no reset) shows
        // as a long silence before the deadline; a throttled one keeps trickling. The
        // silence runs from the last byte of the answer or, when none came (a cut before
        // the first TLS record was whole), from the end of the handshake; a handshake
        // that never ended is no stall.
        if (obs.failure) {
            curl_off_t connected_us = 0;
            bool tls = req.url.starts_with("https://");
            curl_easy_getinfo(c, tls ? CURLINFO_APPCONNECT_TIME_T : CURLINFO_CONNECT_TIME_T, &connected_us);
            double silent_since = sink.last_byte_ms >= 0 ? sink.last_byte_ms
                                  : connected_us > 0     ? obs.t0_ms + static_cast<double>(connected_us) / 1000.0
                                                         : -1;
            if (silent_since >= 0) obs.stall_ms = std::max(0.0, obs.t_ms - silent_since);
        }
    }
    return obs;
}

namespace {

struct PostSink {
    std::vector<uint8_t>* body = nullptr;
    size_t max = 0;
};

size_t on_post_body(char* data, size_t size, size_t nmemb, void* user) {
    auto* sink = static_cast<PostSink*>(user);
    size_t n = size * nmemb;
    if (sink->body->size() + n > sink->max) return 0;  // CURLE_WRITE_ERROR: http_body_too_large
    sink->body->insert(sink->body->end(), data, data + n);
    return n;
}

}  // namespace

PostReply post(const PostRequest& req, SteadyTime start) {
    ensure_curl_initialised();
    PostReply reply;
    reply.t0_ms = ms_since(start);
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    std::string content_type = "Content-Type: " + req.content_type;
    std::string accept = "Accept: " + req.content_type;
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
        curl_slist_append(curl_slist_append(nullptr, content_type.c_str()), accept.c_str()), curl_slist_free_all);
    if (!curl || !headers) {
        reply.failure = std::string(failure::kUnknownPrefix) + "http setup";
        reply.t_ms = ms_since(start);
        return reply;
    }
    PostSink sink{&reply.body, req.max_reply_bytes};
    char error_buffer[CURL_ERROR_SIZE] = {};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    set_measuring_options(c, req.timeout_ms, req.ca_file, error_buffer);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(req.body.data()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_post_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(c);
    reply.t_ms = ms_since(start);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    reply.status = static_cast<int>(status);
    char* ip = nullptr;
    long port = 0;
    if (curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != nullptr && ip[0] != 0 &&
        curl_easy_getinfo(c, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK)
        reply.server_address = join_host_port(ip, static_cast<uint16_t>(port));
    char* type = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr)
        reply.content_type = sanitize_utf8(std::string_view(type).substr(0, kMaxHeaderValue));
    if (rc != CURLE_OK) {
        reply.failure = failure::from_curl(rc);
        reply.raw_error = sanitize_utf8(error_buffer[0] != 0 ? error_buffer : curl_easy_strerror(rc));
    }
    return reply;
}

}  // namespace meoktong::http
