// Wording of incidents for `meoktong analyze`: scope, confidence, headline,
// summary and evidence sentences a journalist can quote, each citing the
// measurement ids behind it. Rules documented in docs/analyze.md.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "analysis/analyze/incident_internal.hpp"

namespace meoktong::analyze {
namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
        out += items[i];
    }
    return out;
}

std::vector<std::string> to_vector(const std::set<std::string>& s) { return {s.begin(), s.end()}; }

std::vector<std::string> minus(const std::set<std::string>& a, const std::set<std::string>& b) {
    std::vector<std::string> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

std::string plural(uint64_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string duration(int64_t ms) {
    int64_t minutes = std::max<int64_t>(0, ms / 60000);
    int64_t days = minutes / 1440, hours = minutes % 1440 / 60, mins = minutes % 60;
    std::string out;
    if (days) out += std::to_string(days) + " d ";
    if (hours || days) out += std::to_string(hours) + " h ";
    out += std::to_string(mins) + " min";
    return out;
}

// "from A to B (10 h 20 min)" / "since A, still failing at the last measurement (C)" /
// "from A, still failing when last measured (C; no later measurement from those vantages)"
std::string period(const Incident& inc) {
    std::string from = display_time(inc.onset_ms);
    if (inc.end_ms) return "from " + from + " to " + display_time(*inc.end_ms) + " (" + duration(*inc.end_ms - inc.onset_ms) + ")";
    if (inc.ongoing) return "since " + from + ", still failing at the last measurement (" + display_time(inc.last_failure_ms) + ")";
    return "from " + from + ", still failing when last measured (" + display_time(inc.last_failure_ms) +
           "; no later measurement from those vantages)";
}

// Methods by count, most frequent first: {"dns_injection", "tls_sni_reset"}.
std::vector<std::pair<std::string, uint64_t>> ranked(const std::map<std::string, uint64_t>& counts) {
    std::vector<std::pair<std::string, uint64_t>> v(counts.begin(), counts.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    return v;
}

std::string methods_phrase(const Incident& inc, bool with_counts) {
    std::vector<std::string> names;
    for (const auto& [m, n] : ranked(inc.methods)) {
        if (names.size() == 3) break;
        names.push_back(with_counts ? m + " (" + std::to_string(n) + ")" : m);
    }
    return names.empty() ? "" : " by " + join(names);
}

std::string statuses_phrase(const Incident& inc) {
    std::vector<std::string> parts;
    for (const auto& [s, n] : ranked(inc.statuses)) parts.push_back(s + " " + std::to_string(n));
    return join(parts);
}

double round2(double x) { return std::round(x * 100) / 100; }

double share(uint64_t part, uint64_t whole) { return whole ? double(part) / double(whole) : 0; }

std::string scope_of(const Accum& acc) {
    if (acc.classification == "censorship") {
        auto measured = acc.asns_measured.find(acc.country);
        auto failing = acc.asns_failing.find(acc.country);
        size_t n_measured = measured == acc.asns_measured.end() ? 0 : measured->second.size();
        size_t n_failing = failing == acc.asns_failing.end() ? 0 : failing->second.size();
        return n_measured >= 2 && n_failing >= n_measured ? "national" : "isp";
    }
    if (acc.classification == "provider_outage") return acc.unaffected_endpoints.empty() ? "service" : "endpoint";
    if (acc.classification == "local") return "vantage";
    return "";
}

double confidence_of(const Accum& acc, const Incident& inc) {
    double verdicts = acc.failing_records ? acc.confidence_sum / double(acc.failing_records) : 0.5;
    uint64_t failing = acc.failing_records;
    double score = 0.3;
    if (inc.classification == "censorship") {
        double blocked = share(acc.statuses[int(VerdictStatus::blocked)], failing);
        score = 0.4 + (blocked >= 0.8 ? 0.2 : 0.1);
        if (acc.working_records > 0) score += 0.15;
        if (acc.control_saw > acc.control_failed) score += 0.15;
    } else if (inc.classification == "provider_outage") {
        score = 0.4;
        if (acc.failing_countries.size() >= 2) score += 0.2;
        if (acc.control_failed > acc.control_saw) score += 0.2;
        if (share(acc.statuses[int(VerdictStatus::provider_down)], failing) > 0.5) score += 0.1;
    } else if (inc.classification == "local") {
        score = 0.5;
        if (share(acc.statuses[int(VerdictStatus::local_failure)], failing) >= 0.5) score += 0.2;
        if (acc.canary_failed > acc.canary_ok) score += 0.15;
        if (acc.working_records > 0) score += 0.1;
    }
    return round2(std::min(0.95, score) * (0.6 + 0.4 * std::clamp(verdicts, 0.0, 1.0)));
}

// Up to two distinct verdict sentences from the failing examples, quoted.
void add_quotes(Incident& inc, const Accum& acc, const Index& ix, Citations& citations) {
    std::set<std::string> quoted;
    for (const ExampleRef& r : acc.failing_examples) {
        const std::string& text = r.example->evidence;
        if (text.empty() || quoted.count(text) || quoted.size() == 2) continue;
        quoted.insert(text);
        const VantageInfo& v = ix.agg.vantages()[r.vantage];
        inc.evidence.push_back({"A measurement from " + v.label + " (" + v.cc + ", " + v.asn + ") at " +
                                    display_time(r.example->at_ms) + " says: \u201c" + text + "\u201d",
                                citations.cite({r})});
    }
}

void add_control_evidence(Incident& inc, const Accum& acc, const std::string& what, Citations& citations) {
    uint64_t answered = acc.control_saw + acc.control_failed;
    if (answered == 0) {
        inc.evidence.push_back({"No control vantage answered for these measurements; the comparison rests on the other vantages.", {}});
        return;
    }
    if (acc.control_failed > acc.control_saw)
        inc.evidence.push_back({"The control vantage, outside the censors' reach, failed too in " + std::to_string(acc.control_failed) +
                                    " of " + std::to_string(answered) + " of these measurements.",
                                citations.cite_if(acc.failing_examples, ControlView::failed)});
    else
        inc.evidence.push_back({"The control vantage reached " + what + " in " + std::to_string(acc.control_saw) + " of " +
                                    std::to_string(answered) + " of these measurements.",
                                citations.cite_if(acc.failing_examples, ControlView::saw_target)});
}

std::string endpoint_list(const std::vector<std::string>& uris) { return join(uris); }

void word_censorship(Incident& inc, const Accum& acc, Citations& citations, const std::string& svc) {
    const std::string& cc = inc.country;
    std::set<std::string> failing = acc.asns_failing.count(cc) ? acc.asns_failing.at(cc) : std::set<std::string>{};
    std::set<std::string> measured = acc.asns_measured.count(cc) ? acc.asns_measured.at(cc) : failing;
    std::vector<std::string> others = minus(acc.working_countries, {cc});
    std::vector<std::string> asn_list = to_vector(failing);
    std::vector<std::string> other_asns = minus(measured, failing);
    if (inc.scope == "national")
        inc.headline = svc + " blocked in " + cc + " across all " + std::to_string(measured.size()) + " networks measured";
    else if (measured.size() <= 1)
        inc.headline = svc + " blocked in " + cc + " on " + join(asn_list) + " (the only network measured there)";
    else
        inc.headline = svc + " blocked in " + cc + " on " + join(asn_list) + " only";
    std::string worked;
    if (!others.empty()) worked = "from " + join(others);
    if (!other_asns.empty()) worked += std::string(worked.empty() ? "" : " and ") + "from other networks in " + cc + " (" + join(other_asns) + ")";
    inc.summary = svc + " failed from " + plural(failing.size(), "network", "networks") + " in " + cc + " (" + join(asn_list) +
                  ") " + period(inc) + methods_phrase(inc, false) +
                  (worked.empty() ? (acc.control_saw ? ", while the control vantage reached it." : ".") : ", while it worked " + worked + ".");
    inc.evidence.push_back({plural(acc.failing_records, "measurement", "measurements") + " from " +
                                plural(acc.failing_vantages.size(), "vantage", "vantages") + " in " + cc + " (" + join(asn_list) +
                                ") returned blocked" + methods_phrase(inc, true) + ".",
                            citations.cite(acc.failing_examples)});
    if (acc.working_records > 0)
        inc.evidence.push_back({"In the same time windows " + svc + " worked " + worked + " (" +
                                    plural(acc.working_records, "measurement", "measurements") + ").",
                                citations.cite(acc.working_examples)});
    if (inc.scope == "national")
        inc.evidence.push_back({"Every network measured in " + cc + " shows it: " + join(asn_list) + ".", {}});
    else if (measured.size() <= 1)
        inc.evidence.push_back({"Only one network in " + cc + " was measured (" + join(asn_list) +
                                    "): whether the blocking is national cannot be told from this data.", {}});
    else
        inc.evidence.push_back({"Only " + join(asn_list) + " in " + cc + " shows it; " + join(other_asns) + " reached it.", {}});
    if (!inc.endpoints_unaffected.empty())
        inc.evidence.push_back({"Other " + svc + " endpoints (" + endpoint_list(inc.endpoints_unaffected) + ") worked in " + cc + " meanwhile.",
                                citations.cite(acc.unaffected_examples)});
    add_control_evidence(inc, acc, svc, citations);
}

void word_provider_outage(Incident& inc, const Accum& acc, Citations& citations, const std::string& svc) {
    std::string countries = join(inc.countries);
    if (inc.scope == "service") {
        inc.headline = svc + " down from every vantage, in " + countries + ": a provider outage, not censorship";
    } else {
        std::string which = inc.endpoints.size() == 1 ? " endpoint " + inc.endpoints[0] : " endpoints " + endpoint_list(inc.endpoints);
        inc.headline = svc + which + " down from every vantage; the other " + svc + " endpoints kept working";
    }
    std::string what = inc.scope == "service" ? svc : svc + " (" + endpoint_list(inc.endpoints) + ")";
    inc.summary = what + " failed from " + plural(acc.failing_vantages.size(), "vantage", "vantages") + " in " + countries + " " +
                  period(inc) + methods_phrase(inc, false) +
                  (acc.control_failed > acc.control_saw
                       ? "; the control vantage failed too. Failing from every country at once, and at the control, points at the provider, not at a censor."
                       : ". Failing from every country at once points at the provider, not at a censor.");
    if (inc.countries.size() < 2) inc.summary = what + " failed from every vantage measured (" + countries + ") " + period(inc) + methods_phrase(inc, false) + ".";
    inc.evidence.push_back({plural(acc.failing_records, "measurement", "measurements") + " from " +
                                plural(acc.failing_vantages.size(), "vantage", "vantages") + " in " + countries + " failed (" +
                                statuses_phrase(inc) + ")" + methods_phrase(inc, true) + ".",
                            citations.cite(acc.failing_examples)});
    if (acc.working_records == 0)
        inc.evidence.push_back({"No vantage, in any country, reached " + what + " in that time.", {}});
    add_control_evidence(inc, acc, what, citations);
    if (!inc.endpoints_unaffected.empty())
        inc.evidence.push_back({"Other " + svc + " endpoints (" + endpoint_list(inc.endpoints_unaffected) + ") worked at the same time.",
                                citations.cite(acc.unaffected_examples)});
}

void word_local(Incident& inc, const Accum& acc, const Index& ix, Citations& citations) {
    const VantageInfo& v = ix.agg.vantages()[*acc.vantage];
    inc.headline = "Vantage " + v.label + " (" + v.cc + ", " + v.asn + ") lost its own network: a local failure, not censorship";
    inc.summary = "Measurements failed at vantage " + v.label + " (" + v.cc + ", " + v.asn + ") " + period(inc) +
                  (acc.working_records ? ", while other vantages reached the same services" : "") +
                  ": the vantage's own network was down, which says nothing about the services.";
    inc.evidence.push_back({plural(acc.failing_records, "measurement", "measurements") + " at " + v.label + " failed (" +
                                statuses_phrase(inc) + ").",
                            citations.cite(acc.failing_examples)});
    if (acc.canary_failed > 0)
        inc.evidence.push_back({"The canary targets (unrelated, reliable hosts) failed there too: " + std::to_string(acc.canary_failed) +
                                    " of " + std::to_string(acc.canary_ok + acc.canary_failed) + ".", {}});
    if (acc.working_records > 0)
        inc.evidence.push_back({"Other vantages reached the same targets at the same time (" +
                                    plural(acc.working_records, "measurement", "measurements") + " from " +
                                    join(to_vector(acc.working_countries)) + ").",
                                citations.cite(acc.working_examples)});
}

void word_inconclusive(Incident& inc, const Accum& acc, Citations& citations, const std::string& svc) {
    std::string where = join(inc.countries);
    inc.headline = svc + " failing from " + where + ": the evidence does not decide between blocking and breakage";
    inc.summary = svc + " failed from " + plural(acc.failing_vantages.size(), "vantage", "vantages") + " in " + where + " (" +
                  join(inc.networks) + ") " + period(inc) + ", but the verdicts (" + statuses_phrase(inc) +
                  ") do not show whether it was blocked or broken.";
    inc.evidence.push_back({plural(acc.failing_records, "measurement", "measurements") + " failed (" + statuses_phrase(inc) + ")" +
                                methods_phrase(inc, true) + ".",
                            citations.cite(acc.failing_examples)});
    if (acc.working_records > 0)
        inc.evidence.push_back({"It worked meanwhile from " + join(to_vector(acc.working_countries)) + " (" +
                                    plural(acc.working_records, "measurement", "measurements") + ").",
                                citations.cite(acc.working_examples)});
    add_control_evidence(inc, acc, svc, citations);
}

std::vector<std::string> uris(const Index& ix, const std::set<uint32_t>& ids) {
    std::vector<std::string> out;
    for (uint32_t e : ids) out.push_back(ix.endpoint(e).uri());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

std::string service_display_name(const std::string& service) {
    static const std::map<std::string, std::string> names = {
        {"kakaotalk", "KakaoTalk"}, {"line", "LINE"},         {"whatsapp", "WhatsApp"},
        {"telegram", "Telegram"},   {"signal", "Signal"},     {"wechat", "WeChat"},
        {"daum", "Daum"},           {"viber", "Viber"},       {"facebook_messenger", "Facebook Messenger"},
        {"kakao", "Kakao"},         {"canary", "the canaries"}};
    auto it = names.find(service);
    return it == names.end() ? service : it->second;
}

std::vector<std::string> Citations::cite(const std::vector<ExampleRef>& refs) {
    std::vector<std::string> ids;
    for (const ExampleRef& r : refs) {
        auto [it, fresh] = seen_.emplace(r.example, refs_.size());
        if (fresh) {
            const Example& e = *r.example;
            const Endpoint& ep = ix_.endpoint(r.endpoint);
            const char* control = e.control == ControlView::saw_target ? "saw_target"
                                  : e.control == ControlView::failed   ? "failed"
                                                                       : "none";
            refs_.push_back({e.id, e.at_ms, ix_.agg.vantages()[r.vantage], ep.uri(), ep.service, verdict_status_name(e.status), e.method,
                             e.evidence, control});
        }
        ids.push_back(refs_[it->second].id);
    }
    return ids;
}

std::vector<std::string> Citations::cite_if(const std::vector<ExampleRef>& refs, ControlView control) {
    std::vector<ExampleRef> matching;
    for (const ExampleRef& r : refs)
        if (r.example->control == control) matching.push_back(r);
    return cite(matching);
}

Incident describe_incident(const Accum& acc, const Index& ix, Citations& citations, size_t number) {
    Incident inc;
    inc.id = "incident-" + std::to_string(number);
    inc.service = acc.service;
    inc.classification = acc.classification;
    inc.country = acc.country;
    inc.onset_ms = acc.onset_ms;
    inc.last_failure_ms = acc.last_failure_ms;
    inc.end_ms = acc.end_ms;
    inc.ongoing = !acc.end_ms && acc.closed_by_end_of_data;
    inc.endpoints = uris(ix, acc.endpoints);
    inc.endpoints_unaffected = uris(ix, acc.unaffected_endpoints);
    for (uint32_t v : acc.failing_vantages) inc.vantages.push_back(ix.agg.vantages()[v]);
    std::sort(inc.vantages.begin(), inc.vantages.end(), [](const VantageInfo& a, const VantageInfo& b) {
        return std::tie(a.cc, a.asn, a.label) < std::tie(b.cc, b.asn, b.label);
    });
    std::set<std::string> networks;
    for (const auto& [cc, asns] : acc.asns_failing) networks.insert(asns.begin(), asns.end());
    inc.networks = to_vector(networks);
    inc.countries = to_vector(acc.failing_countries);
    inc.working_countries = to_vector(acc.working_countries);
    for (int s = 1; s < kVerdictStatusCount; ++s)
        if (acc.statuses[s]) inc.statuses[verdict_status_name(VerdictStatus(s))] = acc.statuses[s];
    inc.methods = acc.methods;
    if (auto r = ranked(acc.methods); !r.empty()) inc.dominant_method = r.front().first;
    inc.failing_measurements = acc.failing_records;
    inc.working_measurements = acc.working_records;
    inc.control_saw_target = acc.control_saw;
    inc.control_failed = acc.control_failed;
    inc.scope = scope_of(acc);
    inc.confidence = confidence_of(acc, inc);

    std::string svc = service_display_name(acc.service);
    if (inc.classification == "censorship") word_censorship(inc, acc, citations, svc);
    else if (inc.classification == "provider_outage") word_provider_outage(inc, acc, citations, svc);
    else if (inc.classification == "local") word_local(inc, acc, ix, citations);
    else word_inconclusive(inc, acc, citations, svc);
    add_quotes(inc, acc, ix, citations);
    return inc;
}

}  // namespace meoktong::analyze
