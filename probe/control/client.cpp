// The probe side of the control protocol: one libcurl POST /v1/measure with
// the run's targets, bounded in time and reply size, and a reply that is
// validated before it is believed. Every failure becomes a result's failure.
#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "probe/control/client.hpp"
#include "probe/net/failure_map.hpp"
#include "probe/control/protocol.hpp"

namespace meoktong {
namespace {

struct ReplyBuffer {
    std::string body;
    size_t cap = 0;
    bool too_large = false;
};

// Stops the transfer (CURLE_WRITE_ERROR) as soon as the reply passes its cap.
size_t collect_reply(char* data, size_t size, size_t count, void* user) {
    auto* reply = static_cast<ReplyBuffer*>(user);
    size_t len = size * count;
    if (reply->body.size() + len > reply->cap) {
        reply->too_large = true;
        return 0;
    }
    reply->body.append(data, len);
    return len;
}

std::string measure_url(std::string base) {
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + control::kMeasurePath;
}

// A token goes into a header line: refuse anything that could break out of it.
bool usable_token(const std::string& token) {
    return std::all_of(token.begin(), token.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

std::vector<ControlResult> exchange(const ControlClientSettings& settings, const std::vector<Target>& targets,
                                    std::string* client_address) {
    static std::once_flag curl_ready;
    std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (!usable_token(settings.token))
        return control::failed_results(targets.size(), std::string(control::kUnreachablePrefix) + "invalid_token");
    CurlHandle curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return control::failed_results(targets.size(), std::string(control::kUnreachablePrefix) + "curl_init");

    HeaderList headers(nullptr, curl_slist_free_all);
    for (std::string h : {std::string("Content-Type: application/json"), std::string("Accept: application/json"),
                          std::string("Expect:"), "Authorization: Bearer " + settings.token}) {
        curl_slist* grown = curl_slist_append(headers.get(), h.c_str());
        if (!grown) return control::failed_results(targets.size(), std::string(control::kUnreachablePrefix) + "curl_init");
        headers.release();
        headers.reset(grown);
    }
    std::string url = measure_url(settings.url);
    std::string body = control::measure_request_body(targets);
    ReplyBuffer reply;
    reply.cap = settings.max_reply_bytes;
    long timeout_ms = std::max(1, settings.timeout_ms);
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10000L));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_reply);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(settings.max_reply_bytes));
    curl_easy_setopt(c, CURLOPT_USERAGENT, (std::string(kSoftwareName) + "/" + kSoftwareVersion).c_str());
    if (!settings.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings.ca_file.c_str());

    CURLcode rc = curl_easy_perform(c);
    if (reply.too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return control::failed_results(targets.size(), control::kReplyTooLarge);
    if (rc != CURLE_OK)
        return control::failed_results(targets.size(), control::kUnreachablePrefix + failure::from_curl(rc));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return control::failed_results(targets.size(), control::kHttpPrefix + std::to_string(status));
    return control::parse_measure_reply(reply.body, targets, client_address);
}

}  // namespace

std::vector<ControlResult> query_control(const ControlClientSettings& settings, const std::vector<Target>& targets,
                                         std::string* client_address) {
    if (targets.empty()) return {};
    try {
        return exchange(settings, targets, client_address);
    } catch (const std::exception&) {  // e.g. bad_alloc: still an answer, never an abort
        return control::failed_results(targets.size(), std::string(control::kUnreachablePrefix) + "internal_error");
    }
}

}  // namespace meoktong
