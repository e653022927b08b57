#!/usr/bin/env bash
# The Debian package's life on this machine (as root; CI is a fresh Debian 12):
# dpkg -i, meoktong --version, a run as the meoktong user against a server on
# loopback, an upgrade to a higher version that keeps an edited conffile,
# dpkg -r (the config stays), dpkg -P (it goes), and nothing left behind: the
# paths under /etc /usr /lib /var are those from before. The meoktong user stays
# on purge, as Debian policy advises; the test deletes it only if it made it.
#   tests/package/test-install.sh FIRST.deb SECOND.deb     (SECOND: a higher version)
set -euo pipefail
(($# == 2)) || { echo "usage: tests/package/test-install.sh FIRST.deb SECOND.deb" >&2; exit 2; }
first=$(realpath "$1") second=$(realpath "$2")
[[ $EUID -eq 0 ]] || { echo "test-install: needs root (dpkg -i on this machine)" >&2; exit 2; }
dpkg-query -W -f='${Status}' meoktong 2>/dev/null | grep -q "installed" &&
  { echo "test-install: meoktong is already installed here; not touching it" >&2; exit 2; }
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
step() { echo "-- $*"; }

paths() {  # every path a package could leave, but dpkg's and the logs' own bookkeeping
  find /etc /usr /lib /var -xdev \
    -not -path '/var/lib/dpkg/*' -not -path '/var/log/*' -not -path '/var/cache/*' -not -path '/var/tmp/*' \
    -not -path '/etc/ld.so.cache' -not -regex '/etc/\(passwd\|group\|shadow\|gshadow\|subuid\|subgid\)-' \
    2>/dev/null | sort
}
user_existed=0; id meoktong >/dev/null 2>&1 && user_existed=1
before=$(mktemp) after=$(mktemp) scratch=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
  dpkg -P meoktong >/dev/null 2>&1 || true
  if [[ $user_existed == 0 ]] && id meoktong >/dev/null 2>&1; then
    deluser --quiet --system meoktong >/dev/null 2>&1 || userdel meoktong 2>/dev/null || true
    getent group meoktong >/dev/null && { delgroup --quiet --system meoktong >/dev/null 2>&1 || groupdel meoktong; }
  fi
  rm -rf "$before" "$after" "$scratch"
}
trap cleanup EXIT
paths >"$before"

step "dpkg -i $(basename "$first")"
dpkg -i "$first" </dev/null >/dev/null
version1=$(dpkg-query -W -f='${Version}' meoktong)
/usr/bin/meoktong --version | grep -qx "meoktong ${version1%%+*}" || fail "--version: $(/usr/bin/meoktong --version)"
id meoktong >/dev/null || fail "no meoktong user"
[[ $(stat -c '%U:%G %a' /var/lib/meoktong/reports) == "meoktong:meoktong 750" ]] || fail "state directory"
[[ $(stat -c '%U:%G %a' /etc/meoktong/config.json) == "root:meoktong 640" ]] || fail "config mode"
dpkg-query -W -f='${Conffiles}\n' meoktong | grep -q ' /etc/meoktong/config.json ' || fail "config is not a conffile"
unit=/lib/systemd/system/meoktong.service
grep -qx 'AmbientCapabilities=CAP_NET_RAW' $unit && grep -qx 'User=meoktong' $unit || fail "service unit"
[[ -f /lib/systemd/system/meoktong.timer ]] || fail "no timer unit"
python3 -c 'import os,sys; sys.exit(0 if "security.capability" not in os.listxattr("/usr/bin/meoktong") else 1)' ||
  fail "the binary has file capabilities (only the service may have CAP_NET_RAW)"
for page in meoktong meoktong-run meoktong-analyze meoktong-lists; do
  [[ -f /usr/share/man/man1/$page.1.gz ]] || fail "no man page $page(1)"
done
[[ -f /usr/share/doc/meoktong/examples/meoktong.cron ]] || fail "no cron example"
/usr/bin/meoktong lists | grep -q '^messengers' || fail "the built-in lists are not found under /usr/share/meoktong"

step "meoktong run as the meoktong user against a server on loopback"
python3 -u -m http.server --bind 127.0.0.1 0 --directory "$scratch" >"$scratch/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$scratch/server.log" | head -1)
  [[ -n "$port" ]] && break
  sleep 0.1
done
[[ -n "$port" ]] || fail "the loopback server did not start"
runuser -u meoktong -- /usr/bin/meoktong run --target "http://127.0.0.1:$port/" --out /var/lib/meoktong/reports \
  --vantage package-test --timeout-ms 3000 --format json >/dev/null || fail "meoktong run exited $?"
report=$(ls /var/lib/meoktong/reports/*.jsonl | head -1)
python3 - "$report" "$version1" <<'PY' || fail "the report"
import json, sys
rec = json.loads(open(sys.argv[1]).readline())
assert rec["software"]["version"] == sys.argv[2].split("+")[0], rec["software"]
assert rec["software"]["commit"] and rec["software"]["build_date"], rec["software"]
assert rec["observations"]["http"] and rec["observations"]["http"][0]["failure"] is None, rec["observations"]["http"]
PY
kill "$server_pid"; server_pid=""

step "upgrade to $(basename "$second") keeps the edited config"
sed -i 's/"label": "probe-1"/"label": "edited-by-operator"/' /etc/meoktong/config.json
grep -q edited-by-operator /etc/meoktong/config.json || fail "could not edit the config"
dpkg -i "$second" </dev/null >/dev/null
version2=$(dpkg-query -W -f='${Version}' meoktong)
dpkg --compare-versions "$version2" gt "$version1" || fail "not upgraded: $version1 -> $version2"
grep -q edited-by-operator /etc/meoktong/config.json || fail "the upgrade overwrote the edited config"
[[ -f $report ]] || fail "the upgrade lost the reports"

step "dpkg -r keeps the config and the reports"
dpkg -r meoktong >/dev/null
[[ ! -e /usr/bin/meoktong && ! -e /usr/share/meoktong ]] || fail "dpkg -r left the binary or the lists"
grep -q edited-by-operator /etc/meoktong/config.json || fail "dpkg -r removed the config"
[[ -f $report ]] || fail "dpkg -r removed the reports"

step "dpkg -P leaves nothing behind"
dpkg -P meoktong >/dev/null
[[ ! -e /etc/meoktong && ! -e /var/lib/meoktong ]] || fail "dpkg -P left /etc/meoktong or /var/lib/meoktong"
id meoktong >/dev/null || fail "purge deleted the system user (Debian policy keeps it)"
paths >"$after"
left=$(comm -13 "$before" "$after")
[[ -z "$left" ]] || fail "left behind after purge: $left"
echo "test-install: ok ($version1 -> $version2: install, run, upgrade with an edited conffile, remove, purge)"
