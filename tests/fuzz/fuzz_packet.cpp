// libFuzzer target for captured frames: the first byte picks the link-layer
// framing (LinkType order), the rest is the frame. Runs the frame parser, the
// DNS header, question name and c-ares answer parsing, the flow collector watching the
// frame's own source, and the evidence summary over what it kept.
// links: run
#include <cstddef>
#include <cstdint>
#include <span>

#include "analysis/verdict/packet_evidence.hpp"
#include "probe/net/capture.hpp"
#include "probe/net/dns_message.hpp"

using namespace meoktong;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    static constexpr LinkType kLinks[] = {LinkType::ethernet, LinkType::linux_sll, LinkType::linux_sll2,
                                          LinkType::raw_ip,   LinkType::bsd_null,  LinkType::bsd_loop};
    LinkType link = kLinks[data[0] % 6];
    auto frame = parse_frame(link, std::span<const uint8_t>(data + 1, size - 1));
    if (!frame) return 0;
    (void)frame->src.to_string();
    (void)tcp_flags_string(frame->tcp_flags);
    if (auto header = parse_dns_header(frame->payload)) {
        (void)dns_answers_summary(header->rcode, dns_address_answers(frame->payload));
        (void)dns_question_name(frame->payload);
    }
    FlowCollector collector(4, 4);
    auto id = collector.begin(0);
    collector.watch_tcp(id, frame->src, frame->src_port);
    collector.watch_dns(id, frame->src, frame->src_port, -1, "blocked.example");
    collector.watch_dns(id, frame->src, frame->src_port);
    collector.observe(*frame, 1);
    collector.observe(*frame, 2);
    auto packets = collector.finish(id);
    (void)packet_injection_evidence(packets);
    return 0;
}
