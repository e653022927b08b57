// DNS over HTTPS (doh.hpp): building the POST, reading its reply into a
// DnsObservation, asking every DoH resolver for A and AAAA in parallel.
#include "probe/net/doh.hpp"

#include <curl/curl.h>

#include <memory>

#include "meoktong/failure.hpp"
#include "meoktong/parallel.hpp"
#include "meoktong/text.hpp"
#include "probe/net/dns.hpp"
#include "probe/net/failure_map.hpp"

namespace meoktong::doh {
namespace {

// The content type without parameters, lower case: "application/dns-message".
std::string media_type(const std::string& content_type) {
    std::string type = ascii_lower(content_type.substr(0, content_type.find(';')));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    return type;
}

DnsObservation blank_observation(const std::string& url, const std::string& host, int qtype) {
    DnsObservation obs;
    obs.resolver = url_host(url).value_or(url);
    obs.transport = kTransport;
    obs.hostname = host;
    obs.query_type = qtype == dns::kTypeAAAA ? "AAAA" : "A";
    return obs;
}

}  // namespace

std::optional<std::string> url_host(const std::string& url) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
    if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
    char* scheme = nullptr;
    char* host = nullptr;
    std::optional<std::string> out;
    if (curl_url_get(parsed.get(), CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK && std::string_view(scheme) == "https" &&
        host[0] != 0)
        out = host;
    curl_free(scheme);
    curl_free(host);
    return out;
}

std::optional<PostRequest> query_request(const std::string& url, const std::string& host, int qtype,
                                         const std::string& ca_file, int timeout_ms) {
    auto query = dns::encode_query(host, qtype, 0);  // RFC 8484 §4.1: id 0, so that caches can share answers
    if (!query) return std::nullopt;
    PostRequest request;
    request.url = url;
    request.content_type = kContentType;
    request.body.assign(query->begin(), query->end());
    request.ca_file = ca_file;
    request.timeout_ms = timeout_ms;
    return request;
}

DnsObservation read_reply(const std::string& url, const std::string& host, const PostRequest& request, int qtype,
                          const PostReply& reply) {
    DnsObservation obs = blank_observation(url, host, qtype);
    obs.resolver_address = reply.server_address;
    obs.t0_ms = reply.t0_ms;
    obs.t_ms = reply.t_ms;
    if (reply.failure) {
        obs.failure = reply.failure;
        obs.raw_error = reply.raw_error;
        return obs;
    }
    if (reply.status != 200) {
        obs.failure = failure::from_doh_status(reply.status);
        obs.raw_error = "HTTP " + std::to_string(reply.status);
        return obs;
    }
    auto parsed = dns::parse_response(reply.body.data(), reply.body.size(), qtype);
    if (!parsed.valid || parsed.id != 0 || !dns::answers_question(reply.body, request.body)) {
        obs.failure = failure::kDnsBogusReply;
        obs.raw_error = "not a DNS answer to the query (" + std::to_string(reply.body.size()) + " bytes, " +
                        (reply.content_type.empty() ? "no content type" : media_type(reply.content_type)) + ")";
        return obs;
    }
    obs.rcode = parsed.rcode;
    obs.answers = parsed.answers;
    obs.responses.push_back(DnsResponse{reply.t_ms, parsed.rcode, -1, parsed.answers});
    auto [fail, raw] = dns::classify_response(parsed);
    obs.failure = fail;
    obs.raw_error = raw;
    return obs;
}

std::vector<DnsObservation> lookup(Net& net, const std::string& host, const std::vector<std::string>& urls,
                                   const std::string& ca_file, int timeout_ms, SteadyTime start) {
    std::vector<DnsObservation> out(urls.size() * 2);
    parallel_for(out.size(), out.size(), [&](size_t i) {
        const std::string& url = urls[i / 2];
        int qtype = i % 2 == 0 ? dns::kTypeA : dns::kTypeAAAA;
        auto request = query_request(url, host, qtype, ca_file, timeout_ms);
        if (!request) {
            out[i] = blank_observation(url, host, qtype);
            out[i].t0_ms = out[i].t_ms = ms_since(start);
            out[i].failure = std::string(failure::kUnknownPrefix) + "cannot encode query";
            out[i].raw_error = "ares_create_query";
            return;
        }
        out[i] = read_reply(url, host, *request, qtype, net.https_post(*request, start));
    });
    return out;
}

}  // namespace meoktong::doh
