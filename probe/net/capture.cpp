// Packet capture for injection evidence: the flow collector (attribution of
// parsed frames to measurements), offline replay of pcap files, and the live
// libpcap session with its reader thread. See capture.hpp.
#include "probe/net/capture.hpp"
#include "probe/net/dns_message.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <optional>
#include <thread>
#include <utility>

#include "meoktong/log.hpp"
#include "meoktong/text.hpp"

namespace meoktong {
namespace {

double epoch_ms_of(const timeval& ts) { return static_cast<double>(ts.tv_sec) * 1000.0 + ts.tv_usec / 1000.0; }

// "Chat.Example." -> "chat.example", as dns_question_name gives names.
std::string normal_dns_name(std::string_view text) {
    std::string name = ascii_lower(text);
    if (!name.empty() && name.back() == '.') name.pop_back();
    return name;
}

double round_ms(double ms) { return static_cast<double>(static_cast<int64_t>(ms * 1000.0 + (ms < 0 ? -0.5 : 0.5))) / 1000.0; }

// "rst", "syn_ack", "fin", or "" for packets that say nothing about injection.
const char* tcp_kind(uint8_t flags) {
    if (flags & tcp_flag::rst) return "rst";
    if ((flags & tcp_flag::syn) && (flags & tcp_flag::ack)) return "syn_ack";
    if (flags & tcp_flag::fin) return "fin";
    return "";
}

// The fact a watched remote packet states, as it goes into the record.
PacketObservation describe(const FrameFacts& frame, const std::optional<DnsHeader>& dns) {
    PacketObservation p;
    p.src = endpoint_string(frame.src, frame.src_port);
    p.ip_ttl = frame.ip_ttl;
    p.ip_id = frame.ip_id;
    if (!dns) {
        p.kind = tcp_kind(frame.tcp_flags);
        p.tcp_flags = tcp_flags_string(frame.tcp_flags);
        p.detail = "tcp flags " + p.tcp_flags;
        return p;
    }
    p.kind = "dns_response";
    p.dns_id = dns->id;
    p.dns_rcode = dns->rcode;
    p.answers = dns_address_answers(frame.payload);
    p.detail = dns_answers_summary(dns->rcode, p.answers);
    return p;
}

void observe_pcap_frame(LinkType link, const pcap_pkthdr* header, const u_char* data, FlowCollector& collector,
                        uint64_t& unparsed) {
    auto frame = parse_frame(link, std::span<const uint8_t>(data, header->caplen));
    if (!frame) {
        ++unparsed;
        return;
    }
    collector.observe(*frame, epoch_ms_of(header->ts));
}

}  // namespace

std::string capture_filter_expression(const std::vector<uint16_t>& dns_ports) {
    // IPv4 TCP with SYN/FIN/RST; IPv6 TCP the same when TCP follows the fixed
    // header (byte 53 = the TCP flags), any IPv6 TCP behind extension headers.
    std::string filter =
        "(ip and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0)"
        " or (ip6 and ip6[6] == 6 and ip6[53] & 7 != 0)"
        " or (ip6 and ip6[6] != 6 and tcp)";
    std::string ports;
    for (uint16_t port : dns_ports) ports += (ports.empty() ? "" : " or ") + std::string("src port ") + std::to_string(port);
    if (!ports.empty()) filter += " or (udp and (" + ports + "))";
    return filter;
}

// ---- FlowCollector -------------------------------------------------------------

FlowCollector::FlowCollector(size_t max_packets_per_measurement, size_t max_open_measurements)
    : max_packets_(max_packets_per_measurement), max_open_(max_open_measurements) {}

FlowCollector::Id FlowCollector::begin(double start_epoch_ms) {
    std::lock_guard lock(mutex_);
    if (open_.size() >= max_open_) return 0;
    Id id = next_id_++;
    open_[id].start_epoch_ms = start_epoch_ms;
    return id;
}

void FlowCollector::watch_tcp(Id id, const IpAddress& remote, uint16_t remote_port, uint16_t local_port) {
    std::lock_guard lock(mutex_);
    auto it = open_.find(id);
    if (it == open_.end()) return;
    auto& flows = it->second.tcp;
    auto same_remote = [&](const TcpFlow& f) { return f.remote == remote && f.remote_port == remote_port; };
    for (auto& f : flows) {
        if (!same_remote(f)) continue;
        if (f.local_port == local_port) return;
        if (f.local_port == 0 && local_port != 0) {
            f.local_port = local_port;
            return;
        }
    }
    flows.push_back({remote, remote_port, local_port});
}

void FlowCollector::watch_dns(Id id, const IpAddress& resolver, uint16_t port, int dns_id, const std::string& name) {
    DnsFlow wanted{resolver, port, dns_id, normal_dns_name(name)};
    std::lock_guard lock(mutex_);
    auto it = open_.find(id);
    if (it == open_.end()) return;
    auto& flows = it->second.dns;
    for (auto& f : flows) {
        if (!(f.resolver == resolver && f.port == port)) continue;
        if (f.dns_id == wanted.dns_id && f.name == wanted.name) return;
        if (f.dns_id < 0 && f.name.empty()) {
            f = wanted;
            return;
        }
    }
    flows.push_back(wanted);
}

bool FlowCollector::tcp_wanted(const Measurement& m, const Fact& f) const {
    return std::any_of(m.tcp.begin(), m.tcp.end(), [&](const TcpFlow& flow) {
        return flow.remote == f.src && flow.remote_port == f.src_port &&
               (flow.local_port == 0 || flow.local_port == f.local_port);
    });
}

bool FlowCollector::dns_wanted(const Measurement& m, const Fact& f) const {
    return std::any_of(m.dns.begin(), m.dns.end(), [&](const DnsFlow& flow) {
        return flow.resolver == f.src && flow.port == f.src_port && (flow.dns_id < 0 || flow.dns_id == f.dns_id) &&
               (flow.name.empty() || flow.name == f.dns_name);
    });
}

void FlowCollector::keep(Measurement& m, const Fact& f) {
    if (m.facts.size() >= max_packets_) {
        ++over_limit_;
        return;
    }
    m.facts.push_back(f);
    ++kept_;
}

bool FlowCollector::wanted(const Measurement& m, const Fact& f) const {
    return f.dns ? dns_wanted(m, f) : tcp_wanted(m, f);
}

void FlowCollector::observe(const FrameFacts& frame, double epoch_ms) {
    if (!frame.has_ports) return;
    Fact fact;
    fact.epoch_ms = epoch_ms;
    fact.src = frame.src;
    fact.src_port = frame.src_port;
    fact.local_port = frame.dst_port;
    std::optional<DnsHeader> dns;
    if (frame.protocol == IPPROTO_TCP) {
        if (*tcp_kind(frame.tcp_flags) == '\0') return;
    } else if (frame.protocol == IPPROTO_UDP) {
        dns = parse_dns_header(frame.payload);
        if (!dns || !dns->is_response) return;
        fact.dns = true;
        fact.dns_id = dns->id;
        fact.dns_name = dns_question_name(frame.payload).value_or("");
    } else {
        return;
    }
    std::lock_guard lock(mutex_);
    bool described = false;
    for (auto& [id, m] : open_) {
        if (!wanted(m, fact)) continue;
        if (!described) {  // text, and c-ares for DNS answers, only for packets someone watches
            fact.packet = describe(frame, dns);
            described = true;
        }
        keep(m, fact);
    }
}

std::vector<PacketObservation> FlowCollector::finish(Id id) {
    Measurement m;
    {
        std::lock_guard lock(mutex_);
        auto it = open_.find(id);
        if (it == open_.end()) return {};
        m = std::move(it->second);
        open_.erase(it);
    }
    std::vector<PacketObservation> out;
    for (auto& f : m.facts) {
        // Flows may have been narrowed (local port, DNS id) after the packet arrived.
        if (!wanted(m, f)) continue;
        f.packet.t_ms = round_ms(f.epoch_ms - m.start_epoch_ms);
        out.push_back(std::move(f.packet));
    }
    return out;
}

void FlowCollector::forget(Id id) {
    std::lock_guard lock(mutex_);
    open_.erase(id);
}

uint64_t FlowCollector::packets_kept() const {
    std::lock_guard lock(mutex_);
    return kept_;
}

uint64_t FlowCollector::packets_over_limit() const {
    std::lock_guard lock(mutex_);
    return over_limit_;
}

long replay_pcap_file(const std::string& path, FlowCollector& collector, std::string& error) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err);
    if (!p) {
        error = err;
        return -1;
    }
    auto link = link_type_from_dlt(pcap_datalink(p));
    if (!link) {
        error = "unsupported link type " + std::to_string(pcap_datalink(p)) + " in " + path;
        pcap_close(p);
        return -1;
    }
    long frames = 0;
    uint64_t unparsed = 0;
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(p, &header, &data) == 1) {
        observe_pcap_frame(*link, header, data, collector, unparsed);
        ++frames;
    }
    pcap_close(p);
    return frames;
}

// ---- live capture ----------------------------------------------------------------

// The open pcap handle and the thread that reads it.
class LiveCapture {
public:
    LiveCapture(pcap_t* pcap, LinkType link, const CaptureOptions& options)
        : collector(options.max_packets_per_measurement, options.max_open_measurements), pcap_(pcap), link_(link) {
        if (pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;
        thread_ = std::thread([this] { run(); });
    }

    ~LiveCapture() {
        stop_ = true;
        wake();
        thread_.join();
        for (int fd : wake_)
            if (fd >= 0) close(fd);
        pcap_close(pcap_);
    }

    // Returns once every frame the kernel held when it was called has been read
    // (bounded wait: the reader is never more than a poll away).
    void drain() {
        if (!pending()) return;
        std::unique_lock lock(drain_mutex_);
        if (stopped_) return;
        uint64_t ticket = ++drain_requested_;
        wake();
        drained_.wait_for(lock, std::chrono::milliseconds(250), [&] { return drain_done_ >= ticket || stopped_; });
    }

    CaptureStats stats() const {
        CaptureStats s;
        s.frames = frames_;
        s.unparsed = unparsed_;
        s.kernel_drops = kernel_drops_;
        s.packets_kept = collector.packets_kept();
        s.packets_over_limit = collector.packets_over_limit();
        return s;
    }

    FlowCollector collector;

private:
    // Frames the kernel holds that the reader has not finished with: the ring
    // is readable, or the reader is inside a dispatch (it releases each frame
    // only after handing it to the collector).
    bool pending() const {
        pollfd fd{pcap_get_selectable_fd(pcap_), POLLIN, 0};
        bool readable = poll(&fd, 1, 0) > 0 && (fd.revents & POLLIN);
        return readable || busy_;
    }

    void wake() {
        char byte = 1;
        if (wake_[1] >= 0) (void)!write(wake_[1], &byte, 1);
    }

    static void on_frame(u_char* user, const pcap_pkthdr* header, const u_char* data) {
        auto* self = reinterpret_cast<LiveCapture*>(user);
        ++self->frames_;
        uint64_t unparsed = 0;
        observe_pcap_frame(self->link_, header, data, self->collector, unparsed);
        self->unparsed_ += unparsed;
    }

    // Reads until nothing is pending; false when the handle failed.
    bool read_pending() {
        int n = 0;
        do {
            n = pcap_dispatch(pcap_, 512, on_frame, reinterpret_cast<u_char*>(this));
        } while (n > 0 && !stop_);
        if (n == PCAP_ERROR) {
            process_logger().warn("capture_stopped", {{"reason", pcap_geterr(pcap_)}});
            return false;
        }
        pcap_stat ps{};
        if (pcap_stats(pcap_, &ps) == 0) kernel_drops_ = ps.ps_drop;
        return true;
    }

    void run() {
        pollfd fds[2] = {{pcap_get_selectable_fd(pcap_), POLLIN, 0}, {wake_[0], POLLIN, 0}};
        bool ok = true;
        while (!stop_ && ok) {
            poll(fds, 2, 200);
            char sink[64];
            while (wake_[0] >= 0 && read(wake_[0], sink, sizeof sink) > 0) {
            }
            uint64_t ticket;
            {
                std::lock_guard lock(drain_mutex_);
                ticket = drain_requested_;
            }
            busy_ = true;
            ok = read_pending();
            busy_ = false;
            {
                std::lock_guard lock(drain_mutex_);
                drain_done_ = ticket;
                stopped_ = !ok || stop_;
            }
            drained_.notify_all();
        }
        std::lock_guard lock(drain_mutex_);
        stopped_ = true;
        drained_.notify_all();
    }

    pcap_t* pcap_;
    LinkType link_;
    int wake_[2] = {-1, -1};
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> busy_{false};
    std::atomic<uint64_t> frames_{0}, unparsed_{0}, kernel_drops_{0};
    std::mutex drain_mutex_;
    std::condition_variable drained_;
    uint64_t drain_requested_ = 0;
    uint64_t drain_done_ = 0;
    bool stopped_ = false;
};

namespace {

struct OpenResult {
    pcap_t* pcap = nullptr;
    std::string error;
    bool permission_denied = false;
};

std::string activation_error(int status, pcap_t* p, const std::string& iface) {
    switch (status) {
        case PCAP_ERROR_PERM_DENIED:
            return "no permission to capture on " + iface +
                   ": needs CAP_NET_RAW (run as root or `setcap cap_net_raw+ep` on the meoktong binary)";
        case PCAP_ERROR_NO_SUCH_DEVICE: return "no such interface '" + iface + "'";
        default: return "cannot capture on " + iface + ": " + pcap_geterr(p);
    }
}

OpenResult open_live(const CaptureOptions& options, const std::string& iface) {
    OpenResult r;
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_create(iface.c_str(), err);
    if (!p) {
        r.error = "cannot capture on " + iface + ": " + err;
        return r;
    }
    pcap_set_snaplen(p, options.snaplen);
    pcap_set_promisc(p, 0);
    pcap_set_immediate_mode(p, 1);
    pcap_set_buffer_size(p, 1 << 20);  // the filter passes only SYN/FIN/RST and DNS: 1 MiB is ample
    int status = pcap_activate(p);
    if (status < 0) {
        r.permission_denied = status == PCAP_ERROR_PERM_DENIED;
        r.error = activation_error(status, p, iface);
        pcap_close(p);
        return r;
    }
    bpf_program program{};
    std::string filter = capture_filter_expression(options.dns_ports);
    if (pcap_compile(p, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(p, &program) != 0) {
        r.error = "cannot filter on " + iface + ": " + pcap_geterr(p);
        pcap_freecode(&program);
        pcap_close(p);
        return r;
    }
    pcap_freecode(&program);
    (void)pcap_setdirection(p, PCAP_D_IN);  // where unsupported, only remote sources are matched anyway
    if (pcap_setnonblock(p, 1, err) != 0 || pcap_get_selectable_fd(p) < 0) {
        r.error = "cannot read " + iface + " without blocking";
        pcap_close(p);
        return r;
    }
    r.pcap = p;
    return r;
}

}  // namespace

PacketCapture::PacketCapture(const CaptureOptions& options) {
    std::string iface = options.interface == "auto" ? "any" : options.interface;
    OpenResult opened = open_live(options, iface);
    std::optional<LinkType> link;
    if (opened.pcap) {
        link = link_type_from_dlt(pcap_datalink(opened.pcap));
        if (!link) {
            opened.error = "unsupported link type on " + iface;
            pcap_close(opened.pcap);
            opened.pcap = nullptr;
        }
    }
    if (!opened.pcap) {
        status_ = opened.error;
        permission_denied_ = opened.permission_denied;
        process_logger().warn("capture_off", {{"reason", status_}});
        return;
    }
    live_ = std::make_shared<LiveCapture>(opened.pcap, *link, options);
    status_ = "capturing on " + iface;
}

PacketCapture::~PacketCapture() = default;

bool PacketCapture::active() const { return live_ != nullptr; }

CaptureMeasurement PacketCapture::begin(std::chrono::steady_clock::time_point start) {
    if (!live_) return {};
    using namespace std::chrono;
    double since_start = duration<double, std::milli>(steady_clock::now() - start).count();
    double now_epoch = duration<double, std::milli>(system_clock::now().time_since_epoch()).count();
    FlowCollector::Id id = live_->collector.begin(now_epoch - since_start);
    if (id == 0) return {};
    return CaptureMeasurement(live_, id);
}

CaptureStats PacketCapture::stats() const { return live_ ? live_->stats() : CaptureStats{}; }

// ---- CaptureMeasurement ------------------------------------------------------------

CaptureMeasurement::CaptureMeasurement(std::shared_ptr<LiveCapture> live, FlowCollector::Id id)
    : live_(std::move(live)), id_(id) {}

CaptureMeasurement::CaptureMeasurement(CaptureMeasurement&& other) noexcept
    : live_(std::move(other.live_)), id_(std::exchange(other.id_, 0)) {}

CaptureMeasurement& CaptureMeasurement::operator=(CaptureMeasurement&& other) noexcept {
    if (this != &other) {
        if (live_) live_->collector.forget(id_);
        live_ = std::move(other.live_);
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

CaptureMeasurement::~CaptureMeasurement() {
    if (live_) live_->collector.forget(id_);
}

bool CaptureMeasurement::watch_tcp(const std::string& remote_ip, uint16_t remote_port, uint16_t local_port) {
    auto ip = IpAddress::parse(remote_ip);
    if (!ip) return false;
    if (live_) live_->collector.watch_tcp(id_, *ip, remote_port, local_port);
    return true;
}

bool CaptureMeasurement::watch_dns(const std::string& resolver_ip, uint16_t port, int dns_id, const std::string& name) {
    auto ip = IpAddress::parse(resolver_ip);
    if (!ip) return false;
    if (live_) live_->collector.watch_dns(id_, *ip, port, dns_id, name);
    return true;
}

std::vector<PacketObservation> CaptureMeasurement::finish() {
    if (!live_) return {};
    live_->drain();
    auto packets = live_->collector.finish(id_);
    live_.reset();
    id_ = 0;
    return packets;
}

}  // namespace meoktong
