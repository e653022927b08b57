// The one analysis of captured packet facts: compares the IP TTLs of RST/FIN
// packets with the same address's SYN-ACK, spots TTLs still at a sender's
// initial value, and compares the answers and IP TTLs of DNS responses to one
// query. See packet_evidence.hpp.
#include "analysis/verdict/packet_evidence.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "meoktong/parse.hpp"

namespace meoktong {
namespace {

using Packets = std::vector<const PacketObservation*>;

// "IP:PORT" or "[IP]:PORT" -> IP.
std::string address_of(const std::string& src) {
    auto split = split_host_port(src);
    return split ? split->host : src;
}

// A TTL still at a sender's initial value crossed no router: sent from this network segment.
bool unaged_ttl(int ttl) { return ttl == 64 || ttl == 128 || ttl == 255; }

bool remote(const std::string& src, const std::vector<Cidr>& routable) {
    return !special_purpose(address_of(src), routable);
}

std::string hex_id(int id) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%04x", id & 0xffff);
    return text;
}

std::string ms(double t) { return std::to_string(static_cast<long>(t + 0.5)) + " ms"; }

std::string rcode_name(int rcode) {
    switch (rcode) {
        case 0: return "no address";
        case 2: return "SERVFAIL";
        case 3: return "NXDOMAIN";
        case 5: return "REFUSED";
        default: return "rcode " + std::to_string(rcode);
    }
}

// "A 10.10.34.35, A 10.10.34.36" / "NXDOMAIN": what a response said, in order.
std::string answer_text(const PacketObservation& p) {
    if (p.answers.empty()) return rcode_name(p.dns_rcode);
    std::string out;
    for (const auto& a : p.answers) out += (out.empty() ? "" : ", ") + a.type + " " + a.value;
    return out;
}

// What a response said, order-independent, for comparing two responses.
std::pair<int, std::set<std::string>> answer_key(const PacketObservation& p) {
    std::set<std::string> values;
    for (const auto& a : p.answers) values.insert(a.type + " " + a.value);
    return {p.dns_rcode, values};
}

int ttl_spread(const Packets& ps) {
    auto [lo, hi] = std::minmax_element(ps.begin(), ps.end(),
                                        [](const auto* a, const auto* b) { return a->ip_ttl < b->ip_ttl; });
    return (*hi)->ip_ttl - (*lo)->ip_ttl;
}

std::string join_ttls(const std::set<int>& ttls) {
    std::string out;
    size_t i = 0;
    for (int t : ttls) out += (i++ == 0 ? "" : i == ttls.size() ? " and " : ", ") + std::to_string(t);
    return out;
}

// One query answered more than once: different answers, or alike with different TTLs.
void duplicate_answer_evidence(const std::string& src, int id, const Packets& answers,
                               std::vector<PacketEvidence>& out) {
    std::set<std::pair<int, std::set<std::string>>> distinct;
    std::set<int> ttls;
    for (const auto* p : answers) {
        distinct.insert(answer_key(*p));
        ttls.insert(p->ip_ttl);
    }
    PacketEvidence e;
    e.src = src;
    e.dns_id = id;
    e.ttl_difference = ttl_spread(answers);
    if (distinct.size() > 1) {
        e.kind = "dns_answers_differ";
        e.strong = true;
        e.first_answer = answer_text(*answers.front());
        e.sentence = std::to_string(answers.size()) + " different answers to one DNS query (id " + hex_id(id) +
                     ") from " + src + ": ";
        for (size_t i = 0; i < answers.size(); ++i) {
            const auto& p = *answers[i];
            e.sentence += (i == 0 ? "" : ", then ") + answer_text(p) + (i == 0 ? " first" : "") + " after " +
                          ms(p.t_ms) + " with IP TTL " + std::to_string(p.ip_ttl);
        }
        e.sentence += "; an on-path injector races the real resolver";
    } else if (ttls.size() > 1) {
        e.kind = "dns_ttl_mismatch";
        e.strong = e.ttl_difference >= 2;
        e.sentence = "the same DNS answer (" + answer_text(*answers.front()) + ") to one query (id " + hex_id(id) +
                     ") from " + src + " arrived " + std::to_string(answers.size()) + " times with IP TTLs " +
                     join_ttls(ttls) + "; the copies took different paths or came from different senders";
    } else {
        return;  // a plain duplicate
    }
    out.push_back(std::move(e));
}

// Answers to different queries from one resolver whose TTLs differ; each query
// counts once, when all its answers share one TTL (mixed ones are reported above).
void resolver_ttl_evidence(const std::string& src, const std::map<int, Packets>& by_id,
                           std::vector<PacketEvidence>& out) {
    std::map<int, const PacketObservation*> first_by_ttl;
    for (const auto& [id, answers] : by_id)
        if (ttl_spread(answers) == 0) first_by_ttl.emplace(answers.front()->ip_ttl, answers.front());
    if (first_by_ttl.size() < 2) return;
    PacketEvidence e;
    e.kind = "dns_resolver_ttl_mismatch";
    e.src = src;
    e.ttl_difference = first_by_ttl.rbegin()->first - first_by_ttl.begin()->first;
    e.dns_id = first_by_ttl.begin()->second->dns_id;
    e.strong = false;
    e.sentence = "DNS answers from " + src + " arrived with different IP TTLs: ";
    size_t i = 0;
    for (const auto& [ttl, p] : first_by_ttl) {
        e.sentence += (i++ == 0 ? "" : ", ") + std::to_string(ttl) + " (id " + hex_id(p->dns_id) + ": " +
                      answer_text(*p) + ")";
    }
    e.sentence += "; one resolver's packets normally share one TTL";
    out.push_back(std::move(e));
}

void dns_evidence(const std::vector<PacketObservation>& packets, std::vector<PacketEvidence>& out) {
    std::map<std::string, std::map<int, Packets>> by_src;  // src -> DNS id -> responses in arrival order
    for (const auto& p : packets)
        if (p.kind == "dns_response" && p.ip_ttl >= 0 && p.dns_id >= 0) by_src[p.src][p.dns_id].push_back(&p);
    for (auto& [src, by_id] : by_src) {
        for (auto& [id, answers] : by_id) {
            std::stable_sort(answers.begin(), answers.end(), [](const auto* a, const auto* b) { return a->t_ms < b->t_ms; });
            if (answers.size() > 1) duplicate_answer_evidence(src, id, answers, out);
        }
        resolver_ttl_evidence(src, by_id, out);
    }
}

// The SYN-ACK `p` is compared with: the same endpoint's, else the same address's.
const PacketObservation* synack_for(const PacketObservation& p, const std::vector<PacketObservation>& packets) {
    const PacketObservation* synack = nullptr;
    for (const auto& s : packets) {
        if (s.kind != "syn_ack" || s.ip_ttl < 0 || address_of(s.src) != address_of(p.src)) continue;
        if (!synack || (s.src == p.src && synack->src != p.src)) synack = &s;
    }
    return synack;
}

PacketEvidence ttl_mismatch(const PacketObservation& p, const PacketObservation& synack) {
    bool rst = p.kind == "rst";
    PacketEvidence e;
    e.kind = rst ? "rst_ttl_mismatch" : "fin_ttl_mismatch";
    e.src = p.src;
    e.ttl = p.ip_ttl, e.ip_id = p.ip_id;
    e.synack_ttl = synack.ip_ttl, e.synack_ip_id = synack.ip_id;
    e.ttl_difference = std::abs(p.ip_ttl - synack.ip_ttl);
    e.strong = e.ttl_difference >= 2;
    std::string ids = p.ip_id >= 0 && synack.ip_id >= 0 && p.ip_id != synack.ip_id
                          ? " (IP ID " + std::to_string(p.ip_id) + " against " + std::to_string(synack.ip_id) + ")"
                          : "";
    std::string synack_from = synack.src == p.src ? "" : " from " + synack.src;
    e.sentence = std::string(rst ? "a TCP reset" : "a TCP FIN") + " claiming to come from " + p.src +
                 " arrived with IP TTL " + std::to_string(p.ip_ttl) + " while the server's SYN-ACK" + synack_from +
                 " arrived with TTL " + std::to_string(synack.ip_ttl) + ids + ": the " + (rst ? "reset" : "FIN") +
                 " was sent by a machine at a different distance than the server";
    return e;
}

PacketEvidence unaged_rst(const PacketObservation& p) {
    PacketEvidence e;
    e.kind = "rst_unaged_ttl";
    e.src = p.src;
    e.ttl = p.ip_ttl, e.ip_id = p.ip_id;
    e.strong = true;
    e.sentence = "a TCP reset claiming to come from " + p.src + " arrived with IP TTL " + std::to_string(p.ip_ttl) +
                 ", the value a sender starts with: it crossed no router, so it was sent from this network segment, "
                 "not by the remote server";
    return e;
}

PacketEvidence unaged_synack(const PacketObservation& p) {
    PacketEvidence e;
    e.kind = "synack_unaged_ttl";
    e.src = p.src;
    e.ttl = p.ip_ttl, e.ip_id = p.ip_id;
    e.sentence = "the SYN-ACK from " + p.src + " arrived with IP TTL " + std::to_string(p.ip_ttl) +
                 ", the value a sender starts with: it crossed no router, so a machine on this network segment "
                 "answered in the server's name";
    return e;
}

void tcp_evidence(const std::vector<PacketObservation>& packets, const std::vector<Cidr>& routable,
                  std::vector<PacketEvidence>& out) {
    std::set<std::pair<std::string, int>> reported;  // (src, ttl) of resets and FINs already said
    std::set<std::string> unaged_synacks;            // src already said
    for (const auto& p : packets) {
        if (p.ip_ttl < 0) continue;
        if (p.kind == "syn_ack") {
            if (unaged_ttl(p.ip_ttl) && remote(p.src, routable) && unaged_synacks.insert(p.src).second)
                out.push_back(unaged_synack(p));
            continue;
        }
        bool rst = p.kind == "rst", fin = p.kind == "fin";
        if (!rst && !fin) continue;
        const PacketObservation* synack = synack_for(p, packets);
        bool suspicious = synack ? synack->ip_ttl != p.ip_ttl : rst && unaged_ttl(p.ip_ttl) && remote(p.src, routable);
        if (!suspicious || !reported.insert({p.src, p.ip_ttl}).second) continue;
        out.push_back(synack ? ttl_mismatch(p, *synack) : unaged_rst(p));
    }
}

}  // namespace

std::vector<PacketEvidence> packet_injection_evidence(const std::vector<PacketObservation>& packets,
                                                      const std::vector<Cidr>& routable) {
    std::vector<PacketEvidence> out;
    dns_evidence(packets, out);
    tcp_evidence(packets, routable, out);
    return out;
}

}  // namespace meoktong
