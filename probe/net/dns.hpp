// DNS over UDP with our own sockets: queries built with ares_create_query,
// responses read by the one DNS message reader (dns_message.hpp), and a
// listener that stays open after the first answer to record late and duplicate
// (injected) responses with their arrival time and IP TTL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "meoktong/record.hpp"
#include "probe/net/dns_message.hpp"
#include "probe/net/net.hpp"

namespace meoktong::dns {

inline constexpr int kTypeA = kDnsTypeA;
inline constexpr int kTypeAAAA = kDnsTypeAAAA;
// At most this many responses to one query are recorded (DnsObservation::responses):
// a flood of answers costs the probe reading time, never memory.
inline constexpr size_t kMaxResponsesPerQuery = 16;
// The largest UDP answer read whole; a bigger one is a bogus reply (we ask
// without EDNS, so a real resolver sends at most 512 bytes or sets TC).
inline constexpr size_t kMaxDatagramBytes = 4096;

// One response packet, parsed. `valid` is false when it is not a DNS response at all.
struct ParsedResponse {
    bool valid = false;
    uint16_t id = 0;
    int rcode = -1;
    bool truncated = false;             // TC bit: the resolver cut the answer (we never retry over TCP)
    bool oversized = false;             // the datagram did not fit our buffer: only its start was read
    int ares_status = 0;                // c-ares's status reading the address records
    std::vector<DnsAnswer> answers;
};

// The wire query c-ares builds for `host` (class IN, recursion desired, no
// EDNS) with message id `id`; nullopt when the name cannot be encoded. The UDP
// queries and the DNS-over-HTTPS ones (doh.hpp, id 0) are the same bytes.
std::optional<std::vector<unsigned char>> encode_query(const std::string& host, int qtype, uint16_t id);

// True when a response repeats the query's one question (name in any case,
// type, class), as c-ares itself checks before accepting an answer.
bool answers_question(std::span<const uint8_t> response, std::span<const uint8_t> query);

// Parses untrusted bytes as a response to a query of `qtype` (kTypeA/kTypeAAAA).
ParsedResponse parse_response(const unsigned char* data, size_t len, int qtype);

// The failure string and raw error of a first response (nullopt failure = answers).
std::pair<std::optional<std::string>, std::string> classify_response(const ParsedResponse& r);

// "IP", "IP:PORT", "[IPv6]:PORT" or bare IPv6 -> normalised "IP:PORT" /
// "[IPv6]:PORT"; nullopt if malformed.
std::optional<std::string> normalise_resolver(const std::string& text);

// The system resolver's first nameserver, as c-ares reads resolv.conf ("" if none).
std::string system_resolver_address();

// Queries A and AAAA at every resolver in parallel (see Net::dns_lookup).
std::vector<DnsObservation> lookup(const std::string& host, const std::vector<ResolverSpec>& resolvers, int timeout_ms,
                                   int late_window_ms, SteadyTime start);

}  // namespace meoktong::dns
