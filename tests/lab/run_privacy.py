#!/usr/bin/python3
# The lab privacy test (ctest `lab_privacy`, issue 7): the probe's own address
# never lands in a report. Brings up its own lab (prefix mtp), runs `meoktong
# run` in the client namespace with capture and the control vantage on the lab
# list plus the echo server (echo.meoktong.lab: the client's address in title,
# body, headers, a redirect and across the excerpt/title cut) and a name the
# lab resolver answers with the client's own address; then searches the
# report, every file the run wrote, stdout and stderr for every address of the
# client namespace in every spelling. To be able to fail it also checks that
# the echo server did echo (the scrubbed placeholder stands where the address
# was). A non-zero exit of meoktong (e.g. LeakSanitizer in the ASan build),
# or a sanitizer report of the lab's control server (the same binary) when it
# is stopped, fails the test. Tears the lab down, always. Stdlib only; needs root.
import argparse
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_lab  # noqa: E402

ECHO = "echo.meoktong.lab"
SELF = "self.echo.meoktong.lab"  # the lab resolver answers it with the client's own address
ECHO_TARGETS = [f"https://{ECHO}/", f"http://{ECHO}/", f"http://{ECHO}/redirect", f"https://{ECHO}/cut",
                f"tls://{SELF}:443", f"http://{SELF}/"]
SCRUBBED = "[scrubbed]"  # probe/run/scrub.hpp kScrubbed


# -------------------------------------------------------------- addresses

def client_addresses(prefix):
    """Every non-loopback address of the client namespace (v4 and v6, link-local included)."""
    out = subprocess.run(["ip", "-n", f"{prefix}-client", "-o", "addr", "show"], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        m = re.search(r"\binet6? (\S+?)/\d+", line)
        if m and not ipaddress.ip_address(m.group(1)).is_loopback:
            found.append(ipaddress.ip_address(m.group(1)))
    return found


def spellings(ip):
    """(text, whole_word) for every way a report could spell ip."""
    if ip.version == 4:
        b = ip.packed
        out = [".".join(map(str, b)), ".".join(map(str, reversed(b))), "-".join(map(str, b)),
               "-".join(map(str, reversed(b))), "_".join(map(str, b)), ".".join(f"{x:03d}" for x in b),
               ip.reverse_pointer.removesuffix(".in-addr.arpa")]
        return [(s, False) for s in dict.fromkeys(out)] + [(b.hex(), True), (str(int(ip)), True)]
    groups = ip.exploded.split(":")
    out = [ip.compressed, ip.exploded, ":".join(g.lstrip("0") or "0" for g in groups),
           ip.compressed.replace(":", "-"), ip.reverse_pointer.removesuffix(".ip6.arpa"), ip.packed.hex()]
    return [(s, False) for s in out]


def find_leaks(text, addresses):
    leaks = []
    for ip in addresses:
        for s, whole in spellings(ip):
            pattern = (r"(?<![0-9a-z])" + re.escape(s) + r"(?![0-9a-z])") if whole else re.escape(s)
            for m in re.finditer(pattern, text, re.IGNORECASE):
                leaks.append(f"{s!r} (of {ip}) in ...{text[max(0, m.start() - 60):m.end() + 30]!r}...")
    return leaks


# ------------------------------------------------------------------ echo

def record_key(record):
    """PROTOCOL://HOST:PORT, with the path for http and https."""
    t = record.get("target", {})
    return run_lab.target_key(t) + (t.get("path", "/") if t.get("protocol") in ("http", "https") else "")


def by_target(records):
    return {record_key(r): r for r in records}


def http_obs(records, key):
    r = by_target(records).get(key)
    return (r or {}).get("observations", {}).get("http", []) if r else None


def header(obs, name):
    return [v for n, v in obs.get("headers", []) if n.lower() == name.lower()]


def echo_checks(records):
    """Failures if the echo server did not echo (then the leak search would prove nothing)."""
    fails = []
    for key in (f"https://{ECHO}:443/", f"http://{ECHO}:80/"):
        obs = [h for h in (http_obs(records, key) or []) if h.get("status") == 200]
        if not obs:
            fails.append(f"{key}: no HTTP 200 from the echo server")
            continue
        h = obs[0]
        if SCRUBBED not in h.get("title", ""):
            fails.append(f"{key}: title {h.get('title')!r} does not hold {SCRUBBED}")
        if h.get("body_excerpt", "").count(SCRUBBED) < 5:  # IP, dashed, reversed, forwarded + title
            fails.append(f"{key}: body excerpt holds {h.get('body_excerpt', '').count(SCRUBBED)} of 5 echoes")
        if header(h, "X-Client-Ip") != [SCRUBBED]:
            fails.append(f"{key}: X-Client-Ip {header(h, 'X-Client-Ip')}")
        if not any(f"ip-{SCRUBBED}" in v for v in header(h, "Set-Cookie")):
            fails.append(f"{key}: Set-Cookie {header(h, 'Set-Cookie')} lacks the dashed echo")
    redirect = [h for h in (http_obs(records, f"http://{ECHO}:80/redirect") or []) if h.get("status") == 302]
    if not redirect or header(redirect[0], "Location") != [f"http://{SCRUBBED}/you-are-here"]:
        fails.append(f"redirect: no 302 with a scrubbed Location ({redirect[:1]})")
    cut = [h for h in (http_obs(records, f"https://{ECHO}:443/cut") or []) if h.get("status") == 200]
    if not cut or not cut[0]["title"].endswith(SCRUBBED) or not cut[0]["body_excerpt"].endswith(SCRUBBED):
        fails.append("cut: the address cut at the title/excerpt bound is not scrubbed "
                     f"({[(h.get('title', '')[-20:], h.get('body_excerpt', '')[-20:]) for h in cut]})")
    self_record = by_target(records).get(f"tls://{SELF}:443")
    answers = [a.get("value") for d in (self_record or {}).get("observations", {}).get("dns", [])
               for a in d.get("answers", [])]
    if SCRUBBED not in answers:
        fails.append(f"{SELF}: the resolver's answer with the client's address is not in the record ({answers})")
    if not any(r.get("control", {}).get("requested") and r["control"].get("failure") is None for r in records):
        fails.append("the control vantage answered for no target")
    if not any(r.get("context", {}).get("capture_enabled") for r in records):
        fails.append("packet capture was not on")
    return fails


# ------------------------------------------------------------------- run

def answer_self_with(lab, ip):
    """The lab resolver's override (tests/lab/tools/labdns.py): SELF -> the client's own address."""
    path = os.path.join(lab.state, "dns-overrides.json")
    with open(path) as f:
        rules = json.load(f)
    rules[SELF] = {"answer": str(ip)}
    with open(path + ".tmp", "w") as f:
        json.dump(rules, f)
    os.replace(path + ".tmp", path)


def run_probe(args, lab, control, workdir, name):
    out_dir = os.path.join(workdir, name)
    os.makedirs(out_dir)
    cmd = ["ip", "netns", "exec", f"{lab.prefix}-client", args.meoktong, "run", "--list", run_lab.LAB_LIST,
           "--resolver", run_lab.LAB_RESOLVER, "--ca-file", os.path.join(lab.state, "lab-ca.pem"),
           "--app-roots", os.path.join(lab.state, "app-roots"),
           "--routable", run_lab.ROUTABLE, "--timeout-ms", str(args.timeout_ms), "--capture", args.capture,
           "--vantage", "lab-client", "--out", os.path.join(out_dir, "report.jsonl"), "--format", "json",
           "--control", control[0], "--control-token", control[1]]
    for t in ECHO_TARGETS:
        cmd += ["--target", t]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    with open(os.path.join(out_dir, "report.jsonl")) as f:
        records = [json.loads(line) for line in f if line.strip()]
    written = {}
    for root, _, files in os.walk(out_dir):
        for fn in files:
            with open(os.path.join(root, fn), errors="replace") as f:
                written[os.path.relpath(os.path.join(root, fn), out_dir)] = f.read()
    return p, records, written


def check_run(args, lab, control, workdir, name, addresses):
    """Failures of one probe run (name: the scenario, or 'baseline' for none)."""
    p, records, written = run_probe(args, lab, control, workdir, name)
    fails = []
    if p.returncode != 0:
        fails.append(f"meoktong run exited {p.returncode}: {p.stderr.strip()[-1500:]}")
    for where, text in [("stdout", p.stdout), ("stderr", p.stderr)] + sorted(written.items()):
        fails += [f"{where}: {leak}" for leak in find_leaks(text, addresses)]
    if not records:
        fails.append("the report holds no record")
    if name == "baseline":
        fails += echo_checks(records)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        with open(os.path.join(args.keep, f"{name}.jsonl"), "w") as f:
            f.write(written.get("report.jsonl", ""))
    return fails, len(records)


def process_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie this box's init may never reap
    except (FileNotFoundError, IndexError):
        return True


def stop_control(lab):
    """Failures if the control server (the same binary) reports a sanitizer error when it stops."""
    pid = int(lab.read("control.pid", "0") or 0)
    if pid <= 0:
        return ["the control server's pid is unknown"]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    log = lab.read("control.log", "")
    if not process_gone(pid):
        return ["the control server did not stop within 30 s of SIGTERM"]
    if "Sanitizer" in log:
        return ["the control server's sanitizer report: " + log[-1500:]]
    return []


def main():
    p = argparse.ArgumentParser(description="meoktong lab privacy test (the probe's address never in a report)")
    p.add_argument("--meoktong", default=os.path.join(run_lab.ROOT, "build", "meoktong"))
    p.add_argument("--delayq", default=os.path.join(run_lab.ROOT, "build", "tests", "lab", "delayq"))
    p.add_argument("--prefix", default="mtp", help="namespace prefix (default mtp: apart from lab's mtt)")
    p.add_argument("--timeout-ms", type=int, default=4000)
    p.add_argument("--capture", default="auto", help="--capture for meoktong run")
    p.add_argument("--scenario", action="append",
                   help="also run under this scenario (repeatable; default: dns_injection, tcp_reset)")
    p.add_argument("--keep", help="copy the reports to this directory")
    args = p.parse_args()
    args.meoktong = os.path.abspath(args.meoktong)
    scenarios = args.scenario if args.scenario is not None else ["dns_injection", "tcp_reset"]

    if os.geteuid() != 0:
        print("lab_privacy: skipped: needs root (network namespaces); CI runs it as root", file=sys.stderr)
        return run_lab.SKIP
    if subprocess.run([args.meoktong, "control", "serve", "--help"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode:
        print(f"lab_privacy: {args.meoktong} has no working 'control serve'", file=sys.stderr)
        return 1
    for n in scenarios:
        run_lab.labscen.load(n)

    lab = run_lab.Lab(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # ctest timeout: still tear down
    lab.run("down", check=False)
    t_start = time.monotonic()
    failures = {}
    with tempfile.TemporaryDirectory(prefix="meoktong-privacy-") as workdir:
        try:
            lab.run("up")
            control = (lab.read("control.url"), lab.read("control.token"))
            if not control[0]:
                raise RuntimeError("the lab has no control vantage")
            addresses = client_addresses(lab.prefix)
            print(f"lab_privacy: up in {time.monotonic() - t_start:.1f}s; client addresses: "
                  f"{', '.join(map(str, addresses))}", flush=True)
            for name in ["baseline"] + scenarios:
                t0 = time.monotonic()
                if name != "baseline":
                    lab.run("scenario", name, "on")
                answer_self_with(lab, addresses[0])
                try:
                    failures[name], n = check_run(args, lab, control, workdir, name, addresses)
                finally:
                    if name != "baseline":
                        lab.run("scenario", name, "off")
                print(f"lab_privacy: {name}: {n} records, {'PASS' if not failures[name] else 'FAIL'} "
                      f"({time.monotonic() - t0:.1f}s)", flush=True)
                for f in failures[name][:25]:
                    print(f"    {f}")
                if len(failures[name]) > 25:
                    print(f"    ... and {len(failures[name]) - 25} more")
            failures["control_stop"] = stop_control(lab)
            for f in failures["control_stop"]:
                print(f"lab_privacy: {f}")
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
            failures["lab"] = [str(e)]
            print(f"lab_privacy: {e}", file=sys.stderr)
        finally:
            lab.run("down", check=False)
    failed = sum(bool(f) for f in failures.values())
    print(f"lab_privacy: run time {time.monotonic() - t_start:.1f}s; {len(failures) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
