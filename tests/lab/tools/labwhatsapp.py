#!/usr/bin/python3
# The lab's WhatsApp chat-server stand-in: answers the start of WhatsApp's
# Noise XX handshake (the "WA" connection header, optionally behind an "ED"
# routing prefix, then a 3-byte-length frame holding HandshakeMessage
# {clientHello{ephemeral}}) with a ServerHello {ephemeral, static, payload}
# whose payload is a CertChain signed by the lab's root key, as WhatsApp's
# servers answer (facts from tulir/whatsmeow handshake.go and
# socket/noisehandshake.go, WhiskeySockets/Baileys src/Utils/noise-handler.ts).
# WhatsApp's servers cannot be run offline and their root key is not ours:
# this is a scripted server written from the published protocol,
# independently of the probe's code; the probe is pointed at the lab root's
# public key instead of WhatsApp's. It never reads past the ClientHello: it
# waits a few seconds for the client to go, then closes.
#
# The root key file holds the lab root's Ed25519 private key (hex; made when
# absent); <file>.pub holds its public key as WhatsApp publishes keys, the
# Curve25519 u of the point (hex), against which XEdDSA verifies. Protobufs
# are encoded by hand; crypto is python3-cryptography's. A mode file switches it:
#   {"mode": "serve"}   answer (the default)
#   {"mode": "close"}   accept and close without answering (a provider fault)
import argparse
import os
import socketserver
import struct
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from labapp import ModeServer, read_exact, serve_all

NOISE_PROTOCOL = b"Noise_XX_25519_AESGCM_SHA256\0\0\0\0"  # 32 bytes: the initial hash itself
P = 2**255 - 19
MAX_FRAME = 64 * 1024
RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


# ---- protobuf by hand ----

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field_bytes(number, value):
    return varint(number << 3 | 2) + varint(len(value)) + value


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def fields(data):
    """The length-delimited fields of a message, by number (last wins); None if malformed."""
    out, at = {}, 0

    def read_varint():
        nonlocal at
        value, shift = 0, 0
        while at < len(data) and shift < 64:
            b = data[at]
            at += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
        raise ValueError

    try:
        while at < len(data):
            key = read_varint()
            if key & 7 == 0:
                read_varint()
            elif key & 7 == 2:
                length = read_varint()
                if length > len(data) - at:
                    return None
                out[key >> 3] = data[at:at + length]
                at += length
            else:
                return None
    except ValueError:
        return None
    return out


# ---- keys and signatures ----

def montgomery_u(ed_public):
    """The Curve25519 u of an Ed25519 point: u = (1 + y) / (1 - y) mod p."""
    y = int.from_bytes(ed_public, "little") & ((1 << 255) - 1)
    return ((1 + y) * pow(1 - y, P - 2, P) % P).to_bytes(32, "little")


class XSigner:
    """An Ed25519 key published as its u; signatures carry the point's sign bit (XEdDSA's form)."""

    def __init__(self, private=None):
        self.key = private or Ed25519PrivateKey.generate()
        self.ed_public = self.key.public_key().public_bytes(*RAW)
        self.public = montgomery_u(self.ed_public)

    def sign(self, message):
        sig = bytearray(self.key.sign(message))
        sig[63] |= self.ed_public[31] & 0x80
        return bytes(sig)


def load_root(path):
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
    with open(path) as f:
        root = XSigner(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(f.read().strip())))
    with open(path + ".pub", "w") as f:
        f.write(root.public.hex() + "\n")
    return root


def cert_chain(root, intermediate, server_static):
    now = int(time.time())
    inter = (field_varint(1, 1) + field_varint(2, 0) + field_bytes(3, intermediate.public) +
             field_varint(4, now - 86400) + field_varint(5, now + 365 * 86400))
    leaf = (field_varint(1, 2) + field_varint(2, 1) + field_bytes(3, server_static) +
            field_varint(4, now - 86400) + field_varint(5, now + 30 * 86400))
    cert = lambda details, sig: field_bytes(1, details) + field_bytes(2, sig)
    return field_bytes(1, cert(leaf, intermediate.sign(leaf))) + field_bytes(2, cert(inter, root.sign(inter)))


# ---- Noise XX, the responder's first message ----

def sha256(*parts):
    h = hashes.Hash(hashes.SHA256())
    for p in parts:
        h.update(p)
    return h.finalize()


def mix_key(chaining_key, secret):
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=chaining_key, info=b"").derive(secret)
    return okm[:32], okm[32:]


def nonce(counter):
    return b"\0" * 8 + struct.pack(">I", counter)


def server_hello(prologue, client_ephemeral, static_key, chain):
    h = sha256(sha256(NOISE_PROTOCOL, prologue), client_ephemeral)
    ck = NOISE_PROTOCOL
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(*RAW)
    h = sha256(h, ephemeral_public)
    client = X25519PublicKey.from_public_bytes(client_ephemeral)
    ck, k = mix_key(ck, ephemeral.exchange(client))
    sealed_static = AESGCM(k).encrypt(nonce(0), static_key.public_key().public_bytes(*RAW), h)
    h = sha256(h, sealed_static)
    ck, k = mix_key(ck, static_key.exchange(client))
    sealed_payload = AESGCM(k).encrypt(nonce(0), chain, h)
    hello = field_bytes(1, ephemeral_public) + field_bytes(2, sealed_static) + field_bytes(3, sealed_payload)
    message = field_bytes(3, hello)
    return len(message).to_bytes(3, "big") + message


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(10)
        try:
            if self.server.mode() == "close":
                return
            header = read_exact(sock, 4)
            if header[:2] == b"ED":  # a routing-info prefix: "ED" 0 1, 3-byte length, the info, then the header
                routing_length = int.from_bytes(read_exact(sock, 3), "big")
                read_exact(sock, routing_length)
                header = read_exact(sock, 4)
            if header[:2] != b"WA":
                return  # not WhatsApp: a genuine server drops it
            length = int.from_bytes(read_exact(sock, 3), "big")
            if length > MAX_FRAME:
                return
            message = fields(read_exact(sock, length))
            hello = fields(message.get(2, b"")) if message else None
            if not hello or len(hello.get(1, b"")) != 32:
                return
            s = self.server
            sock.sendall(server_hello(header, hello[1], s.static_key, s.chain))
            sock.settimeout(5)
            try:
                while sock.recv(4096):  # the probe sends nothing more and goes; wait for that, or 5 s
                    pass
            except OSError:
                pass
        except (OSError, EOFError, ValueError):
            pass


class Server(ModeServer):
    def __init__(self, port, mode_file, root):
        super().__init__(port, Handler, mode_file)
        self.static_key = X25519PrivateKey.generate()
        intermediate = XSigner()
        self.chain = cert_chain(root, intermediate, self.static_key.public_key().public_bytes(*RAW))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, action="append", required=True, help="TCP port (repeatable)")
    p.add_argument("--mode-file", required=True)
    p.add_argument("--root-key-file", required=True, help="the lab root's private key (made if absent); its public key goes to FILE.pub")
    p.add_argument("--ready-file")
    a = p.parse_args()
    root = load_root(a.root_key_file)
    servers = [Server(port, a.mode_file, root) for port in a.port]
    serve_all(servers, a.ready_file)


if __name__ == "__main__":
    main()
