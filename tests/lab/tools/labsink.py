#!/usr/bin/python3
# The lab's silent transparent proxy: accepts every TCP connection redirected
# to it (the censor's nat REDIRECT), reads and discards what the client sends
# and never answers, as a middlebox that completes every handshake and then
# says nothing does (scripts/lab tcp_sink). TCP success proves nothing here:
# only a protocol's own reply does.
import argparse
import socketserver


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(30)
        try:
            while self.request.recv(4096):
                pass
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ready-file")
    a = p.parse_args()
    server = Server(("0.0.0.0", a.port), Handler)
    if a.ready_file:
        open(a.ready_file, "w").close()
    server.serve_forever()


if __name__ == "__main__":
    main()
