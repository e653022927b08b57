#!/usr/bin/env bash
# The lab's showcase as a test: `scripts/lab demo` must bring the lab up, run
# every scenario, print its table (one row per scenario, no traceback) and
# tear down with the host network untouched (its exit status). Needs root;
# exits 77 (skipped) otherwise. Usage: check-demo.sh MEOKTONG_BINARY DELAYQ
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ $EUID -eq 0 ]] || { echo "lab_demo: skipped: needs root" >&2; exit 77; }
out=$(MEOKTONG_BIN="$1" MEOKTONG_DELAYQ="$2" "$root/scripts/lab" demo 2>&1)
status=$?
echo "$out"
[[ $status -eq 0 ]] || { echo "lab_demo: scripts/lab demo exited $status" >&2; exit 1; }
grep -q 'Traceback' <<<"$out" && { echo "lab_demo: the demo crashed" >&2; exit 1; }
grep -q '^scenario  *target  *expected  *meoktong concluded' <<<"$out" || { echo "lab_demo: no table header" >&2; exit 1; }
scenarios=$(ls "$root"/tests/lab/scenarios/*.json | wc -l)
grep -q "^lab demo: $scenarios scenarios in" <<<"$out" || { echo "lab_demo: not every scenario ran" >&2; exit 1; }
