// Injection evidence read from one measurement's captured packets
// (observations.packets): forged TCP resets/FINs whose IP TTL differs from the
// server's SYN-ACK, and DNS queries answered twice (different answers, or the
// same answers with different IP TTLs). Pure; for the verdict engine.
#pragma once

#include <string>
#include <vector>

#include "meoktong/record.hpp"

namespace meoktong {

struct PacketEvidence {
    // "rst_ttl_mismatch" | "fin_ttl_mismatch"   a RST/FIN from an address whose SYN-ACK had another TTL
    // "dns_answers_differ"                       one query (resolver + DNS id) answered with different answers
    // "dns_ttl_mismatch"                         one query answered twice alike, with different IP TTLs
    // "dns_resolver_ttl_mismatch"                answers to different queries from one resolver, different IP TTLs
    std::string kind;
    std::string src;           // the remote IP:PORT the packets claim to come from
    bool strong = false;       // proves on-path interference by itself (answers differ; TTL off by 2 or more)
    int ttl_difference = 0;    // largest IP TTL difference involved
    int dns_id = -1;           // the DNS kinds' query id (-1 for TCP)
    std::string first_answer;  // dns_answers_differ: the answer that arrived first, e.g. "A 10.10.34.35"
    std::string sentence;      // plain language, quotable in a verdict's evidence
};

// Every piece of evidence in `packets`, DNS first, then TCP; empty when the
// packets show nothing suspicious (or there are none).
std::vector<PacketEvidence> packet_injection_evidence(const std::vector<PacketObservation>& packets);

}  // namespace meoktong
