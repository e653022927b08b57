#!/usr/bin/python3
# Lab scenarios (tests/lab/scenarios/NAME.json): loading, validation and the
# commands that switch one on. Used by scripts/lab (list, commands) and by the
# test runner (expectations). In a scenario's "on" lines:
#   @HOST    the host's first lab address     @HOST#2  its second address
#   @@HOST   all its addresses, comma-separated (for iptables -d)
#   %HOST    the name as DNS wire labels for iptables --hex-string, quoted ('|04|line|02|me|00|')
import argparse
import json
import os
import re
import sys

# MEOKTONG_LAB_SCENARIO_DIR: another directory of scenarios (the generated ones of tests/lab/gen_lab.py).
SCENARIO_DIR = os.environ.get("MEOKTONG_LAB_SCENARIO_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "scenarios")
# trap: a messy but uncensored network that must not come out blocked or provider_down;
# stacked: several faults at once, each target with its own verdict.
KINDS = ("baseline", "censorship", "provider", "local", "trap", "stacked")
STATUSES = ("accessible", "blocked", "provider_down", "local_failure", "inconclusive")
BLOCKED_METHODS = ("dns_injection", "dns_tampering", "dns_nxdomain", "dns_blackhole", "tcp_reset",
                   "tcp_blackhole", "tls_sni_reset", "tls_sni_blackhole", "tls_mitm", "http_blockpage",
                   "throttling", "stall", "app_reset", "app_blackhole", "app_tampering", "udp_blackhole")
PROVIDER_METHODS = ("dns_servfail", "dns_nxdomain", "tcp_refused", "tcp_timeout", "tls_failure", "http_error",
                    "app_error")
PLACEHOLDER = re.compile(r"(@@|@|%)([a-z0-9][a-z0-9.-]*[a-z0-9])(?:#(\d+))?")


class ScenarioError(Exception):
    pass


def scenario_names():
    return sorted(f[:-5] for f in os.listdir(SCENARIO_DIR) if f.endswith(".json"))


def validate(name, sc):
    def bad(why):
        raise ScenarioError(f"{os.path.join(SCENARIO_DIR, name)}.json: {why}")

    for key in ("description", "kind", "on", "expect"):
        if key not in sc:
            bad(f"missing '{key}'")
    if sc["kind"] not in KINDS:
        bad(f"unknown kind '{sc['kind']}'")
    if not isinstance(sc["on"], list) or not all(isinstance(x, str) for x in sc["on"]):
        bad("'on' must be a list of command lines")
    for target, exp in sc["expect"].items():
        status, method = exp.get("status"), exp.get("method")
        if status not in STATUSES:
            bad(f"{target}: unknown status '{status}'")
        if status == "blocked" and method not in BLOCKED_METHODS:
            bad(f"{target}: 'blocked' needs a blocking method, not '{method}'")
        if status == "provider_down" and method not in PROVIDER_METHODS:
            bad(f"{target}: 'provider_down' needs a provider method, not '{method}'")
        if not exp.get("facts"):
            bad(f"{target}: no observation-level facts")
    return sc


def load(name):
    path = os.path.join(SCENARIO_DIR, name + ".json")
    if not os.path.isfile(path):
        raise ScenarioError(f"no scenario '{name}' (see: scripts/lab scenario list)")
    with open(path) as f:
        try:
            return validate(name, json.load(f))
        except ValueError as e:
            raise ScenarioError(f"tests/lab/scenarios/{name}.json: {e}")


def dns_labels(host):
    return "|" + "".join(f"{len(label):02x}|{label}|" for label in host.split(".")) + "00|"


def substitute(line, hosts):
    def repl(m):
        kind, host, index = m.group(1), m.group(2), int(m.group(3) or 1)
        if kind == "%":
            return "'" + dns_labels(host) + "'"
        if host not in hosts:
            raise ScenarioError(f"'{host}' has no lab address")
        if kind == "@@":
            return ",".join(hosts[host])
        if index > len(hosts[host]):
            raise ScenarioError(f"'{host}' has no address #{index}")
        return hosts[host][index - 1]

    return PLACEHOLDER.sub(repl, line)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    c = sub.add_parser("commands")
    c.add_argument("name")
    c.add_argument("--hosts", required=True)
    a = p.parse_args()
    try:
        if a.cmd == "list":
            for name in scenario_names():
                sc = load(name)
                print(f"{name:20} {sc['kind']:11} {sc['description']}")
        else:
            sc = load(a.name)
            with open(a.hosts) as f:
                hosts = json.load(f)
            for line in sc["on"]:
                print(substitute(line, hosts))
    except ScenarioError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
