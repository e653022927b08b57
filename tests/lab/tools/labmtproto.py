#!/usr/bin/python3
# The lab's Telegram data-centre stand-in: answers the unauthenticated start of
# MTProto's key exchange, req_pq_multi, with a resPQ echoing the client's nonce,
# in the intermediate transport plainly (0xeeeeeeee first) or obfuscated (a
# 64-byte header keying AES-256-CTR both ways), as Telegram's servers do
# (core.telegram.org/mtproto/mtproto-transports, /mtproto/description).
# Telegram's own servers cannot be run offline: this is the one scripted
# server of the lab, written from the published protocol, independently of
# the probe's code. AES is python3-cryptography's. A mode file switches it:
#   {"mode": "close"}   accept and close without answering (a provider fault)
import argparse
import os
import socketserver
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from labapp import ModeServer, read_exact, serve_all

REQ_PQ_MULTI = 0xBE7E8EF1
RES_PQ = 0x05162463
VECTOR = 0x1CB5C415


def ctr(key, iv):
    return Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()


def respq(nonce):
    data = struct.pack("<I", RES_PQ) + nonce + os.urandom(16)
    pq = bytes.fromhex("17ed48941a08f981")
    data += bytes([len(pq)]) + pq + b"\0" * 3  # TL string, padded to 4
    data += struct.pack("<II", VECTOR, 1) + bytes.fromhex("216be86c022bb4c3")
    message = b"\0" * 8 + struct.pack("<QI", 0x6000000000000001, len(data)) + data
    return struct.pack("<I", len(message)) + message


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(10)
        try:
            if self.server.mode() == "close":
                return
            head = read_exact(sock, 4)
            if head == b"\xee" * 4:
                decrypt = encrypt = None
            else:
                header = read_exact(sock, 64, head)
                decrypt = ctr(header[8:40], header[40:56])
                if decrypt.update(header)[56:60] != b"\xee" * 4:
                    return  # neither transport: a genuine server drops it
                reverse = header[8:56][::-1]
                encrypt = ctr(reverse[:32], reverse[32:48])
            clear = lambda b: decrypt.update(b) if decrypt else b
            length = struct.unpack("<I", clear(read_exact(sock, 4)))[0]
            if length > 1024:
                return
            packet = clear(read_exact(sock, length))
            if len(packet) < 40 or struct.unpack("<I", packet[20:24])[0] != REQ_PQ_MULTI:
                return
            reply = respq(packet[24:40])
            sock.sendall(encrypt.update(reply) if encrypt else reply)
        except (OSError, EOFError):
            pass


class Server(ModeServer):
    def __init__(self, port, mode_file):
        super().__init__(port, Handler, mode_file)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, action="append", required=True, help="TCP port (repeatable)")
    p.add_argument("--mode-file", required=True)
    p.add_argument("--ready-file")
    a = p.parse_args()
    servers = [Server(port, a.mode_file) for port in a.port]
    serve_all(servers, a.ready_file)


if __name__ == "__main__":
    main()
