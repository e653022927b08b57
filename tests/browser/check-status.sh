#!/usr/bin/env bash
# Renders the collector's status page (GET /) in headless chromium: a real
# `meoktong collector serve` on 127.0.0.1 with a SQLite store, fed the SPEC §1
# replays over POST /v1/reports with a probe token. Checks: every incident of
# GET /v1/incidents has its headline and a timeline bar (the page lists the
# last 7 days of measurements, so each replay is also viewed on its own with
# ?since=&until=); each bar ends where its incident does (its end, else its
# last failing measurement), never stretched to the end of the track, and the
# "Now" table calls a service blocked or down only while an incident failing
# within 6 hours of the view's newest measurement says so (an incident last
# measured before the view's span is neither a bar reaching the end of the
# track nor "now"); no console message (script error, CSP refusal); a viewport
# for phones; nothing wider than a 390 px phone; the screenshots are PNGs of
# the sizes asked for and not blank. Artefacts (screenshots, DOM dumps, the
# pages served, the measurements, chromium's and the collector's logs) in OUT_DIR.
#   check-status.sh MEOKTONG FIXTURE_DIR OUT_DIR
set -euo pipefail
meoktong=$1 fixtures=$2 out=$3
rm -rf "$out" && mkdir -p "$out/views"
chromium=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$chromium" ]] || { echo "browser_status: chromium not installed (scripts/setup --test)"; exit 1; }
python=/usr/bin/python3  # Debian's, with python3-pil for reading the screenshots
"$python" -c "import PIL" 2>/dev/null || { echo "browser_status: python3-pil not installed (scripts/setup --test)"; exit 1; }

work=$(mktemp -d)
collector_pid=
cleanup() {
  if [[ -n $collector_pid ]]; then kill "$collector_pid" 2>/dev/null || true; wait "$collector_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

token=$(openssl rand -hex 24)
(umask 077 && echo "browser-probe $token" >"$work/tokens")

# A free port (asked of the kernel, then given to the collector; tried again if
# someone took it meanwhile), then until GET /v1/health answers.
up=
for _ in 1 2 3; do
  port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  url=http://127.0.0.1:$port
  "$meoktong" collector serve --listen "127.0.0.1:$port" --tokens "$work/tokens" --store "sqlite:$work/store.db" \
    2>>"$out/collector.log" &
  collector_pid=$!
  for _ in $(seq 200); do
    if curl --noproxy '*' -fsS "$url/v1/health" >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$collector_pid" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n $up ]] && break
  kill "$collector_pid" 2>/dev/null || true; wait "$collector_pid" 2>/dev/null || true; collector_pid=
done
[[ -n $up ]] || { echo "browser_status: the collector did not come up"; cat "$out/collector.log"; exit 1; }

# Every report file as a probe uploads it (run --upload): one POST each, 201.
replays=(china2014 kakao2022 kakao2024 kr-sni local)
for replay in "${replays[@]}"; do
  for file in "$fixtures/$replay"/*.jsonl; do
    status=$(curl --noproxy '*' -sS -o "$work/answer" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
      -H "Idempotency-Key: $replay/$(basename "$file")" -H "Authorization: Bearer $token" \
      --data-binary "@$file" "$url/v1/reports")
    [[ $status == 201 ]] || { echo "browser_status: POST of $replay/$(basename "$file") got $status: $(cat "$work/answer")"; exit 1; }
  done
done

# The views: the page as everyone gets it, and each replay's period on its own.
curl --noproxy '*' -fsS "$url/" >"$out/views/all.html"
curl --noproxy '*' -fsS "$url/v1/incidents" >"$out/views/all.json"
for replay in "${replays[@]}"; do
  read -r since until < <("$python" - "$fixtures/$replay" <<'PY'
import datetime, glob, json, sys
times = [json.loads(line)["started_at"] for f in glob.glob(sys.argv[1] + "/*.jsonl") for line in open(f) if line.strip()]
parse = lambda t: datetime.datetime.strptime(t[:16], "%Y-%m-%dT%H:%M")
hour = datetime.timedelta(hours=1)
print((parse(min(times)) - hour).strftime("%Y-%m-%dT%H:%MZ"), (parse(max(times)) + hour).strftime("%Y-%m-%dT%H:%MZ"))
PY
)
  curl --noproxy '*' -fsS "$url/?since=$since&until=$until" >"$out/views/$replay.html"
  curl --noproxy '*' -fsS "$url/v1/incidents?since=$since&until=$until" >"$out/views/$replay.json"
done

profile=$work/profile
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
       --disable-sync --no-first-run --user-data-dir="$profile" --enable-logging=stderr --v=0)
render() {  # NAME WIDTH HEIGHT URL [FLAG...]: the DOM after load and a screenshot, chromium's log beside them
  local name=$1 size=$2,$3 target=$4; shift 4
  timeout 120 "$chromium" "${flags[@]}" "$@" --window-size="$size" --dump-dom "$target" >"$out/$name.dom.html" 2>"$out/$name.log"
  timeout 120 "$chromium" "${flags[@]}" "$@" --window-size="$size" --screenshot="$out/$name.png" "$target" >>"$out/$name.log" 2>&1
}
render desktop 1280 2400 "$url/"
render phone 390 844 "$url/"

# Measured in chromium's own layout: each view in an iframe of a phone's width
# (390 px, no scrollbar, as on a phone) and of a desktop's; the outer page
# writes what it measured into its DOM (the status page itself runs no script,
# its CSP forbids it). Chromium's window is never narrower than 500 px, the iframe is.
views=(all "${replays[@]}")
{
  echo '<!doctype html><html><head><meta charset="utf-8"><style>iframe{border:0;display:block}</style></head><body>'
  for view in "${views[@]}"; do
    echo "<iframe scrolling=\"no\" data-view=\"$view\" style=\"width:390px;height:844px\" src=\"views/$view.html\"></iframe>"
    echo "<iframe scrolling=\"no\" data-view=\"$view\" style=\"width:1280px;height:900px\" src=\"views/$view.html\"></iframe>"
  done
  cat <<'HTML'
<pre id="measured"></pre>
<script>
window.addEventListener("load", function () {
  var measured = [].map.call(document.querySelectorAll("iframe"), function (frame) {
    var w = frame.contentWindow, d = w.document, root = d.documentElement;
    var viewport = d.querySelector('meta[name="viewport"]');
    var box = function (e) { var r = e && e.getBoundingClientRect(); return r ? [r.left, r.right, r.height] : null; };
    return {
      view: frame.dataset.view, width: frame.clientWidth, innerWidth: w.innerWidth,
      clientWidth: root.clientWidth, scrollWidth: root.scrollWidth, height: root.scrollHeight,
      viewport: viewport ? viewport.content : null,
      articles: [].map.call(d.querySelectorAll("article"), function (a) {
        var h = a.querySelector("h3"), bar = a.querySelector(".track .bar");
        return {headline: h ? h.textContent : null, track: box(a.querySelector(".track")), bar: box(bar),
                colour: bar ? w.getComputedStyle(bar).backgroundColor : null};
      }),
      now: [].map.call(d.querySelectorAll("tr"), function (tr) {
        var td = tr.querySelectorAll("td"), state = tr.querySelector("td.state");
        return td.length < 3 ? null : {cc: td[0].textContent, service: td[1].textContent,
                                        state: state ? state.className : null, text: td[2].textContent};
      }).filter(function (row) { return row; }),
      wider: [].filter.call(d.querySelectorAll("body *"), function (e) {
        return e.getBoundingClientRect().right > root.clientWidth + 0.5;
      }).slice(0, 5).map(function (e) { return e.tagName.toLowerCase() + "." + e.className + " to " + Math.round(e.getBoundingClientRect().right) + " px"; })
    };
  });
  document.getElementById("measured").textContent = JSON.stringify(measured);
});
</script></body></html>
HTML
} >"$out/measure.html"
timeout 120 "$chromium" "${flags[@]}" --allow-file-access-from-files --window-size=1400,900 \
  --dump-dom "file://$out/measure.html" >"$out/measure.dom.html" 2>"$out/measure.log"

"$python" - "$out" "${views[@]}" <<'PY'
import datetime, html, html.parser, json, re, sys
from PIL import Image
out, views = sys.argv[1], sys.argv[2:]
failures = []
def check(ok, what):
    if not ok: failures.append(what)
norm = lambda s: " ".join((s or "").split())

class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags, self.meta = [], [], {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "meta" and "name" in a: self.meta[a["name"]] = a.get("content", "")
    def handle_data(self, data):
        if self.tags and self.tags[-1][0] != "style": self.text.append(data)
def dom(name):
    p = Dom(); p.feed(open(out + "/" + name, encoding="utf-8").read()); return p

found = re.search(r'<pre id="measured">(.*?)</pre>', open(out + "/measure.dom.html", encoding="utf-8").read(), re.S)
measured = json.loads(html.unescape(found.group(1)) if found and found.group(1) else "[]")
check(len(measured) == 2 * len(views), "chromium measured %d of %d views" % (len(measured), 2 * len(views)))
analyses = {v: json.load(open(out + "/views/" + v + ".json")) for v in views}
incidents = {v: analyses[v]["incidents"] for v in views}
seconds = lambda t: datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
def span_of(view):  # the page's timeline: the last 7 days of the view's measurements
    inputs = analyses[view]["inputs"]
    last = seconds(inputs["last_record_at"])
    return max(seconds(inputs["first_record_at"]), last - 7 * 86400), last
FRESH = 6 * 3600  # analyze's gap bound (max_gap_ms at 15-minute windows): "now" and ongoing within it

# Every incident of GET /v1/incidents is on a page: the replays' views together
# hold the same incidents, and each view shows each of its incidents with a bar.
everything = sorted(norm(i["headline"]) for i in incidents["all"])
together = sorted(norm(i["headline"]) for v in views[1:] for i in incidents[v])
check(everything == together, "the replays' views hold other incidents than GET /v1/incidents: %s vs %s" % (everything, together))
shown = 0
for m in measured:
    where = "%s at %d px" % (m["view"], m["width"])
    check(m["innerWidth"] == m["width"], "%s: the page's viewport is %d px wide" % (where, m["innerWidth"]))
    check(m["scrollWidth"] <= m["clientWidth"], "%s: the page is %d px wide, wider than its %d px (%s)"
          % (where, m["scrollWidth"], m["clientWidth"], "; ".join(m["wider"])))
    check("width=device-width" in (m["viewport"] or ""), "%s: no viewport for phones (%r)" % (where, m["viewport"]))
    arts = {norm(a["headline"]): a for a in m["articles"]}
    check(len(arts) == len(m["articles"]), "%s: two incidents with one headline" % where)
    for inc in incidents[m["view"]]:
        a = arts.get(norm(inc["headline"]))
        if m["view"] == "all" and a is None:
            continue  # the page lists the last 7 days; the replay's own view must show it
        check(a is not None, "%s: no incident headline %r" % (where, inc["headline"]))
        if a is None: continue
        shown += 1
        track, bar = a["track"], a["bar"]
        check(bar is not None and track is not None, "%s: no timeline bar for %r" % (where, inc["headline"]))
        if bar and track:
            check(bar[1] - bar[0] >= 1 and bar[2] >= 1, "%s: the bar of %r is %.1f x %.1f px" % (where, inc["headline"], bar[1] - bar[0], bar[2]))
            check(track[0] - 0.5 <= bar[0] and bar[1] <= track[1] + 0.5, "%s: the bar of %r leaves its track" % (where, inc["headline"]))
            check(a["colour"] not in (None, "rgba(0, 0, 0, 0)"), "%s: the bar of %r has no colour" % (where, inc["headline"]))
            # The bar's right end is the incident's end, else its last failing measurement (clamped to the track).
            begin, end = span_of(m["view"])
            last = seconds(inc["end"] or inc["last_failure_at"])
            x = track[0] + (track[1] - track[0]) * min(max((last - begin) / max(end - begin, 1), 0), 1)
            check(abs(bar[1] - x) <= 2 or bar[1] - bar[0] <= (track[1] - track[0]) * 0.005 + 1,
                  "%s: the bar of %r ends at %.1f px, its last measurement (%s) is at %.1f px"
                  % (where, inc["headline"], bar[1], inc["end"] or inc["last_failure_at"], x))
            check(last >= begin or bar[1] < track[1] - 1,
                  "%s: %r, last measured %s before the view's span, reaches the end of the track"
                  % (where, inc["headline"], inc["end"] or inc["last_failure_at"]))
    # "Now": blocked or down only while an incident of that service and country failed recently.
    check(len(m["now"]) >= 1, "%s: no row in the Now table" % where)
    newest = span_of(m["view"])[1]
    for row in m["now"]:
        kind = {"blocked": "censorship", "provider_down": "provider_outage"}.get((row["state"] or "").split()[-1])
        if kind is None: continue
        backing = [i for i in incidents[m["view"]] if i["classification"] == kind and i["ongoing"]
                   and norm(i["service_name"]) == norm(row["service"])
                   and (i["country"] == row["cc"] or row["cc"] in i["countries"])
                   and seconds(i["last_failure_at"]) >= newest - FRESH]
        check(backing, "%s: the Now table says %s %s in %s with no incident failing within 6 h of %s"
              % (where, row["service"], row["text"], row["cc"], analyses[m["view"]]["inputs"]["last_record_at"]))
    check(len(arts) == sum(1 for i in incidents[m["view"]] if norm(i["headline"]) in arts),
          "%s: an incident on the page that GET /v1/incidents does not have" % where)
check(len(incidents["all"]) >= 7, "expected the 7 incidents of the five replays at least, got %d" % len(incidents["all"]))

# The page as chromium got it from the collector.
for name, size in (("desktop", (1280, 2400)), ("phone", (390, 844))):
    d = dom(name + ".dom.html")
    text = norm("".join(d.text))
    check("width=device-width" in d.meta.get("viewport", ""), name + ": no viewport meta for phones")
    check(sum(1 for t, _ in d.tags if t == "article") >= 1 and sum(1 for t, a in d.tags if "bar" in a.get("class", "").split()) >= 1,
          name + ": no incident with its timeline bar")
    check(not any(t == "script" for t, _ in d.tags), name + ": the page has a script")
    for inc in incidents["all"]:
        if any(norm(inc["headline"]) == norm(a["headline"]) for m in measured if m["view"] == "all" for a in m["articles"]):
            check(norm(inc["headline"]) in text, name + ": headline missing: " + inc["headline"])
    img = Image.open(out + "/" + name + ".png")
    check(img.format == "PNG" and img.size == size, "%s.png is a %s %s, not a %dx%d PNG" % ((name, img.format, img.size) + size))
    colours = img.convert("RGB").getcolors(maxcolors=1 << 20) or []
    top = max(colours)[0] if colours else img.size[0] * img.size[1]
    check(len(colours) >= 16 and top < 0.98 * img.size[0] * img.size[1], "%s.png is blank (%d colours)" % (name, len(colours)))

# No script error, no refusal by the page's CSP: chromium prints every console message.
for log in ("desktop.log", "phone.log", "measure.log"):
    for line in open(out + "/" + log, errors="replace"):
        if ":CONSOLE" in line or "Uncaught" in line:
            failures.append("console message in %s: %s" % (log, line.strip()[:300]))

if failures:
    print("browser_status: FAILED\n  " + "\n  ".join(failures)); sys.exit(1)
phone = next(m for m in measured if m["view"] == "all" and m["width"] == 390)
print("browser_status: ok, %d incidents of GET /v1/incidents on the pages (%d views at 390 and 1280 px, %d bars checked), "
      "no console message, phone: %d px of content in %d px (page %d px tall), screenshots %s/desktop.png %s/phone.png"
      % (len(incidents["all"]), len(views), shown, phone["scrollWidth"], phone["clientWidth"], phone["height"], out, out))
PY
