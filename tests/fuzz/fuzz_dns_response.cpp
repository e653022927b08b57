// libFuzzer target for the DNS response parser the probe's listener uses
// (dns::parse_response + classify_response) on arbitrary packets, as A and
// as AAAA answers, and for the body of a DNS-over-HTTPS reply, which goes
// through the same parser (doh::read_reply, matched against the query).
// Any input must parse or be rejected, never crash.
// links: net
#include <cstddef>
#include <cstdint>

#include "probe/net/dns.hpp"
#include "probe/net/doh.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    for (int qtype : {meoktong::dns::kTypeA, meoktong::dns::kTypeAAAA}) {
        auto parsed = meoktong::dns::parse_response(data, size, qtype);
        if (parsed.valid) meoktong::dns::classify_response(parsed);
    }
    static const auto request = meoktong::doh::query_request("https://dns.example/dns-query", "line.me",
                                                             meoktong::dns::kTypeA, "", 1000);
    meoktong::PostReply reply;
    reply.status = 200;
    reply.body.assign(data, data + size);
    if (request) meoktong::doh::read_reply(request->url, "line.me", *request, meoktong::dns::kTypeA, reply);
    return 0;
}
