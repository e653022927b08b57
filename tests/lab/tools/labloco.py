#!/usr/bin/python3
# The lab's KakaoTalk booking stand-in: answers LOCO's GETCONF request over TLS
# with a configuration naming the check-in hosts and ports, as Kakao's booking
# host does. Written from the public descriptions of the protocol (the 22-byte
# little-endian header: packet id, status, an 11-byte NUL-padded method, body
# type 0 = BSON, body length; the answer's ticket.lsl and wifi.ports, see
# docs/protocols.md), independently of the probe's code. BSON is python3-bson's
# (Debian's, from pymongo). A mode file switches it:
#   {"mode": "serve"}   the configuration (default)
#   {"mode": "error"}   a GETCONF answer with status -500 (the provider's error)
#   {"mode": "close"}   accept the TLS session and close it unanswered
import argparse
import socketserver
import ssl
import struct

import bson

from labapp import ModeServer, read_exact

HEADER = struct.Struct("<IH11sBI")


def packet(packet_id, method, body):
    data = bson.encode(body)
    return HEADER.pack(packet_id, 0, method.encode().ljust(11, b"\0"), 0, len(data)) + data


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        server = self.server
        try:
            sock = server.tls.wrap_socket(self.request, server_side=True)
            sock.settimeout(10)
            mode = server.mode()
            if mode == "close":
                sock.close()
                return
            packet_id, _, method, body_type, length = HEADER.unpack(read_exact(sock, HEADER.size))
            if length > 4096 or body_type != 0:
                return
            bson.decode(read_exact(sock, length))
            if method.rstrip(b"\0") != b"GETCONF":
                return
            if mode == "error":
                answer = {"status": -500}
            else:
                answer = {"status": 0, "revision": 1,
                          "ticket": {"lsl": server.checkin_hosts, "lsl6": []},
                          "wifi": {"ports": server.checkin_ports, "connTimeout": 10},
                          "3g": {"ports": server.checkin_ports, "connTimeout": 10}}
            sock.sendall(packet(packet_id, "GETCONF", answer))
        except (OSError, EOFError, ssl.SSLError, bson.errors.BSONError, struct.error):
            pass


class Server(ModeServer):
    def __init__(self, a):
        super().__init__(a.port, Handler, a.mode_file)
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.tls.load_cert_chain(a.cert, a.key)
        self.checkin_hosts = a.checkin_host
        self.checkin_ports = a.checkin_port


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--checkin-host", action="append", required=True, help="a ticket.lsl host (repeatable)")
    p.add_argument("--checkin-port", type=int, action="append", required=True, help="a wifi.ports port (repeatable)")
    p.add_argument("--mode-file", required=True)
    p.add_argument("--ready-file")
    a = p.parse_args()
    server = Server(a)
    if a.ready_file:
        open(a.ready_file, "w").close()
    server.serve_forever()


if __name__ == "__main__":
    main()
