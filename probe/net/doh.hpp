// DNS over HTTPS (RFC 8484) as one more resolver: the wire query c-ares
// builds (dns.hpp, message id 0) POSTed as application/dns-message through
// the Net seam's https_post, the answer read by the one DNS message reader.
// Each query becomes a DnsObservation like a UDP resolver's, with transport
// "doh" and the URL's host as the resolver.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "meoktong/record.hpp"
#include "probe/net/net.hpp"

namespace meoktong::doh {

inline constexpr const char* kContentType = "application/dns-message";
inline constexpr const char* kTransport = "doh";

// The host of an https:// URL with a host (libcurl's URL parser), as the
// resolver's name; nullopt for anything else.
std::optional<std::string> url_host(const std::string& url);

// The POST that asks `url` for the `qtype` records of `host`; nullopt when
// the name cannot be encoded.
std::optional<PostRequest> query_request(const std::string& url, const std::string& host, int qtype,
                                         const std::string& ca_file, int timeout_ms);

// The observation of one DoH query: the transport's failure, an HTTP status
// other than 200 (http_request_failed), a body that is not a DNS answer to
// the query (dns_bogus_reply_error), or the answer classified as a UDP one.
DnsObservation read_reply(const std::string& url, const std::string& host, const PostRequest& request, int qtype,
                          const PostReply& reply);

// A and AAAA for `host` at every DoH URL, all in parallel; per URL in order,
// the A observation then the AAAA observation.
std::vector<DnsObservation> lookup(Net& net, const std::string& host, const std::vector<std::string>& urls,
                                   const std::string& ca_file, int timeout_ms, SteadyTime start);

}  // namespace meoktong::doh
