// The one analysis of a measurement's captured packets (observations.packets),
// for the verdict's facts and evidence sentences: TCP resets/FINs whose IP TTL
// differs from the server's SYN-ACK, resets and SYN-ACKs whose TTL is still a
// sender's initial value, and DNS queries answered twice (different answers,
// or the same answers with different IP TTLs). Pure.
#pragma once

#include <string>
#include <vector>

#include "meoktong/ipaddr.hpp"
#include "meoktong/record.hpp"

namespace meoktong {

struct PacketEvidence {
    // "rst_ttl_mismatch" | "fin_ttl_mismatch"   a RST/FIN from an address whose SYN-ACK had another TTL
    // "rst_unaged_ttl"                           a RST from a public address with no SYN-ACK to compare,
    //                                            its TTL still an initial value (64/128/255)
    // "synack_unaged_ttl"                        a SYN-ACK from a public address with an initial TTL
    // "dns_answers_differ"                       one query (resolver + DNS id) answered with different answers
    // "dns_ttl_mismatch"                         one query answered twice alike, with different IP TTLs
    // "dns_resolver_ttl_mismatch"                answers to different queries from one resolver, different IP TTLs
    std::string kind;
    std::string src;           // the remote IP:PORT the packets claim to come from
    bool strong = false;       // proves on-path interference by itself (answers differ; TTL off by 2 or more;
                               // an unaged reset); an unaged SYN-ACK proves something only with a bad certificate
    int ttl_difference = 0;    // largest IP TTL difference involved
    int ttl = -1;              // TCP kinds: the suspicious packet's IP TTL
    int ip_id = -1;            // TCP kinds: its IP ID (-1: none, IPv6)
    int synack_ttl = -1;       // *_ttl_mismatch: the server's SYN-ACK's IP TTL and IP ID
    int synack_ip_id = -1;
    int dns_id = -1;           // the DNS kinds' query id (-1 for TCP)
    std::string first_answer;  // dns_answers_differ: the answer that arrived first, e.g. "A 10.10.34.35"
    std::string sentence;      // plain language, quoted in a verdict's evidence
};

// Every piece of evidence in `packets`, DNS first, then TCP; empty when the
// packets show nothing suspicious (or there are none). `routable` lists the
// special-purpose networks that count as public here (context.routable).
std::vector<PacketEvidence> packet_injection_evidence(const std::vector<PacketObservation>& packets,
                                                      const std::vector<Cidr>& routable = {});

}  // namespace meoktong
