#!/usr/bin/python3
# Lab address plan for the fake services: gives every lab hostname (the fixed
# lab services plus every host in testlists/*.json and tests/lab/lab-list.json)
# its address(es) in the servers namespace, and collects the ports the servers
# must listen on. Writes, into the lab state directory:
#   hosts.json  {"line.me": ["10.77.10.1"], "149.154.167.51": ["149.154.167.51"], ...}
#   zone.json   the DNS zone: hostnames only (IP literals need no DNS)
#   ports.json  {"tls": [443, ...], "plain": [80, ...], "mtproto": ["IP:PORT", ...],
#               "stun": [...], "loco": [...], "whatsapp": [...], "signal": [...]}: the app protocols' (SPEC §7) endpoints get their own servers
#   sans.txt    subjectAltName value for the lab certificate
import argparse
import glob
import ipaddress
import json
import os

# Fixed hosts the scenarios refer to (see docs/lab.md for the plan).
FIXED = {
    "line.me": ["10.77.10.1"],
    "talk.kakao.com": ["10.77.10.2"],
    "katalk.kakao.com": ["10.77.10.3", "10.77.10.4"],  # two addresses: the "partial" scenario
    "web.whatsapp.com": ["10.77.10.5"],
    "canary.lab": ["10.77.9.1"],
    "echo.meoktong.lab": ["10.77.11.1"],  # echoes the client's address (the privacy test)
}
CONTROL = {"control.lab": ["10.77.5.2"]}  # in the zone, but not served by the servers namespace
LIST_POOL = ipaddress.ip_network("10.77.16.0/20")  # test-list hostnames, in sorted order
TLS_PROTOCOLS = {"tls", "https"}
APP_PROTOCOLS = {"mtproto", "stun", "loco", "whatsapp", "signal"}  # labmtproto.py, coturn, labloco.py, labwhatsapp.py, labsignal.py
DEFAULT_PORTS = {"tls": 443, "https": 443, "http": 80, "signal": 443}


def list_targets(paths):
    """(host, port, protocol) of every target and canary in the given lists."""
    for path in paths:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue  # a list being edited: skip it, the lab still comes up
        entries = [t for s in doc.get("services", []) for t in s.get("targets", [])]
        entries += doc.get("canaries", [])
        for t in entries:
            if isinstance(t, dict) and isinstance(t.get("host"), str):
                proto = t.get("protocol", "tls")
                yield t["host"].lower(), t.get("port", DEFAULT_PORTS.get(proto, 0)), proto


def is_ip_literal(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def plan(paths):
    hosts = dict(FIXED)
    ports = {"tls": {443}, "plain": {80}}
    pool = iter(LIST_POOL.hosts())
    targets = sorted(set(list_targets(paths)), key=lambda t: (t[0], str(t[1]), t[2]))
    app = {p: set() for p in APP_PROTOCOLS}
    for host, port, proto in targets:
        if not (isinstance(port, int) and 0 < port < 65536) or proto == "dns":
            pass
        elif proto in APP_PROTOCOLS:
            app[proto].add((host, port))
        else:
            ports["tls" if proto in TLS_PROTOCOLS else "plain"].add(port)
        if host in hosts:
            continue
        if is_ip_literal(host):
            if ipaddress.ip_address(host).version == 4:
                hosts[host] = [host]
        else:
            hosts[host] = [str(next(pool))]
    ports["plain"] -= ports["tls"]  # a TLS listener also accepts plain TCP connects
    out = {k: sorted(v) for k, v in ports.items()}
    for proto, endpoints in app.items():
        out[proto] = sorted({f"{ip}:{port}" for host, port in endpoints for ip in hosts.get(host, [])})
    return hosts, out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repo", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    paths = sorted(glob.glob(os.path.join(a.repo, "testlists", "*.json")))
    paths.append(os.path.join(a.repo, "tests", "lab", "lab-list.json"))
    hosts, ports = plan(paths)
    names = sorted(h for h in hosts if not is_ip_literal(h))
    zone = {h: hosts[h] for h in names}
    zone.update(CONTROL)
    sans = [f"DNS:{h}" for h in names] + [f"IP:{h}" for h in hosts if is_ip_literal(h)]
    for name, data in (("hosts.json", hosts), ("zone.json", zone), ("ports.json", ports)):
        with open(os.path.join(a.out, name), "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
    with open(os.path.join(a.out, "sans.txt"), "w") as f:
        f.write(",".join(sans) + "\n")


if __name__ == "__main__":
    main()
