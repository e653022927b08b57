#!/usr/bin/python3
# The lab's Signal chat-server stand-in: a TLS WebSocket server whose
# provisioning socket (/v1/websocket/provisioning/) behaves as Signal's does
# for a device that is not linked yet: on connect it sends one binary frame,
# the WebSocketMessage REQUEST "PUT /v1/address" whose body is a
# ProvisioningAddress holding 16 random bytes in URL-safe base64, then keeps
# the socket open a while (Signal: 90 s, here ~5 s) and closes with 1000.
# Written from the public protocol (signalapp/Signal-Server
# ProvisioningConnectListener.java, WebSocketProtocol.proto, TextSecure.proto;
# RFC 6455), independently of the probe's code; the protobuf bytes are
# hand-encoded here. WebSocket framing is python3-websockets'. Signal's servers
# cannot be run offline. A mode file switches it:
#   {"mode": "serve"}   the behaviour above (also when the file is missing)
#   {"mode": "error"}   HTTP 503 to the upgrade (a provider fault)
import argparse
import asyncio
import base64
import http
import os
import ssl
import time

import websockets

from labapp import read_mode

PROVISIONING_PATH = "/v1/websocket/provisioning/"
TYPE_REQUEST = 1
OPEN_SECONDS = 5


def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def timestamp_ms():
    return int(time.time() * 1000)


def first_message():
    # ProvisioningAddress { address = 1 }: 16 random bytes, URL-safe base64 with padding.
    address = base64.urlsafe_b64encode(os.urandom(16))
    body = field_bytes(1, address)
    # WebSocketRequestMessage { verb = 1, path = 2, body = 3, id = 4, headers = 5 },
    # fields in number order as protobuf-java writes them.
    request = (field_bytes(1, b"PUT") + field_bytes(2, b"/v1/address") + field_bytes(3, body)
               + field_varint(4, int.from_bytes(os.urandom(8), "big"))
               + field_bytes(5, b"X-Signal-Timestamp:%d" % timestamp_ms()))
    # WebSocketMessage { type = 1 (REQUEST), request = 2 }
    return field_varint(1, TYPE_REQUEST) + field_bytes(2, request)


def make_process_request(mode_file):
    async def process_request(path, _headers):
        if path.split("?")[0] != PROVISIONING_PATH:
            return http.HTTPStatus.NOT_FOUND, [], b""
        if read_mode(mode_file) == "error":
            return http.HTTPStatus.SERVICE_UNAVAILABLE, [("Content-Length", "0")], b""
        return None  # go on with the upgrade
    return process_request


async def provisioning(websocket, _path):
    try:
        await websocket.send(first_message())  # bytes: one binary frame
        await asyncio.sleep(OPEN_SECONDS)
        await websocket.close(1000, "Timeout")
    except websockets.ConnectionClosed:
        pass


async def serve(args):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    async with websockets.serve(
            provisioning, "0.0.0.0", args.port, ssl=context,
            process_request=make_process_request(args.mode_file),
            extra_headers=lambda _path, _headers: [("X-Signal-Timestamp", str(timestamp_ms()))],
            server_header=None, compression=None, ping_interval=None):
        if args.ready_file:
            open(args.ready_file, "w").close()
        await asyncio.Future()


def main():
    p = argparse.ArgumentParser(description="Signal provisioning-socket stand-in for the lab")
    p.add_argument("--port", type=int, required=True, help="TLS port")
    p.add_argument("--cert", required=True, help="PEM certificate chain for TLS")
    p.add_argument("--key", required=True, help="PEM private key")
    p.add_argument("--mode-file", required=True)
    p.add_argument("--ready-file")
    asyncio.run(serve(p.parse_args()))


if __name__ == "__main__":
    main()
