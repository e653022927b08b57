#!/usr/bin/python3
# The lab integration test (ctest `lab`) and `scripts/lab demo`: brings the lab
# up, and for every scenario (tests/lab/scenarios/*.json) switches it on, runs
# `meoktong run` in the client namespace (with the control vantage when the
# binary has `control serve`), checks the records against the scenario's
# observation-level facts and, when the verdict engine is present, its expected
# verdicts; then tears the lab down, always. Also checks that the host's own
# network (links, routes, firewall) is the same before and after.
# Stdlib only; runs under /usr/bin/python3 as root.
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "tools"))
import labscen  # noqa: E402

LAB = os.path.join(ROOT, "scripts", "lab")
LAB_LIST = os.path.join(HERE, "lab-list.json")
LAB_RESOLVER = "10.77.4.2"
ROUTABLE = "10.77.0.0/16"
OBSERVATION_KINDS = ("dns", "tcp", "tls", "http", "app", "packets")
# What an untouched target must show, by protocol (the "others" default).
ACCESSIBLE_FACTS = {
    "tls": ["any tls[purpose=target].certificate_valid == true"],
    "https": ["any tls[purpose=target].certificate_valid == true", "any http.status == 200"],
    "http": ["any http.status == 200", "none http.title == warning.or.kr"],
    "tcp": ["any tcp.failure == null"],
    "dns": ["any dns[query_type=A].failure == null"],
    "mtproto": ["any app[transport=intermediate].genuine == true"],
    "stun": ["any app.genuine == true"],
    "loco": ["any tls[purpose=target].certificate_valid == true", "any app.genuine == true"],
    "whatsapp": ["any app.genuine == true"],
    "signal": ["any tls[purpose=target].certificate_valid == true", "any app.genuine == true"],
}
FACT = re.compile(r"^(any|all|none|count)\s+(\S+)\s+(==|!=|>=|<=|>|<|contains)\s+(.+)$")
SKIP = 77  # ctest SKIP_RETURN_CODE: not root, the lab cannot run here
SEGMENT = re.compile(r"([a-z_]+)(?:\[([^\]]*)\])?(?:\.|$)")


# ------------------------------------------------------------------- facts

def parse_value(text):
    text = text.strip()
    if text in ("null", "true", "false"):
        return {"null": None, "true": True, "false": False}[text]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_path(path):
    segments, pos = [], 0
    for m in SEGMENT.finditer(path):
        if m.start() != pos:
            break
        filters = []
        for cond in filter(None, (m.group(2) or "").split(",")):
            key, _, value = cond.partition("=")
            filters.append((key.strip(), parse_value(value)))
        segments.append((m.group(1), filters))
        pos = m.end()
    if pos != len(path) or not segments:
        raise ValueError(f"bad path '{path}'")
    names = [s[0] for s in segments]
    if names[0] in OBSERVATION_KINDS:
        segments.insert(0, ("observations", []))
    elif names[0] == "control" and len(names) > 1 and names[1] in OBSERVATION_KINDS:
        segments.insert(1, ("observations", []))
    return segments


def resolve(record, segments):
    """Every value the path reaches; lists along the way are flattened and filtered."""
    nodes = [record]
    for name, filters in segments:
        found = []
        for node in nodes:
            if not isinstance(node, dict) or name not in node:
                continue
            value = node[name]
            items = value if isinstance(value, list) else [value]
            if filters:
                items = [i for i in items if isinstance(i, dict) and all(i.get(k) == v for k, v in filters)]
            found.extend(items)
        nodes = found
    return nodes


def compare(actual, op, expected):
    if op == "contains":
        return actual is not None and str(expected) in str(actual)
    if op in ("==", "!="):
        same = actual == expected
        if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
            same = float(actual) == float(expected)
        return same if op == "==" else not same
    if not isinstance(actual, (int, float)) or isinstance(actual, bool) or not isinstance(expected, (int, float)):
        return False
    return {">=": actual >= expected, "<=": actual <= expected, ">": actual > expected, "<": actual < expected}[op]


def check_fact(record, fact):
    """(ok, detail) for one fact such as 'any tls[purpose=target].failure == connection_reset'."""
    m = FACT.match(fact)
    if not m:
        raise ValueError(f"bad fact '{fact}'")
    quantifier, path, op, expected = m.group(1), m.group(2), m.group(3), parse_value(m.group(4))
    values = resolve(record, parse_path(path))
    if quantifier == "count":
        ok = compare(len(values), op, expected)
    else:
        hits = [compare(v, op, expected) for v in values]
        ok = {"any": any(hits), "all": bool(hits) and all(hits), "none": not any(hits)}[quantifier]
    shown = json.dumps(values if quantifier != "count" else len(values))
    return ok, f"{fact}  (saw {shown[:200]})"


def add_computed_fields(record):
    """distinct_answer_sets on DNS observations: how many different answers one query got."""
    for obs in (record.get("observations", {}), record.get("control", {}).get("observations", {})):
        for dns in obs.get("dns", []) or []:
            sets = {tuple(sorted(a.get("value", "") for a in r.get("answers", [])))
                    for r in dns.get("responses", []) or [] if r.get("answers")}
            dns["distinct_answer_sets"] = len(sets)


# --------------------------------------------------------------- scenarios

def target_key(target):
    return f"{target.get('protocol')}://{target.get('host')}:{target.get('port')}"


def expectation_for(scenario, key, protocol):
    if key in scenario["expect"]:
        return scenario["expect"][key]
    if "others" in scenario:
        return scenario["others"]
    return {"status": "accessible", "method": None, "facts": ACCESSIBLE_FACTS.get(protocol, [])}


class ScenarioResult:
    # Without a control vantage the probe may only decide what its own evidence proves (issue 4):
    # the expected verdict or "inconclusive", never another one (no false blocked/provider_down).
    without_control = False

    def __init__(self, name, scenario):
        self.name, self.scenario = name, scenario
        self.fact_failures, self.facts_checked, self.facts_skipped = [], 0, 0
        self.verdict_facts = []
        # (key, expected (status, method), actual (status, method), also acceptable without a control,
        #  proven without a control: the expected verdict is required even then)
        self.verdicts = []
        self.verdict_fact_failures = []  # failed facts on verdict.* (checked with the verdicts)
        self.errors = []            # the scenario could not be run at all
        self.seconds = 0.0

    def verdict_failures(self):
        def ok(expected, actual, also, proven_without_control, also_with_control):
            if actual == expected or fmt_verdict(actual) in also_with_control:
                return True
            if proven_without_control:  # the probe's own evidence must decide it (issue 5)
                return False
            return self.without_control and (actual[0] == "inconclusive" or fmt_verdict(actual) in also)
        return [v[:3] for v in self.verdicts if not ok(*v[1:])]

    def verdict_checks(self):
        return len(self.verdicts) + len(self.verdict_facts)


def evaluate(result, records, hosts, control_on):
    scenario = result.scenario
    by_key = {}
    for r in records:
        add_computed_fields(r)
        by_key[target_key(r.get("target", {}))] = r
    for key in scenario["expect"]:
        if key not in by_key:
            result.fact_failures.append(f"{key}: no record for this target")
    for key, record in sorted(by_key.items()):
        exp = expectation_for(scenario, key, record.get("target", {}).get("protocol"))
        # control_facts hold only with a control, like facts on control.* (a retest follows a verdict
        # that needed the control)
        for fact in exp["facts"] + exp.get("control_facts", []):
            path = fact.split()[1]
            if (path.startswith("control.") or fact in exp.get("control_facts", [])) and not control_on:
                result.facts_skipped += 1
                continue
            ok, detail = check_fact(record, labscen.substitute(fact, hosts))
            if path.startswith("verdict."):  # judged with the verdicts, when the engine is present
                result.verdict_facts.append(fact)
                if not ok:
                    result.verdict_fact_failures.append(f"{key}: {detail}")
                continue
            result.facts_checked += 1
            if not ok:
                result.fact_failures.append(f"{key}: {detail}")
        verdict = record.get("verdict", {})
        result.verdicts.append((key, (exp["status"], exp.get("method")),
                                (verdict.get("status"), verdict.get("method")), exp.get("without_control", []),
                                exp.get("proven_without_control", False), exp.get("also", [])))


# -------------------------------------------------------------------- lab

class Lab:
    def __init__(self, args):
        self.prefix = args.prefix
        self.env = dict(os.environ, MEOKTONG_LAB_PREFIX=args.prefix, MEOKTONG_BIN=args.meoktong,
                        MEOKTONG_DELAYQ=args.delayq or "/nonexistent", MEOKTONG_LAB_TIMEOUT_MS=str(args.timeout_ms))
        self.state = f"/run/meoktong-lab-{args.prefix}"

    def run(self, *words, check=True):
        p = subprocess.run([LAB, *words], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check and p.returncode != 0:
            raise RuntimeError(f"scripts/lab {' '.join(words)} failed ({p.returncode}): {p.stdout.strip()[-800:]}")
        return p.stdout

    def read(self, name, default=None):
        try:
            with open(os.path.join(self.state, name)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return default


def host_network_snapshot():
    """The root namespace's links, addresses, routes, rules and firewall, to prove the lab left them alone."""
    parts = []
    for cmd in (["ip", "-o", "link"], ["ip", "-o", "addr"], ["ip", "route"], ["ip", "rule"], ["iptables-save"],
                ["nft", "list", "ruleset"], ["ls", "/etc/netns"]):
        try:
            out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
        except FileNotFoundError:
            out = "(missing)"
        out = re.sub(r"\[\d+:\d+\]", "", out)            # iptables-save counters
        out = "\n".join(l for l in out.splitlines() if not l.startswith("#"))
        out = re.sub(r" (state|qlen|link/ether) \S+", "", out)
        parts.append(f"$ {' '.join(cmd)}\n{out}")
    return parts


def doh_options(lab, scenario):
    """--doh with the lab's DNS-over-HTTPS resolver for a scenario that asks for it ("doh": true)."""
    if not scenario.get("doh"):
        return []
    url = lab.read("doh.url")
    if not url:
        raise RuntimeError("the lab has no DoH resolver (unbound missing: scripts/setup --test installs it)")
    return ["--doh", url]


def run_probe(args, lab, control, out_path, extra=()):
    cmd = ["ip", "netns", "exec", f"{lab.prefix}-client", args.meoktong, "run", "--list", LAB_LIST,
           "--resolver", LAB_RESOLVER, "--ca-file", os.path.join(lab.state, "lab-ca.pem"),
           "--app-roots", os.path.join(lab.state, "app-roots"),
           "--routable", ROUTABLE, "--timeout-ms", str(args.timeout_ms), "--capture", args.capture,
           "--vantage", "lab-client", "--out", out_path, "--format", "json", *extra]
    if control:
        cmd += ["--control", control[0], "--control-token", control[1]]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"meoktong run exited {p.returncode}: {p.stderr.strip()[-600:]}")
    with open(out_path) as f:
        return [json.loads(line) for line in f if line.strip()]


def run_scenario(args, lab, name, hosts, control, workdir):
    result = ScenarioResult(name, labscen.load(name))
    t0 = time.monotonic()
    try:
        lab.run("scenario", name, "on")
        records = run_probe(args, lab, control, os.path.join(workdir, f"{name}.jsonl"),
                            doh_options(lab, result.scenario))
        evaluate(result, records, hosts, control is not None)
    except (RuntimeError, ValueError, subprocess.TimeoutExpired, OSError) as e:
        result.errors.append(str(e))
    finally:
        try:
            lab.run("scenario", name, "off")
        except RuntimeError as e:
            result.errors.append(str(e))
    result.seconds = time.monotonic() - t0
    return result


def engine_present(results, mode):
    if mode in ("on", "off"):
        return mode == "on", f"MEOKTONG_LAB_VERDICTS={mode}"
    decided = [v[2] for r in results for v in r.verdicts if v[2][0] not in (None, "inconclusive")]
    if decided:
        return True, "auto: the probe reached verdicts"
    return False, "auto: every verdict is 'inconclusive' (no verdict engine yet)"


# ----------------------------------------------------------------- output

def fmt_verdict(v):
    return f"{v[0]}/{v[1]}" if v[1] else str(v[0])


def print_results(results, check_verdicts):
    print(f"\n{'scenario':20} {'kind':11} {'facts':>9} {'verdicts':>9} {'time':>6}  result")
    passed = failed = 0
    for r in results:
        bad_verdicts = r.verdict_failures() if check_verdicts else []
        bad_verdict_facts = r.verdict_fact_failures if check_verdicts else []
        ok = not r.errors and not r.fact_failures and not bad_verdicts and not bad_verdict_facts
        passed, failed = passed + ok, failed + (not ok)
        facts = f"{r.facts_checked - len(r.fact_failures)}/{r.facts_checked}"
        n_bad = len(bad_verdicts) + len(bad_verdict_facts)
        verdicts = f"{r.verdict_checks() - n_bad}/{r.verdict_checks()}" if check_verdicts else "-"
        print(f"{r.name:20} {r.scenario['kind']:11} {facts:>9} {verdicts:>9} {r.seconds:5.1f}s  {'PASS' if ok else 'FAIL'}")
        for e in r.errors:
            print(f"    error: {e}")
        for f in r.fact_failures:
            print(f"    fact failed: {f}")
        for key, exp, act in bad_verdicts:
            print(f"    verdict: {key}: expected {fmt_verdict(exp)}, got {fmt_verdict(act)}")
        for f in bad_verdict_facts:
            print(f"    verdict fact failed: {f}")
    return passed, failed


def print_demo(results):
    print(f"\n{'scenario':18} {'target':30} {'expected':30} meoktong concluded")
    for r in results:
        if r.errors:
            print(f"{r.name:18} {'(could not run: ' + r.errors[0][:80] + ')'}")
        named = [v for v in r.verdicts if v[0] in r.scenario["expect"]]
        if not named and r.verdicts:  # baseline, local failure: one line for every target
            concluded = sorted({fmt_verdict(v[2]) for v in r.verdicts})
            exp = sorted({fmt_verdict(v[1]) for v in r.verdicts})
            mark = "" if concluded == exp else "   <- differs"
            print(f"{r.name:18} {f'(all {len(r.verdicts)} targets)':30} {', '.join(exp):30} {', '.join(concluded)}{mark}")
        for i, (key, exp, act, *_) in enumerate(named):
            mark = "" if exp == act else "   <- differs"
            print(f"{r.name if i == 0 else '':18} {key:30} {fmt_verdict(exp):30} {fmt_verdict(act)}{mark}")
        if r.fact_failures:
            print(f"{'':18} ({len(r.fact_failures)} observation facts failed; see the lab test)")


# ------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description="meoktong censorship lab test")
    p.add_argument("--meoktong", default=os.path.join(ROOT, "build", "meoktong"))
    p.add_argument("--delayq", default=os.path.join(ROOT, "build", "tests", "lab", "delayq"))
    p.add_argument("--scenario", action="append", help="only this scenario (repeatable)")
    p.add_argument("--prefix", help="namespace prefix (default: mtt for tests, mtd for the demo)")
    p.add_argument("--timeout-ms", type=int, default=4000)
    p.add_argument("--capture", default="auto", help="--capture for meoktong run")
    p.add_argument("--no-control", action="store_true", help="run without the control vantage")
    p.add_argument("--verdicts", choices=("auto", "on", "off"),
                   default=os.environ.get("MEOKTONG_LAB_VERDICTS", "auto"),
                   help="check expected verdicts (auto: when the probe reaches any verdict)")
    p.add_argument("--keep", help="copy the reports to this directory")
    p.add_argument("--demo", action="store_true", help="a readable table for people; exit 0 unless the lab breaks")
    args = p.parse_args()
    args.prefix = args.prefix or ("mtd" if args.demo else "mtt")
    args.meoktong = os.path.abspath(args.meoktong)

    if os.geteuid() != 0:
        print("lab: skipped: needs root (network namespaces); CI runs it as root", file=sys.stderr)
        return SKIP
    if subprocess.run([args.meoktong, "run", "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        print(f"lab: {args.meoktong} has no working 'run' command", file=sys.stderr)
        return 1
    names = args.scenario or labscen.scenario_names()
    for n in names:
        labscen.load(n)  # a broken scenario file fails before anything is set up

    ScenarioResult.without_control = args.no_control
    lab = Lab(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # ctest timeout: still tear down
    before = host_network_snapshot()
    lab.run("down", check=False)  # leftovers of an interrupted earlier run with this prefix
    t_start = time.monotonic()
    results, timings, control = [], {}, None
    with tempfile.TemporaryDirectory(prefix="meoktong-lab-") as workdir:
        try:
            lab.run("up")
            timings["up"] = time.monotonic() - t_start
            with open(os.path.join(lab.state, "hosts.json")) as f:
                hosts = json.load(f)
            if lab.read("control.url") and not args.no_control:
                control = (lab.read("control.url"), lab.read("control.token"))
            print(f"lab: up in {timings['up']:.1f}s; RTT {lab.read('rtt_ms', '0')}ms; "
                  f"control: {control[0] if control else 'none'}", flush=True)
            t_scen = time.monotonic()
            for n in names:
                results.append(run_scenario(args, lab, n, hosts, control, workdir))
                r = results[-1]
                status = "ok" if not (r.errors or r.fact_failures) else "facts FAIL"
                print(f"lab: {n}: {status} ({r.seconds:.1f}s)", flush=True)
            timings["scenarios"] = time.monotonic() - t_scen
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                for f in os.listdir(workdir):
                    with open(os.path.join(workdir, f)) as src, open(os.path.join(args.keep, f), "w") as dst:
                        dst.write(src.read())
        except RuntimeError as e:
            print(f"lab: {e}", file=sys.stderr)
            results.append(ScenarioResult("lab_up", {"kind": "-", "expect": {}}))
            results[-1].errors.append(str(e))
        finally:
            t_down = time.monotonic()
            lab.run("down", check=False)
            timings["down"] = time.monotonic() - t_down
    total = time.monotonic() - t_start

    host_ok = host_network_snapshot() == before
    check_verdicts, why = engine_present(results, args.verdicts)
    if args.demo:
        print_demo(results)
        print(f"\nlab demo: {len(results)} scenarios in {total:.0f}s")
        return 0 if host_ok else 1
    print(f"lab: verdict checks {'ON' if check_verdicts else 'OFF'} ({why}); control vantage: {'on' if control else 'off'}"
          + (" (verdicts: the expected one or inconclusive)" if args.no_control else ""))
    passed, failed = print_results(results, check_verdicts)
    skipped = sum(r.facts_skipped for r in results)
    if skipped:
        print(f"({skipped} control facts not checked: no control vantage)")
    print(f"host network untouched: {'yes' if host_ok else 'NO'}")
    failed += not host_ok
    print(f"lab run time: {total:.1f}s (up {timings.get('up', 0):.1f}s, scenarios {timings.get('scenarios', 0):.1f}s, "
          f"down {timings.get('down', 0):.1f}s)")
    print(f"lab: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
