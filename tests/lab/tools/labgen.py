#!/usr/bin/python3
# Generated lab scenarios (scripts/lab fuzz, tests/lab/gen_lab.py): stacks the
# lab's censorship techniques and provider faults on randomly chosen hosts of
# the lab list, under random packet loss (0-15 %) and round-trip time
# (5-300 ms), and knows from what it applied the right answer for every target:
# its status and the family of its method. Pure: no lab, no network; the same
# seed always gives the same scenarios. Each technique below is one the lab's
# hand-written scenarios prove on its own (tests/lab/scenarios/).
import json
import os
import random

LAB_LIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab-list.json")
TCP_PROTOCOLS = {"tls", "https", "http", "mtproto"}
TLS_PROTOCOLS = {"tls", "https"}
# The censor's lying resolver: every client query goes to it once a liar technique is on.
LIAR_DNAT = "censor iptables -t nat -A MT_SCEN_NAT -i cli0 -p udp --dport 53 -j DNAT --to-destination 10.77.30.3:53"
LOSS_MAX_PERCENT = 15
RTT_RANGE_MS = (5, 300)


class Technique:
    """One fault: what it does to a host, and the truth it makes for that host's targets.

    status/family: the right verdict for an affected target (family: the method's first word,
    dns, tcp, tls, http, app, udp, throttling or stall; a dict when it depends on the target's
    protocol, "*" for the others). protocols: which of the host's targets it
    affects (None: all). eligible(host, protocols): may it be applied to this host at all.
    lines(host): the scenario's "on" lines (scripts/lab verbs, @@HOST placeholders).
    by_substring: the censor matches the name as a string (SNI filtering), so it hits every
    host whose name contains it too (talk.kakao.com's rule hits katalk.kakao.com), as real
    substring filters overblock."""

    def __init__(self, name, status, family, eligible, lines, protocols=None, group=None, by_substring=False):
        self.name, self.status, self.family = name, status, family
        self.eligible, self.lines, self.protocols, self.group = eligible, lines, protocols, group
        self.by_substring = by_substring

    def reaches(self, host, other):
        return host in other if self.by_substring else host == other


def is_name(host, _protocols):
    return not host.replace(".", "").isdigit()


def has(*wanted):
    def check(host, protocols):
        return bool(set(wanted) & protocols)
    return check


def both(*checks):
    return lambda host, protocols: all(c(host, protocols) for c in checks)


def dns_rule(resolver, host, rule):
    return f"dns_rule {resolver} {host} '{json.dumps(rule)}'"


def transient_blackhole_lines(host):
    clock = "transient_" + host.replace(".", "_")  # one xt_recent table per host
    return [f"censor iptables -A MT_SCEN -i cli0 -d @@{host} -m recent --name {clock} ! --rcheck -m recent --name {clock} --set",
            f"censor iptables -A MT_SCEN -i cli0 -d @@{host} -m recent --name {clock} --rcheck --seconds 3 -j DROP"]


TECHNIQUES = [
    # censorship: the right answer is blocked
    Technique("dns_injection", "blocked", "dns", is_name, lambda h: [f"inject 10.77.99.1 {h}"], group="injector"),
    Technique("dns_lie_nxdomain", "blocked", "dns", is_name,
              lambda h: [dns_rule("liar", h, {"rcode": "NXDOMAIN"}), LIAR_DNAT]),
    Technique("dns_lie_bogon", "blocked", "dns", is_name,
              lambda h: [dns_rule("liar", h, {"answer": "10.10.34.35"}), LIAR_DNAT]),
    Technique("dns_drop_query", "blocked", "dns", is_name,
              lambda h: [f"censor iptables -A MT_SCEN -i cli0 -p udp --dport 53 -m string --hex-string %{h} "
                         "--algo bm --icase -j DROP"]),
    Technique("tcp_reset", "blocked", "tcp", has(*TCP_PROTOCOLS),
              lambda h: [f"censor iptables -A MT_SCEN -i cli0 -p tcp --syn -d @@{h} -j REJECT --reject-with tcp-reset"],
              protocols=TCP_PROTOCOLS),
    Technique("ip_blackhole", "blocked", {"stun": "udp", "*": "tcp"}, lambda h, p: True,
              lambda h: [f"censor iptables -A MT_SCEN -i cli0 -d @@{h} -j DROP"]),
    Technique("sni_reset", "blocked", "tls", both(is_name, has(*TLS_PROTOCOLS)),
              lambda h: [f"censor iptables -A MT_SCEN -i cli0 -p tcp --dport 443 -m string --string {h} --algo bm "
                         "-j REJECT --reject-with tcp-reset"], protocols=TLS_PROTOCOLS, by_substring=True),
    Technique("sni_blackhole", "blocked", "tls", both(is_name, has(*TLS_PROTOCOLS)),
              lambda h: [f"censor iptables -A MT_SCEN -i cli0 -p tcp --dport 443 -m string --string {h} --algo bm "
                         "-j DROP"], protocols=TLS_PROTOCOLS, by_substring=True),
    Technique("tls_mitm", "blocked", "tls", both(is_name, has(*TLS_PROTOCOLS)),
              lambda h: [f"censor iptables -t nat -A MT_SCEN_NAT -i cli0 -p tcp --dport 443 -d @@{h} "
                         "-j DNAT --to-destination 10.77.30.2:443"], protocols=TLS_PROTOCOLS),
    Technique("http_blockpage", "blocked", "http", has("http"),
              lambda h: [f"censor iptables -t nat -A MT_SCEN_NAT -i cli0 -p tcp --dport 80 -d @@{h} "
                         "-j DNAT --to-destination 10.77.30.1:80"], protocols={"http"}),
    Technique("mtproto_dpi", "blocked", "app", has("mtproto"),
              lambda h: [f"censor iptables -A MT_SCEN -i cli0 -p tcp -d @@{h} -m string --algo bm "
                         "--hex-string '|eeeeeeee|' --to 80 -j REJECT --reject-with tcp-reset"], protocols={"mtproto"}),
    Technique("mtproto_data_drop", "blocked", "app", has("mtproto"),
              lambda h: [f"censor iptables -A MT_SCEN -i cli0 -p tcp -d @@{h} -m length --length 80:65535 -j DROP"],
              protocols={"mtproto"}),
    Technique("udp_drop", "blocked", "udp", has("stun"),
              lambda h: [f"censor iptables -A MT_SCEN -i cli0 -p udp -d @@{h} -j DROP"], protocols={"stun"}),
    # (Not under loss: a link losing packets is slower than the 2 Mbit/s throttle, which then
    # changes nothing; generate() leaves it out there.)
    Technique("throttle", "blocked", "throttling", lambda h, p: h == "web.whatsapp.com",
              lambda h: [f"throttle @{h} 2mbit"], protocols={"https"}),
    Technique("stall", "blocked", "stall", lambda h, p: h == "web.whatsapp.com",
              lambda h: ["wire_sized_packets", f"censor iptables -A MT_SCEN -o cli0 -p tcp -s @@{h} --sport 443 -m connbytes "
                         "--connbytes 16384: --connbytes-dir reply --connbytes-mode bytes -j DROP"], protocols={"https"}),
    # a trap: a fault that comes and goes within the run (a route flapping, a server restarting):
    # every packet to the host dropped for 3 s after the first, then passed. It is over before any
    # retest can start (a failed step takes the 4 s step deadline first), so the right answer is
    # accessible, whether the first try got through late or failed and was retested. (A fault that
    # outlasts the retest looks like blocking to the probe: docs/verdicts.md says so.)
    Technique("transient_blackhole", "accessible", None, lambda h, p: True, transient_blackhole_lines),
    # provider faults: the right answer is provider_down. A lying resolver forwards what it does
    # not lie about, so an authoritative DNS fault is mirrored into the liar's rules too.
    Technique("dns_servfail", "provider_down", "dns", is_name,
              lambda h: [dns_rule(r, h, {"rcode": "SERVFAIL"}) for r in ("authoritative", "liar")]),
    Technique("retired_name", "provider_down", "dns", is_name,
              lambda h: [dns_rule(r, h, {"rcode": "NXDOMAIN"}) for r in ("authoritative", "liar")]),
    # (Not at an MTProto address: the servers' NAT redirect to the stand-in rewrites it before INPUT.)
    Technique("host_down", "provider_down", {"stun": "app", "*": "tcp"}, lambda h, p: "mtproto" not in p,
              lambda h: [f"servers iptables -A MT_SCEN -d @@{h} -j DROP"]),
    Technique("server_refuses", "provider_down", "tcp", both(has(*TCP_PROTOCOLS), lambda h, p: "mtproto" not in p),
              lambda h: [f"servers iptables -A MT_SCEN -p tcp -d @@{h} -j REJECT --reject-with tcp-reset"],
              protocols=TCP_PROTOCOLS),
    Technique("mtproto_server_fault", "provider_down", "app", has("mtproto"),
              lambda h: ["app_mode mtproto close"], protocols={"mtproto"}),
]
BY_NAME = {t.name: t for t in TECHNIQUES}


def lab_targets(path=LAB_LIST):
    """[(key, host, protocol)] of the lab list's targets (not its canaries, which stay clean)."""
    with open(path) as f:
        doc = json.load(f)
    out = []
    for service in doc["services"]:
        for t in service["targets"]:
            out.append((f"{t['protocol']}://{t['host']}:{t['port']}", t["host"], t["protocol"]))
    return out


def family(method):
    """A verdict method's family: its first word (tls_sni_reset -> tls, udp_blackhole -> udp)."""
    return method.split("_")[0] if method else None


def generate(seed, count, targets=None):
    """`count` scenarios: [{"name", "faults": {host: technique}, "loss", "rtt_ms", "local",
    "control_blocked", "on": [...], "truth": {key: (status, family)}}]."""
    rng = random.Random(seed)
    targets = targets or lab_targets()
    protocols_of = {}
    for _key, host, protocol in targets:
        protocols_of.setdefault(host, set()).add(protocol)
    hosts = sorted(protocols_of)
    scenarios = []
    for i in range(count):
        sc = {"name": f"gen{seed}_{i:03d}", "faults": {}, "local": rng.random() < 0.05,
              "loss": rng.randint(1, LOSS_MAX_PERCENT) if rng.random() < 0.5 else 0,
              "rtt_ms": rng.randint(*RTT_RANGE_MS), "control_blocked": rng.random() < 0.1}
        if sc["local"]:  # the uplink is down: loss and a blocked control mean nothing then
            sc["loss"], sc["control_blocked"] = 0, False
        if not sc["local"]:
            used_groups = set()
            for host in rng.sample(hosts, rng.randint(1, 3)):
                if reaching(sc["faults"], host):
                    continue  # an earlier substring rule already hits this host
                choices = [t for t in TECHNIQUES if t.eligible(host, protocols_of[host]) and t.group not in used_groups
                           and not any(t.reaches(host, other) for other in sc["faults"])
                           and not (t.name == "throttle" and sc["loss"])
                           and not conflicts_with_liar(t.name, sc["faults"].values())]
                if choices:
                    t = rng.choice(choices)
                    sc["faults"][host] = t.name
                    if t.group:
                        used_groups.add(t.group)
        sc["on"] = scenario_lines(sc)
        sc["truth"] = truth(sc, targets)
        scenarios.append(sc)
    return scenarios


def uses_liar(name):
    return LIAR_DNAT in BY_NAME[name].lines("x")


# Techniques that act on DNS queries crossing the censor (its FORWARD chain, its injector).
ON_PATH_DNS = {"dns_drop_query", "dns_injection"}


def conflicts_with_liar(name, chosen):
    """A dropped or injected query and a lying resolver do not stack: the liar's DNAT sends every
    client query to the censor itself, so it never crosses the FORWARD chain where the drop rule
    and the injector sit (the liar then answers the name truthfully, and the right answer would
    be accessible)."""
    return any((name in ON_PATH_DNS and uses_liar(c)) or (c in ON_PATH_DNS and uses_liar(name)) for c in chosen)


def reaching(faults, host):
    """The technique of `faults` ({host: name}) that hits `host`, or None (one at most)."""
    for fault_host, name in faults.items():
        if BY_NAME[name].reaches(fault_host, host):
            return BY_NAME[name]
    return None


def scenario_lines(sc):
    lines = [f"link_rtt {sc['rtt_ms']}"]
    if sc["local"]:
        return lines + ["uplink_down"]
    if sc["loss"]:
        p = sc["loss"] / 100
        lines += [f"censor iptables -A MT_SCEN -i cli0 -m statistic --mode random --probability {p} -j DROP",
                  f"censor iptables -A MT_SCEN -o cli0 -m statistic --mode random --probability {p} -j DROP"]
    if sc["control_blocked"]:
        lines.append("censor iptables -A MT_SCEN -i cli0 -d 10.77.5.2 -j DROP")
    for host, name in sorted(sc["faults"].items()):
        for line in BY_NAME[name].lines(host):
            if line not in lines:
                lines.append(line)
    return lines


def truth(sc, targets):
    """{key: (status, family)}: the right answer for every target of the list."""
    out = {}
    for key, host, protocol in targets:
        if sc["local"]:
            out[key] = ("local_failure", None)
            continue
        t = reaching(sc["faults"], host)
        affected = t is not None and (t.protocols is None or protocol in t.protocols)
        if not affected:
            out[key] = ("accessible", None)
        else:
            fam = t.family.get(protocol, t.family["*"]) if isinstance(t.family, dict) else t.family
            out[key] = (t.status, fam)
    return out


def describe(sc):
    parts = ["uplink down"] if sc["local"] else [f"{t}@{h}" for h, t in sorted(sc["faults"].items())]
    parts.append(f"loss {sc['loss']}%, rtt {sc['rtt_ms']}ms")
    if sc["control_blocked"]:
        parts.append("control blocked")
    return "; ".join(parts)


def scenario_file(sc):
    """The scenario as tests/lab/scenarios/*.json would hold it (scripts/lab scenario NAME on)."""
    return {"description": f"Generated: {describe(sc)}", "kind": "stacked", "on": sc["on"], "expect": {}}
