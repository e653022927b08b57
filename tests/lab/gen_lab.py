#!/usr/bin/python3
# The lab's scenario generator (scripts/lab fuzz, ctest lab_generated): brings
# the lab up, switches on each generated scenario (tests/lab/tools/labgen.py:
# stacked censorship and provider faults on random hosts, random loss and RTT),
# runs `meoktong run` with the control vantage and without it, and compares
# every target's verdict with the right answer the generator knows. Prints each
# scenario's misses and, per mode (with the control; with the control blocked by
# the censor, counted apart; without), a confusion matrix (right status x verdict
# status, and method family for the verdicts with the right status). Exits 1
# when a verdict lands on the wrong side: `blocked`, `provider_down` or
# `local_failure` where that is not the truth (a miss, `accessible` or
# `inconclusive` where something failed, is counted, not fatal), or when the
# share of right statuses is under --min-right.
# Stdlib only; runs under /usr/bin/python3 as root.
import argparse
import collections
import json
import os
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "tools"))
import labgen  # noqa: E402
import run_lab  # noqa: E402

TRUTHS = ("accessible", "blocked", "provider_down", "local_failure")
VERDICTS = TRUTHS + ("inconclusive",)
ACCUSING = {"blocked", "provider_down", "local_failure"}
BLOCKED_CONTROL = "control-blocked-by-censor"


class Tally:
    """One mode's counts: the status matrix, the method family matrix and the wrong-side cases."""

    def __init__(self, mode):
        self.mode = mode
        self.status = collections.Counter()   # (truth, verdict) -> targets
        self.family = collections.Counter()   # (truth family, verdict family), right status only
        self.wrong_side, self.missing = [], []

    def add(self, scenario, key, truth, verdict):
        (t_status, t_family), (v_status, v_method) = truth, verdict
        self.status[(t_status, v_status)] += 1
        if v_status == t_status and t_status in ("blocked", "provider_down"):
            self.family[(t_family, labgen.family(v_method))] += 1
        if v_status in ACCUSING and v_status != t_status:
            self.wrong_side.append((scenario, key, truth, verdict))

    def total(self):
        return sum(self.status.values())

    def right(self):
        return sum(n for (t, v), n in self.status.items() if t == v)


def fmt(status, method):
    return f"{status}/{method}" if method else str(status)


def evaluate(tally, sc, records):
    """Adds one probe run's verdicts; returns the lines naming its misses."""
    by_key = {run_lab.target_key(r.get("target", {})): r.get("verdict", {}) for r in records}
    misses = []
    for key, truth in sorted(sc["truth"].items()):
        if key not in by_key:
            tally.missing.append((sc["name"], key))
            misses.append(f"{key}: no record")
            continue
        verdict = (by_key[key].get("status"), by_key[key].get("method"))
        tally.add(sc["name"], key, truth, verdict)
        if verdict[0] != truth[0]:
            side = "WRONG SIDE" if verdict[0] in ACCUSING else "miss"
            misses.append(f"{key}: right {fmt(truth[0], truth[1] and truth[1] + '_*')}, got {fmt(*verdict)} ({side})")
    return misses


def print_matrix(tally):
    print(f"\n{tally.mode}: {tally.right()}/{tally.total()} targets with the right status "
          f"({100 * tally.right() / max(1, tally.total()):.1f} %), {len(tally.wrong_side)} on the wrong side")
    corner = "right \\ verdict"
    print(f"  {corner:16}" + "".join(f"{v:>14}" for v in VERDICTS))
    for t in TRUTHS:
        print(f"  {t:16}" + "".join(f"{tally.status[(t, v)]:>14}" for v in VERDICTS))
    if tally.family:
        right = sum(n for (t, v), n in tally.family.items() if t == v)
        print(f"  method family (verdicts with the right status): {right}/{sum(tally.family.values())} right")
        for (t, v), n in sorted(tally.family.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
            print(f"    {str(t):11} -> {str(v):11} {n:5}{'' if t == v else '   <- other family'}")
    for sc, key, truth, verdict in tally.wrong_side:
        print(f"  wrong side: {sc} {key}: right {truth[0]}, got {fmt(*verdict)}")


def main():
    p = argparse.ArgumentParser(description="meoktong lab: generated scenarios and their confusion matrix")
    p.add_argument("--meoktong", default=os.path.join(run_lab.ROOT, "build", "meoktong"))
    p.add_argument("--delayq", default=os.path.join(run_lab.ROOT, "build", "tests", "lab", "delayq"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--modes", default="control,no-control", help="control, no-control or both (comma-separated)")
    p.add_argument("--prefix", default="mtg", help="namespace prefix (default mtg)")
    p.add_argument("--timeout-ms", type=int, default=4000)
    p.add_argument("--capture", default="auto")
    p.add_argument("--min-right", type=float, default=0.0, help="fail when fewer statuses are right (0-1)")
    p.add_argument("--keep", help="copy the scenarios and reports to this directory")
    p.add_argument("--list", action="store_true", help="print the generated scenarios and exit (no lab)")
    args = p.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if not modes or any(m not in ("control", "no-control") for m in modes):
        print("lab fuzz: --modes takes control and/or no-control", file=sys.stderr)
        return 2
    if args.count < 1:
        print("lab fuzz: --count must be at least 1", file=sys.stderr)
        return 2
    scenarios = labgen.generate(args.seed, args.count)
    if args.list:
        for sc in scenarios:
            print(f"{sc['name']}: {labgen.describe(sc)}")
        return 0
    if os.geteuid() != 0:
        print("lab fuzz: skipped: needs root (network namespaces)", file=sys.stderr)
        return run_lab.SKIP
    args.meoktong = os.path.abspath(args.meoktong)

    workdir = tempfile.mkdtemp(prefix="meoktong-labgen-")
    for sc in scenarios:
        with open(os.path.join(workdir, sc["name"] + ".json"), "w") as f:
            json.dump(labgen.scenario_file(sc), f, indent=1)
    os.environ["MEOKTONG_LAB_SCENARIO_DIR"] = workdir
    lab = run_lab.Lab(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # ctest timeout: still tear down
    before = run_lab.host_network_snapshot()
    lab.run("down", check=False)
    # A scenario whose censor blocks the control vantage is, for the probe, a run without a
    # control: its "control" run is counted apart, so the goals with a control stay honest.
    tallies = {m: Tally(m) for m in modes}
    if "control" in modes:
        tallies[BLOCKED_CONTROL] = Tally(BLOCKED_CONTROL)
    errors, t_start = [], time.monotonic()
    try:
        lab.run("up")
        control = (lab.read("control.url"), lab.read("control.token")) if lab.read("control.url") else None
        if "control" in modes and not control:
            raise RuntimeError("this binary has no control server: run with --modes no-control")
        print(f"lab fuzz: seed {args.seed}, {len(scenarios)} scenarios, modes {', '.join(modes)}", flush=True)
        for sc in scenarios:
            t0 = time.monotonic()
            lines = []
            try:
                lab.run("scenario", sc["name"], "on")
                for mode in modes:
                    out = os.path.join(workdir, f"{sc['name']}.{mode}.jsonl")
                    records = run_lab.run_probe(args, lab, control if mode == "control" else None, out)
                    tally = tallies[BLOCKED_CONTROL if mode == "control" and sc["control_blocked"] else mode]
                    lines += [f"    {tally.mode}: {m}" for m in evaluate(tally, sc, records)]
            except (RuntimeError, OSError, ValueError) as e:
                errors.append(f"{sc['name']}: {e}")
                lines.append(f"    error: {e}")
            finally:
                lab.run("scenario", sc["name"], "off", check=False)
            print(f"{sc['name']} ({time.monotonic() - t0:4.1f}s) {labgen.describe(sc)}", flush=True)
            for line in lines:
                print(line, flush=True)
    except RuntimeError as e:
        errors.append(str(e))
    finally:
        lab.run("down", check=False)
        if args.keep:
            shutil.copytree(workdir, args.keep, dirs_exist_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
    host_ok = run_lab.host_network_snapshot() == before

    failed = bool(errors) or not host_ok
    for tally in tallies.values():
        if not tally.total():
            continue
        print_matrix(tally)
        right = tally.right() / max(1, tally.total())
        failed |= bool(tally.wrong_side) or bool(tally.missing) or right < args.min_right
    for e in errors:
        print(f"error: {e}")
    print(f"\nhost network untouched: {'yes' if host_ok else 'NO'}")
    print(f"lab fuzz: {len(scenarios)} scenarios in {time.monotonic() - t_start:.0f}s: {'FAIL' if failed else 'PASS'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
