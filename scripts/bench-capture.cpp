// Timing program for packet capture (built and run by scripts/bench-capture):
// 1. parse throughput of the frame parser, and of parser + flow collector, on
//    the stored lab captures (frames/s);
// 2. on loopback, N TCP connect/close cycles without capture and with a live
//    PacketCapture on "lo" (one CaptureMeasurement per connection), reporting
//    the cost per connection and how many measurements got their SYN-ACK.
// Usage: bench_capture PCAP_DIR [CONNECTIONS]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "probe/net/capture.hpp"

using namespace meoktong;
using Clock = std::chrono::steady_clock;

namespace {

struct Frame {
    LinkType link;
    std::vector<uint8_t> bytes;
};

std::vector<Frame> load_frames(const std::string& dir) {
    std::vector<Frame> frames;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        char err[PCAP_ERRBUF_SIZE] = {};
        pcap_t* p = pcap_open_offline(entry.path().c_str(), err);
        if (!p) continue;
        auto link = link_type_from_dlt(pcap_datalink(p));
        pcap_pkthdr* h = nullptr;
        const u_char* data = nullptr;
        while (link && pcap_next_ex(p, &h, &data) == 1) frames.push_back({*link, {data, data + h->caplen}});
        pcap_close(p);
    }
    return frames;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

template <typename PerFrame>
double frames_per_second(const std::vector<Frame>& frames, PerFrame per_frame) {
    size_t done = 0;
    auto start = Clock::now();
    while (seconds_since(start) < 1.5) {
        for (const auto& f : frames) per_frame(f);
        done += frames.size();
    }
    return done / seconds_since(start);
}

void bench_parsing(const std::vector<Frame>& frames) {
    size_t sink = 0;
    double parse_only = frames_per_second(frames, [&](const Frame& f) {
        if (auto facts = parse_frame(f.link, f.bytes)) sink += facts->ip_ttl;
    });
    FlowCollector collector(1 << 30, 16);
    auto id = collector.begin(0);  // watches every server and resolver of the captures
    for (const char* ip : {"203.0.113.5", "2001:db8:2::5"}) collector.watch_tcp(id, *IpAddress::parse(ip), 443);
    for (const char* ip : {"198.51.100.53", "2001:db8:53::53"}) collector.watch_dns(id, *IpAddress::parse(ip), 53);
    double collected = frames_per_second(frames, [&](const Frame& f) {
        if (auto facts = parse_frame(f.link, f.bytes)) collector.observe(*facts, 0);
    });
    std::printf("parse: %zu stored frames; parse_frame %.2f M frames/s; parse + attribution (c-ares for DNS) %.2f M frames/s%s\n",
                frames.size(), parse_only / 1e6, collected / 1e6, sink == 42 ? " " : "");
}

// A loopback listener that accepts and closes every connection.
struct Listener {
    int fd = -1;
    uint16_t port = 0;
    std::atomic<bool> stop{false};
    std::thread thread;

    Listener() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 4096) != 0 ||
            getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            std::perror("bench-capture: listener");
            std::exit(1);
        }
        port = ntohs(a.sin_port);
        thread = std::thread([this] {
            while (!stop) {
                int c = accept(fd, nullptr, nullptr);
                if (c >= 0) close(c);
            }
        });
    }
    ~Listener() {
        stop = true;
        shutdown(fd, SHUT_RDWR);
        thread.join();
        close(fd);
    }
};

// Connects once from a bound local port; returns the local port, 0 on failure.
uint16_t connect_once(uint16_t port, CaptureMeasurement* m) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof local;
    bind(s, reinterpret_cast<sockaddr*>(&local), sizeof local);
    getsockname(s, reinterpret_cast<sockaddr*>(&local), &len);
    uint16_t local_port = ntohs(local.sin_port);
    if (m) m->watch_tcp("127.0.0.1", port, local_port);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    remote.sin_port = htons(port);
    bool ok = connect(s, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0;
    close(s);
    return ok ? local_port : 0;
}

void bench_live(int connections) {
    Listener listener;
    auto start = Clock::now();
    for (int i = 0; i < connections; ++i) connect_once(listener.port, nullptr);
    double without = seconds_since(start);

    PacketCapture capture({.interface = "lo"});
    if (!capture.active()) {
        std::printf("live: skipped (%s)\n", capture.status().c_str());
        return;
    }
    int with_synack = 0, with_ttl_64 = 0;
    start = Clock::now();
    for (int i = 0; i < connections; ++i) {
        CaptureMeasurement m = capture.begin(Clock::now());
        connect_once(listener.port, &m);
        for (const auto& p : m.finish()) {
            if (p.kind != "syn_ack") continue;
            ++with_synack;
            with_ttl_64 += p.ip_ttl == 64;
        }
    }
    double with = seconds_since(start);
    auto stats = capture.stats();
    std::printf("live: %d loopback connects: %.1f us each without capture, %.1f us with (+%.1f us per measurement); "
                "%d/%d measurements got their SYN-ACK (%d with TTL 64); %llu frames read, %llu kernel drops\n",
                connections, without * 1e6 / connections, with * 1e6 / connections,
                (with - without) * 1e6 / connections, with_synack, connections, with_ttl_64,
                static_cast<unsigned long long>(stats.frames), static_cast<unsigned long long>(stats.kernel_drops));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_capture PCAP_DIR [CONNECTIONS]\n");
        return 2;
    }
    auto frames = load_frames(argv[1]);
    if (frames.empty()) {
        std::fprintf(stderr, "bench-capture: no frames under %s\n", argv[1]);
        return 1;
    }
    bench_parsing(frames);
    bench_live(argc > 2 ? std::atoi(argv[2]) : 2000);
    return 0;
}
