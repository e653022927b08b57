// Lab link delay (this kernel has no tc netem): takes the packets an iptables
// NFQUEUE rule hands it and accepts each one a fixed time after it arrived,
// so the censor's links have a realistic RTT and injected answers win races
// the way they do on real networks. The delay is constant, so packets leave
// in the order they came.
//   delayq --queue N --delay-ms MS
#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

struct Held {
    Clock::time_point due;
    uint32_t packet_id;
};

struct Queue {
    std::deque<Held> held;
    std::chrono::milliseconds delay{20};
};

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

int on_packet(nfq_q_handle*, nfgenmsg*, nfq_data* nfa, void* data) {
    auto* q = static_cast<Queue*>(data);
    const nfqnl_msg_packet_hdr* hdr = nfq_get_msg_packet_hdr(nfa);
    if (hdr) q->held.push_back({Clock::now() + q->delay, ntohl(hdr->packet_id)});
    return 0;
}

// Accepts every packet whose time has come; returns the poll timeout until the next one.
int release_due(nfq_q_handle* qh, Queue& q) {
    auto now = Clock::now();
    while (!q.held.empty() && q.held.front().due <= now) {
        nfq_set_verdict(qh, q.held.front().packet_id, NF_ACCEPT, 0, nullptr);
        q.held.pop_front();
    }
    if (q.held.empty()) return 200;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(q.held.front().due - now).count();
    return static_cast<int>(wait) + 1;
}

int usage() {
    std::fprintf(stderr, "usage: delayq --queue N --delay-ms MS\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    int queue_num = -1;
    long delay_ms = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string opt = argv[i];
        if (opt == "--queue") queue_num = std::atoi(argv[i + 1]);
        else if (opt == "--delay-ms") delay_ms = std::atol(argv[i + 1]);
        else return usage();
    }
    if (queue_num < 0 || queue_num > 65535 || delay_ms < 0 || delay_ms > 10000 || argc % 2 == 0) return usage();

    Queue q;
    q.delay = std::chrono::milliseconds(delay_ms);
    nfq_handle* h = nfq_open();
    if (!h) {
        std::perror("delayq: nfq_open");
        return 1;
    }
    nfq_q_handle* qh = nfq_create_queue(h, static_cast<uint16_t>(queue_num), &on_packet, &q);
    if (!qh || nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) {
        std::perror("delayq: cannot bind the queue");
        nfq_close(h);
        return 1;
    }
    nfq_set_queue_maxlen(qh, 8192);
    nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);  // overflow: accept, never drop
    int fd = nfq_fd(h);
    int rcvbuf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);

    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    alignas(8) static char buf[65536];
    while (!g_stop) {
        pollfd pfd{fd, POLLIN, 0};
        int ready = poll(&pfd, 1, release_due(qh, q));
        if (ready > 0) {
            ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) nfq_handle_packet(h, buf, static_cast<int>(n));
            else if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR) break;
        }
    }
    nfq_destroy_queue(qh);
    nfq_close(h);
    return 0;
}
