// Packet capture for injection evidence (SPEC §2 step 5, issue 5): one libpcap
// handle per run, read by its own thread, turning the packets of each
// measurement's flows into PacketObservation facts (IP TTL, IP ID, TCP flags,
// DNS id and answers) of REMOTE packets only.
//
// How a run uses it (see docs/capture.md):
//   PacketCapture capture({.interface = "auto", .dns_ports = {53}});   // once per run
//   ctx.capture_enabled = capture.active();
//   // per target, in its worker thread:
//   CaptureMeasurement m = capture.begin(start);   // start = the measurement's steady_clock start
//   m.watch_dns("198.51.100.53", 53, -1, host);   // BEFORE sending the query (id, name optional)
//   m.watch_tcp("203.0.113.5", 443, local_port);  // BEFORE connect(); local_port 0 = any
//   ... measure ...
//   record.observations.packets = m.finish();     // once, after the last packet of interest
// A capture that could not start (no CAP_NET_RAW, no such interface) says so
// once in the log (event=capture_off), and its CaptureMeasurements do nothing
// and return no packets.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "meoktong/record.hpp"
#include "probe/net/packet_parse.hpp"

namespace meoktong {

struct CaptureOptions {
    std::string interface = "auto";        // an interface name; "auto" captures on "any"
    std::vector<uint16_t> dns_ports{53};   // UDP source ports of DNS answers (add --resolver ports)
    size_t max_packets_per_measurement = 256;  // facts kept per measurement; later ones are counted, not kept
    size_t max_open_measurements = 4096;   // begin() beyond this records nothing
    int snaplen = 2048;                    // bytes kept of each frame (enough for DNS answers)
};

// The kernel-side filter: inbound TCP packets with SYN, FIN or RST set, and
// UDP datagrams from the DNS ports. Exposed for tests (it must compile).
std::string capture_filter_expression(const std::vector<uint16_t>& dns_ports);

// Pure attribution of parsed frames to measurements, shared by the live
// capture and offline replays. Thread-safe. Times are wall-clock
// milliseconds since the epoch (pcap timestamps).
class FlowCollector {
public:
    using Id = uint64_t;
    explicit FlowCollector(size_t max_packets_per_measurement = 256, size_t max_open_measurements = 4096);

    Id begin(double start_epoch_ms);
    // Packets from remote:remote_port to local_port (0 = any local port). A
    // later call with a local port narrows an earlier "any" for the same remote.
    void watch_tcp(Id id, const IpAddress& remote, uint16_t remote_port, uint16_t local_port = 0);
    // DNS answers from resolver:port with this DNS id (-1 = any id) to a
    // question for `name` ("" = any name; case and final dot do not matter).
    // A later, narrower call replaces an earlier "any id, any name" for the
    // same resolver.
    void watch_dns(Id id, const IpAddress& resolver, uint16_t port, int dns_id = -1, const std::string& name = "");
    // One captured frame; keeps the facts watched flows want, ignores the rest.
    void observe(const FrameFacts& frame, double epoch_ms);
    // The measurement's packets in arrival order; forgets the measurement.
    std::vector<PacketObservation> finish(Id id);
    void forget(Id id);

    uint64_t packets_kept() const;
    uint64_t packets_over_limit() const;

private:
    struct TcpFlow {
        IpAddress remote;
        uint16_t remote_port = 0;
        uint16_t local_port = 0;
    };
    struct DnsFlow {
        IpAddress resolver;
        uint16_t port = 0;
        int dns_id = -1;
        std::string name;
    };
    struct Fact {  // what a remote packet said, with the local port for late narrowing
        PacketObservation packet;
        double epoch_ms = 0;
        IpAddress src;
        uint16_t src_port = 0;
        uint16_t local_port = 0;
        bool dns = false;
        int dns_id = -1;
        std::string dns_name;
    };
    struct Measurement {
        double start_epoch_ms = 0;
        std::vector<TcpFlow> tcp;
        std::vector<DnsFlow> dns;
        std::vector<Fact> facts;
    };

    bool tcp_wanted(const Measurement& m, const Fact& f) const;
    bool dns_wanted(const Measurement& m, const Fact& f) const;
    bool wanted(const Measurement& m, const Fact& f) const;
    void keep(Measurement& m, const Fact& f);

    mutable std::mutex mutex_;
    std::unordered_map<Id, Measurement> open_;
    Id next_id_ = 1;
    size_t max_packets_;
    size_t max_open_;
    uint64_t kept_ = 0;
    uint64_t over_limit_ = 0;
};

// Feeds every frame of a pcap file to `collector`; the number of frames, or
// -1 with `error` set when the file cannot be read or its link type is unknown.
long replay_pcap_file(const std::string& path, FlowCollector& collector, std::string& error);

class LiveCapture;

// One measurement's view of the capture; movable, forgets its flows when
// destroyed without finish(). Safe to use from the measurement's thread while
// other measurements use theirs.
class CaptureMeasurement {
public:
    CaptureMeasurement() = default;  // inactive: every call does nothing
    CaptureMeasurement(CaptureMeasurement&& other) noexcept;
    CaptureMeasurement& operator=(CaptureMeasurement&& other) noexcept;
    CaptureMeasurement(const CaptureMeasurement&) = delete;
    CaptureMeasurement& operator=(const CaptureMeasurement&) = delete;
    ~CaptureMeasurement();

    // Malformed addresses are ignored (false).
    bool watch_tcp(const std::string& remote_ip, uint16_t remote_port, uint16_t local_port = 0);
    bool watch_dns(const std::string& resolver_ip, uint16_t port = 53, int dns_id = -1, const std::string& name = "");
    // Waits (a few ms at most) until the capture thread has read everything
    // the kernel already holds, then returns this measurement's packets.
    std::vector<PacketObservation> finish();

private:
    friend class PacketCapture;
    CaptureMeasurement(std::shared_ptr<LiveCapture> live, FlowCollector::Id id);
    std::shared_ptr<LiveCapture> live_;
    FlowCollector::Id id_ = 0;
};

struct CaptureStats {
    uint64_t frames = 0;          // frames the kernel filter passed to us
    uint64_t unparsed = 0;        // frames that were not IPv4/IPv6
    uint64_t packets_kept = 0;    // facts attributed to a measurement
    uint64_t packets_over_limit = 0;
    uint64_t kernel_drops = 0;    // pcap_stats ps_drop
};

// The run's capture: opens the interface, filters, reads in its own thread.
class PacketCapture {
public:
    explicit PacketCapture(const CaptureOptions& options);
    ~PacketCapture();
    PacketCapture(const PacketCapture&) = delete;
    PacketCapture& operator=(const PacketCapture&) = delete;

    bool active() const;
    // "capturing on eth0", or why not: "no permission to capture on eth0 (needs CAP_NET_RAW...)".
    const std::string& status() const { return status_; }
    bool permission_denied() const { return permission_denied_; }

    // `start` is the measurement's own time origin (the one its observations use).
    CaptureMeasurement begin(std::chrono::steady_clock::time_point start);
    CaptureStats stats() const;

private:
    std::shared_ptr<LiveCapture> live_;
    std::string status_;
    bool permission_denied_ = false;
};

}  // namespace meoktong
