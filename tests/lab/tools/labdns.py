#!/usr/bin/python3
# The lab's DNS server: answers A queries for the lab zone (a JSON map
# name -> [addresses]) over UDP. The same program plays the honest resolver
# (servers' side, switchable per name to SERVFAIL for provider scenarios) and
# the censor's lying resolver (bogon answers or NXDOMAIN for chosen names).
# Per-name overrides are read from a JSON file, re-read when it changes:
#   {"line.me": {"rcode": "SERVFAIL"}, "talk.kakao.com": {"answer": "10.10.34.35"}}
# DNS wire format is scapy's; this file only decides what to answer.
import argparse
import json
import os
import socket
import sys

from scapy.layers.dns import DNS, DNSQR, DNSRR

RCODES = {"NOERROR": 0, "SERVFAIL": 2, "NXDOMAIN": 3, "REFUSED": 5}
QTYPE_A = 1
ANSWER_TTL = 300


class JsonFile:
    """A JSON file re-read whenever its modification time changes."""

    def __init__(self, path, default):
        self.path, self.default, self.mtime, self.value = path, default, None, default

    def get(self):
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            self.mtime, self.value = None, self.default
            return self.value
        if mtime != self.mtime:
            try:
                with open(self.path) as f:
                    self.value = json.load(f)
                self.mtime = mtime
            except (OSError, ValueError) as e:
                print(f"labdns: cannot read {self.path}: {e}", file=sys.stderr)
        return self.value


def normalize(name):
    return name.rstrip(".").lower()


def build_answer(query, zone, overrides):
    """The response to one parsed query, following zone and overrides."""
    question = query[DNSQR]
    name = normalize(question.qname.decode(errors="replace"))
    rule = overrides.get(name, {})
    response = DNS(id=query.id, qr=1, aa=1, rd=query.rd, ra=1, qd=question)
    if "rcode" in rule:
        response.rcode = RCODES[rule["rcode"]]
        return response
    addresses = [rule["answer"]] if "answer" in rule else zone.get(name)
    if addresses is None:
        response.rcode = RCODES["NXDOMAIN"]
        return response
    if question.qtype == QTYPE_A:
        records = [DNSRR(rrname=question.qname, type="A", ttl=ANSWER_TTL, rdata=a) for a in addresses]
        response.an = records[0]
        for extra in records[1:]:
            response.an = response.an / extra
        response.ancount = len(records)
    return response  # other types: NOERROR without answers (NODATA)


def serve(listen, zone_file, overrides_file, ready_file):
    host, port = listen.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    zone, overrides = JsonFile(zone_file, {}), JsonFile(overrides_file, {})
    if ready_file:
        open(ready_file, "w").close()
    while True:
        data, peer = sock.recvfrom(4096)
        try:
            query = DNS(data)
            if query.qr != 0 or query.qdcount != 1 or not query.haslayer(DNSQR):
                continue
            sock.sendto(bytes(build_answer(query, zone.get(), overrides.get())), peer)
        except Exception as e:  # a malformed query must not stop the server
            print(f"labdns: bad query from {peer[0]}: {e}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--listen", required=True, help="IP:PORT")
    p.add_argument("--zone", required=True, help="JSON map name -> [addresses]")
    p.add_argument("--overrides", required=True, help="JSON map name -> rule (may not exist)")
    p.add_argument("--ready-file", help="created once the socket is bound")
    a = p.parse_args()
    serve(a.listen, a.zone, a.overrides, a.ready_file)


if __name__ == "__main__":
    main()
