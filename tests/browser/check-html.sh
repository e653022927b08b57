#!/usr/bin/env bash
# Renders analyze's HTML for the SPEC §1 replays in headless chromium and
# checks: the page renders (DOM dump and screenshot), every incident headline
# from the JSON output is in the rendered text, one article per incident, one
# timeline chart per service with coloured cells, the appendix anchors the
# claims link to exist. Also: analyze's bad-input exits (2, one line).
#   check-html.sh MEOKTONG FIXTURE_DIR OUT_DIR
set -euo pipefail
meoktong=$1 fixtures=$2 out=$3
rm -rf "$out" && mkdir -p "$out"
chromium=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$chromium" ]] || { echo "browser_html: chromium not installed (scripts/setup --test)"; exit 1; }

inputs=("$fixtures"/china2014 "$fixtures"/kakao2022 "$fixtures"/kakao2024 "$fixtures"/kr-sni "$fixtures"/local)
"$meoktong" analyze "${inputs[@]}" --format json --out "$out/analysis.json"
"$meoktong" analyze "${inputs[@]}" --out "$out/analysis.html"

profile=$(mktemp -d); trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
       --disable-sync --no-first-run --user-data-dir="$profile")
timeout 120 "$chromium" "${flags[@]}" --dump-dom "file://$out/analysis.html" >"$out/dom.html" 2>"$out/chromium.log"
timeout 120 "$chromium" "${flags[@]}" --window-size=1200,2400 --screenshot="$out/analysis.png" \
  "file://$out/analysis.html" >>"$out/chromium.log" 2>&1

python3 - "$out" <<'PY'
import html.parser, json, struct, sys
out = sys.argv[1]
analysis = json.load(open(out + "/analysis.json"))
dom = open(out + "/dom.html", encoding="utf-8").read()

class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.ids, self.hrefs, self.rects, self.svgs, self.articles = [], set(), [], 0, 0, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a: self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"): self.hrefs.append(a["href"][1:])
        if tag == "rect" and a.get("fill") not in (None, "#eeeeee"): self.rects += 1
        if tag == "svg": self.svgs += 1
        if tag == "article": self.articles += 1
    def handle_data(self, data):
        self.text.append(data)

p = Text(); p.feed(dom)
text = " ".join("".join(p.text).split())
failures = []
def check(ok, what):
    if not ok: failures.append(what)

incidents = analysis["incidents"]
check(len(incidents) == 7, "expected 7 incidents from the five replays, got %d" % len(incidents))
check(p.articles == len(incidents), "one <article> per incident (%d vs %d)" % (p.articles, len(incidents)))
for inc in incidents:
    check(" ".join(inc["headline"].split()) in text, "headline missing from the rendered page: " + inc["headline"])
    check(" ".join(inc["summary"].split()) in text, "summary missing: " + inc["summary"][:80])
    check(inc["id"] in p.ids, "no anchor for " + inc["id"])
kinds = {(i["classification"], i["scope"]) for i in incidents}
for k in [("censorship", "national"), ("censorship", "isp"), ("provider_outage", "service"),
          ("provider_outage", "endpoint"), ("local", "vantage")]:
    check(k in kinds, "no %s/%s incident" % k)
check(p.svgs == len(analysis["services"]), "one chart per service (%d vs %d)" % (p.svgs, len(analysis["services"])))
check(p.rects > 100, "timeline charts have coloured cells (%d)" % p.rects)
check(p.hrefs and all(h in p.ids for h in p.hrefs), "every claim link points at an anchor on the page")
check(any(h.startswith("m-") for h in p.hrefs), "claims link to cited measurements")
png = open(out + "/analysis.png", "rb").read()
check(png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (1200, 2400), "screenshot is a 1200x2400 PNG")
check(len(png) > 50000, "screenshot is not blank (%d bytes)" % len(png))
if failures:
    print("browser_html: FAILED\n  " + "\n  ".join(failures)); sys.exit(1)
print("browser_html: ok, %d incidents rendered, %d timeline cells, screenshot %s/analysis.png" % (len(incidents), p.rects, out))
PY

# Bad input: one line on stderr, exit 2, no output file.
set +e
"$meoktong" analyze /nonexistent/reports.jsonl --out "$out/none.json" 2>"$out/err.txt"; rc=$?
set -e
[[ $rc == 2 && $(wc -l <"$out/err.txt") == 1 && ! -e "$out/none.json" ]] || { echo "browser_html: unreadable input should exit 2 with one line (rc=$rc)"; cat "$out/err.txt"; exit 1; }
set +e
"$meoktong" analyze "$fixtures/kr-sni" --format pdf 2>"$out/err.txt"; rc=$?
set -e
[[ $rc == 2 && $(wc -l <"$out/err.txt") == 1 ]] || { echo "browser_html: bad --format should exit 2 with one line (rc=$rc)"; exit 1; }
echo "browser_html: bad input exits 2 with one line"
