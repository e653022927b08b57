// The collector's live view: routes, the status page and the Atom feed (see
// live_view.hpp).
#include "probe/collector/live_view.hpp"

#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>


#include "analysis/analyze/render.hpp"
#include "meoktong/parse.hpp"
#include "probe/server/guarded_server.hpp"
#include "probe/store/store.hpp"

namespace meoktong::collector {
namespace {

using analyze::html_escape;

constexpr int kWindowMinutes = 15;  // analyze's default window
constexpr const char* kCanaryService = "canary";

struct BadQuery {
    std::string why;
};

bool is_service_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    });
}

store::StoreFilter filter_of(const httplib::Request& req) {
    store::StoreFilter f;
    auto time_param = [&](const char* name, std::optional<int64_t>& into) {
        if (!req.has_param(name)) return;
        into = analyze::parse_utc_time(req.get_param_value(name));
        if (!into) throw BadQuery{std::string(name) + " must be an ISO 8601 UTC time like 2026-03-01T10:00Z"};
    };
    time_param("since", f.since_ms);
    time_param("until", f.until_ms);
    if (req.has_param("cc")) {
        auto cc = parse_country_code(req.get_param_value("cc"));
        if (!cc) throw BadQuery{"cc must be a two-letter country code"};
        f.cc = *cc;
    }
    if (req.has_param("service")) {
        f.service = req.get_param_value("service");
        if (!is_service_name(f.service)) throw BadQuery{"service must be a service name such as line or kakaotalk"};
    }
    if (f.since_ms && f.until_ms && *f.since_ms >= *f.until_ms) throw BadQuery{"since must be before until"};
    return f;
}

// Serves `render` of the analysis of what the request's query selects.
template <typename Render>
void serve_analysis(store::Store& store, const httplib::Request& req, httplib::Response& res, const char* type,
                    Render render) {
    store::StoreFilter filter;
    try {
        filter = filter_of(req);
    } catch (const BadQuery& bad) {
        return server::reply_error(res, 400, bad.why);
    }
    try {
        analyze::Analysis a = store::analyse_store(store, filter, kWindowMinutes, "store");
        res.status = 200;
        res.set_content(render(a), type);
    } catch (const store::StoreError&) {
        res.set_header("Retry-After", "60");
        server::reply_error(res, 503, "the store failed; try again later");
    }
}

bool affects(const analyze::Incident& i, const std::string& cc) {
    return i.country == cc || std::find(i.countries.begin(), i.countries.end(), cc) != i.countries.end();
}

std::string title_of(const analyze::Incident& i) {
    return i.headline.empty() ? analyze::service_display_name(i.service) + ": " + i.classification : i.headline;
}

struct State {
    std::string css, text;  // "blocked", "blocked (tls_sni_reset)"; "stale", "last measured ...: blocked"
    std::optional<int64_t> since_ms;
};

// The latest censorship or provider outage of `service` in `cc` that had not
// ended when `at_ms` was measured (analyze's ongoing ones among them).
const analyze::Incident* open_at(const analyze::Analysis& a, const std::string& service, const std::string& cc,
                                 int64_t at_ms) {
    int64_t gap = analyze::max_gap_ms(a.options.window_minutes);
    for (auto it = a.incidents.rbegin(); it != a.incidents.rend(); ++it) {  // (clang 14 lacks libstdc++ 12's ranges)
        const analyze::Incident& i = *it;
        if (i.service != service || !affects(i, cc) || i.end_ms || i.last_failure_ms < at_ms - gap) continue;
        if (i.classification == "censorship" || i.classification == "provider_outage") return &i;
    }
    return nullptr;
}

std::string failing_text(const analyze::Incident& i) {
    if (i.classification == "provider_outage") return "provider down";
    return "blocked" + (i.dominant_method.empty() ? "" : " (" + i.dominant_method + ")");
}

// The state now of `service` in `cc`. Now is the view's newest measurement:
// a state counts only when one of the country's vantages measured the service
// within analyze::max_gap_ms of it (an ongoing incident of analyze's, else
// what their last windows showed); an older one is shown as last measured.
State state_now(const analyze::Analysis& a, const analyze::ServiceTimeline& t, const std::string& cc) {
    int64_t fresh_from = a.last_record_ms.value_or(0) - analyze::max_gap_ms(a.options.window_minutes);
    std::optional<int64_t> newest;
    bool fresh_working = false;
    std::string newest_state;
    for (const auto& row : t.rows) {
        if (row.vantage.cc != cc || row.last_state.empty()) continue;
        if (row.last_measured_ms >= fresh_from) fresh_working = fresh_working || row.last_state == "accessible";
        if (!newest || row.last_measured_ms > *newest) {
            newest = row.last_measured_ms;
            newest_state = row.last_state;
        }
    }
    if (!newest) return {"no_data", "no data", std::nullopt};
    const analyze::Incident* open = open_at(a, t.service, cc, *newest);
    if (*newest < fresh_from) {
        std::string then = open ? failing_text(*open) : newest_state == "accessible" ? "accessible" : "unclear";
        return {"stale", "last measured " + analyze::display_time(*newest) + ": " + then,
                open ? std::optional(open->onset_ms) : std::nullopt};
    }
    if (open && open->ongoing) return {open->classification == "censorship" ? "blocked" : "provider_down",
                                       failing_text(*open), open->onset_ms};
    if (fresh_working) return {"accessible", "accessible", std::nullopt};
    return {"inconclusive", "unclear", std::nullopt};
}

// Last measured within the last days (an ongoing incident always is).
bool is_recent(const analyze::Analysis& a, const analyze::Incident& i) {
    if (!a.last_record_ms) return false;
    return i.end_ms.value_or(i.last_failure_ms) >= *a.last_record_ms - kRecentIncidentsMs;
}

// The span the incidents' timeline bars share: the last days of measurements
// (kRecentIncidentsMs before the last record, never before the first).
struct Span {
    int64_t from_ms = 0, to_ms = 0;
};

Span recent_span(const analyze::Analysis& a) {
    int64_t to = a.last_record_ms.value_or(0);
    return {std::max(a.first_record_ms.value_or(to), to - kRecentIncidentsMs), to};
}

// Where `ms` falls in `span`, in percent of its width (0 to 100).
double percent_of(const Span& span, int64_t ms) {
    double width = double(std::max<int64_t>(span.to_ms - span.from_ms, 1));
    return std::clamp(double(ms - span.from_ms) / width * 100.0, 0.0, 100.0);
}

// An incident not seen ending, in words: still failing at the view's newest
// measurement (ongoing) or when last measured, with that date.
std::string still_failing_text(const analyze::Incident& i) {
    std::string still = i.classification == "censorship"        ? "still blocked"
                        : i.classification == "provider_outage" ? "still down"
                                                                : "still failing";
    return still + (i.ongoing ? " at the last measurement, " : " when last measured, ") +
           analyze::display_time(i.last_failure_ms);
}

// How the incident ends, in words: "to DATE" once it worked again, else
// "and " still_failing_text.
std::string until_text(const analyze::Incident& i) {
    if (i.end_ms) return "to " + analyze::display_time(*i.end_ms);
    return "and " + still_failing_text(i);
}

// The incident as a bar over the span (no script: positioned by CSS) from its
// onset to its end or its last failing measurement, never further, with the
// span's two ends as its axis, dated with their year.
std::string timeline_bar(const analyze::Incident& i, const Span& span) {
    double left = percent_of(span, i.onset_ms), right = percent_of(span, i.end_ms.value_or(i.last_failure_ms));
    char geometry[64];
    std::snprintf(geometry, sizeof geometry, "left:%.1f%%;width:%.1f%%", left, std::max(right - left, 0.5));
    std::string when = "from " + analyze::display_time(i.onset_ms) + " " + until_text(i);
    return "<div class=\"track\" role=\"img\" aria-label=\"" + html_escape(when) + "\"><span class=\"bar\" style=\"" +
           geometry + "\"></span></div>\n<div class=\"axis\"><span>" + html_escape(analyze::display_time(span.from_ms)) +
           "</span><span>" + html_escape(analyze::display_time(span.to_ms)) + "</span></div>\n";
}

constexpr const char* kPageStyle =
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;line-height:1.45;color:#222;"
    "overflow-wrap:break-word}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd}"
    ".state{font-weight:600;white-space:nowrap}.blocked{color:#b00020}.provider_down{color:#a15c00}"
    ".accessible{color:#1b6e20}.no_data,.inconclusive,.stale{color:#666}.stale{font-weight:400}"
    "article{border-left:4px solid #ccc;padding:.2rem 0 .2rem .8rem;margin:1rem 0}"
    "article.censorship{border-color:#b00020}article.provider_outage{border-color:#a15c00}"
    ".meta{color:#555;font-size:.9rem}"
    ".track{position:relative;height:.8rem;background:#eee;border-radius:2px;margin:.4rem 0 .1rem}"
    ".bar{position:absolute;top:0;bottom:0;background:#888;border-radius:2px}"
    "article.censorship .bar{background:#b00020}article.provider_outage .bar{background:#a15c00}"
    ".axis{display:flex;justify-content:space-between;color:#555;font-size:.75rem}"
    // A phone: the state may wrap ("blocked" above "(tls_sni_reset)") so the table fits its width.
    "@media (max-width:30rem){th,td{padding:.3rem .2rem;font-size:.9rem}.state{white-space:normal}}";

}  // namespace

std::string render_status_page(const analyze::Analysis& a) {
    std::ostringstream o;
    o << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
         "<title>Blocked or broken? Messenger services now</title><style>"
      << kPageStyle << "</style></head><body>\n<h1>Blocked or broken?</h1>\n";
    std::set<std::string> countries;
    for (const auto& t : a.services)
        for (const auto& row : t.rows)
            if (!row.vantage.cc.empty()) countries.insert(row.vantage.cc);
    if (!a.last_record_ms) {
        o << "<p>No measurements are stored yet.</p>\n";
    } else {
        o << "<p class=\"meta\">" << a.totals.records << " measurements from " << countries.size()
          << (countries.size() == 1 ? " country" : " countries") << "; the last at "
          << html_escape(analyze::display_time(*a.last_record_ms)) << ".</p>\n";
    }
    o << "<h2>Now</h2>\n";
    if (a.last_record_ms)
        o << "<p class=\"meta\">As of the newest measurement here, " << html_escape(analyze::display_time(*a.last_record_ms))
          << ". A country that did not measure a service within "
          << analyze::max_gap_ms(a.options.window_minutes) / 3'600'000 << " hours of it shows when it last did.</p>\n";
    o << "<table><tr><th>Country</th><th>Service</th><th>State</th><th>Since</th></tr>\n";
    for (const auto& cc : countries)
        for (const auto& t : a.services) {
            if (t.service == kCanaryService) continue;  // the probe's own reference targets, not a service
            State s = state_now(a, t, cc);
            o << "<tr><td>" << html_escape(cc) << "</td><td>" << html_escape(analyze::service_display_name(t.service))
              << "</td><td class=\"state " << s.css << "\">" << html_escape(s.text) << "</td><td>"
              << (s.since_ms ? html_escape(analyze::display_time(*s.since_ms)) : "") << "</td></tr>\n";
        }
    o << "</table>\n<h2>Recent incidents</h2>\n";
    Span span = recent_span(a);
    size_t shown = 0;
    for (auto it = a.incidents.rbegin(); it != a.incidents.rend(); ++it) {
        const analyze::Incident& i = *it;
        if (!is_recent(a, i)) continue;
        ++shown;
        std::set<std::string> networks(i.networks.begin(), i.networks.end());
        o << "<article class=\"" << html_escape(i.classification) << "\"><h3>" << html_escape(title_of(i)) << "</h3>\n"
          << "<p class=\"meta\">From " << html_escape(analyze::display_time(i.onset_ms)) << " "
          << html_escape(until_text(i)) << "; " << i.vantages.size() << (i.vantages.size() == 1 ? " vantage" : " vantages") << " in "
          << networks.size() << (networks.size() == 1 ? " network" : " networks") << " agree.</p>\n"
          << timeline_bar(i, span);
        if (!i.summary.empty()) o << "<p>" << html_escape(i.summary) << "</p>\n";
        if (!i.evidence.empty()) {
            o << "<ul>\n";
            for (const auto& e : i.evidence) o << "<li>" << html_escape(e.text) << "</li>\n";
            o << "</ul>\n";
        }
        o << "</article>\n";
    }
    if (shown == 0) o << "<p>No incident in the last days of measurements.</p>\n";
    o << "<p class=\"meta\">Subscribe: <a href=\"feed.atom\">Atom feed</a> · the data: "
         "<a href=\"v1/incidents\">incidents as JSON</a>.</p>\n</body></html>\n";
    return o.str();
}

std::string render_atom_feed(const analyze::Analysis& a) {
    struct Entry {
        int64_t at_ms;
        std::string id, title, text;
    };
    std::vector<Entry> entries;
    for (const auto& i : a.incidents) {
        // Stable across requests: what the incident is and when it began (analyze's ids are positions).
        std::string id = "urn:meoktong:incident:" + i.service + ":" + i.classification + ":" + i.scope + ":" +
                         (i.country.empty() ? std::string("-") : i.country) + ":" + std::to_string(i.onset_ms);
        std::string evidence;
        for (const auto& e : i.evidence) evidence += e.text + "\n";
        std::string status = i.end_ms ? "" : "Not seen ending: " + still_failing_text(i) + ".\n\n";
        entries.push_back({i.onset_ms, id + ":start", "Began: " + title_of(i), i.summary + "\n\n" + status + evidence});
        if (i.end_ms)
            entries.push_back({*i.end_ms, id + ":end", "Ended: " + title_of(i),
                               "Working again from " + analyze::display_time(*i.end_ms) + ".\n\n" + i.summary});
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) { return x.at_ms > y.at_ms; });
    int64_t updated = a.last_record_ms.value_or(0);
    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
         "<title>Blocked or broken? Messenger incidents</title>\n<id>urn:meoktong:feed:incidents</id>\n"
         "<updated>"
      << analyze::iso_time(updated) << "</updated>\n<author><name>meoktong collector</name></author>\n"
      << "<link rel=\"alternate\" type=\"text/html\" href=\"./\"/>\n";
    for (const auto& e : entries)
        o << "<entry><id>" << html_escape(e.id) << "</id><title>" << html_escape(e.title) << "</title><updated>"
          << analyze::iso_time(e.at_ms) << "</updated><content type=\"text\">" << html_escape(e.text)
          << "</content></entry>\n";
    o << "</feed>\n";
    return o.str();
}

void add_live_view_routes(httplib::Server& http, store::Store& store) {
    http.Get("/v1/incidents", [&store](const httplib::Request& req, httplib::Response& res) {
        serve_analysis(store, req, res, "application/json", [](const analyze::Analysis& a) { return analyze::render_json(a); });
    });
    http.Get("/", [&store](const httplib::Request& req, httplib::Response& res) {
        serve_analysis(store, req, res, "text/html; charset=utf-8", render_status_page);
    });
    http.Get("/feed.atom", [&store](const httplib::Request& req, httplib::Response& res) {
        serve_analysis(store, req, res, "application/atom+xml; charset=utf-8", render_atom_feed);
    });
}

}  // namespace meoktong::collector
