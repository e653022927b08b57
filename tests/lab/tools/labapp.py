# Shared by the lab's app-protocol stand-ins (labmtproto.py, labloco.py,
# labwhatsapp.py, labsignal.py): reading exactly n bytes from a socket, the
# mode a scenario set in the stand-in's mode file (scripts/lab app_mode), the
# threading TCP server they run on, and serving several of them at once.
import json
import socketserver
import threading


def read_exact(sock, n, first=b""):
    """`first` and then bytes from `sock` until there are n; EOFError when the peer closes first."""
    buf = first
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def read_mode(mode_file):
    """The mode in {"mode": ...}; "serve" when the file is missing, empty or malformed."""
    try:
        with open(mode_file) as f:
            return json.load(f).get("mode", "serve")
    except (OSError, ValueError, AttributeError):
        return "serve"


class ModeServer(socketserver.ThreadingTCPServer):
    """A threading TCP server on every address at `port` whose handlers ask self.server.mode()."""
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port, handler, mode_file):
        super().__init__(("0.0.0.0", port), handler)
        self.mode_file = mode_file

    def mode(self):
        return read_mode(self.mode_file)


def serve_all(servers, ready_file):
    """Serves every server (the first in the calling thread, the others in threads of their own), after making `ready_file` if given."""
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    if ready_file:
        open(ready_file, "w").close()
    servers[0].serve_forever()
