// Per-service outcome: groups a run's records by service and decides whether
// the endpoints each app needs are accessible (rules in services.hpp).
#include "analysis/verdict/services.hpp"

namespace meoktong {
namespace {

constexpr size_t kMaxListed = 3;  // endpoints named in one summary sentence

int severity(VerdictStatus status) {
    switch (status) {
        case VerdictStatus::accessible: return 0;
        case VerdictStatus::inconclusive: return 1;
        case VerdictStatus::local_failure: return 2;
        case VerdictStatus::provider_down: return 3;
        case VerdictStatus::blocked: return 4;
    }
    return 1;
}

struct ListInfo {
    bool required = true;
    std::string group;
};

struct ListIndex {
    std::map<std::string, ListInfo> targets;         // "service|uri" -> info
    std::map<std::string, std::string> display_names;  // service -> display name
};

// Matches a record's target to its list entry (lists normalise hosts to lower case).
std::string index_key(const Target& t) {
    bool has_path = t.protocol == "https" || t.protocol == "http";
    return t.service + "|" + t.protocol + "|" + t.host + "|" + std::to_string(t.protocol == "dns" ? 0 : t.port) + "|" +
           (has_path ? t.path : "");
}

ListIndex index_lists(const std::vector<TestList>& lists) {
    ListIndex index;
    for (const auto& list : lists) {
        for (const auto& service : list.services) {
            index.display_names.emplace(service.name, service.display_name);
            for (const auto& lt : service.targets) index.targets.emplace(index_key(lt.target), ListInfo{lt.required, lt.group});
        }
    }
    return index;
}

// "mmg.whatsapp.net", or "ticket-loco.kakao.com:995" when the port is not the protocol's usual one.
std::string where(const Target& t) {
    std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
    bool usual = t.protocol == "dns" || ((t.protocol == "tls" || t.protocol == "https") && t.port == 443) ||
                 (t.protocol == "http" && t.port == 80);
    return usual ? host : host + ":" + std::to_string(t.port);
}

std::string verdict_text(VerdictStatus status, const std::optional<std::string>& method) {
    return verdict_status_name(status) + (method ? ": " + *method : "");
}

std::string role_of(const Target& t) { return t.role.empty() ? "" : t.role + " "; }

std::string endpoint_failure(const EndpointOutcome& e) {
    return role_of(e.target) + "endpoint " + where(e.target) + " failing (" + verdict_text(e.status, e.method) + ")";
}

std::string join_capped(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < kMaxListed; ++i) out += (i ? sep : "") + items[i];
    if (items.size() > kMaxListed) out += " and " + std::to_string(items.size() - kMaxListed) + " more";
    return out;
}

// One thing the app needs: a lone required endpoint, or a group of alternatives.
struct Requirement {
    std::vector<const EndpointOutcome*> members;
    bool met() const {
        for (const auto* m : members)
            if (m->status == VerdictStatus::accessible) return true;
        return false;
    }
    const EndpointOutcome& worst() const {
        const EndpointOutcome* w = members.front();
        for (const auto* m : members)
            if (severity(m->status) > severity(w->status)) w = m;
        return *w;
    }
    std::string describe() const {
        if (members.size() == 1) return endpoint_failure(*members.front());
        std::vector<std::string> places;
        for (const auto* m : members) places.push_back(where(m->target));
        const EndpointOutcome& w = worst();
        return role_of(w.target) + "endpoints " + join_capped(places, ", ") + " all failing (" +
               verdict_text(w.status, w.method) + ")";
    }
};

std::vector<Requirement> requirements(const std::vector<EndpointOutcome>& endpoints) {
    bool any_required = false;
    for (const auto& e : endpoints) any_required = any_required || e.required;
    std::vector<Requirement> out;
    if (!any_required) {  // all optional: any one working endpoint will do
        Requirement any;
        for (const auto& e : endpoints) any.members.push_back(&e);
        out.push_back(any);
        return out;
    }
    std::map<std::string, size_t> group_index;
    for (const auto& e : endpoints) {
        if (!e.required) continue;
        if (e.group.empty()) {
            out.push_back(Requirement{{&e}});
            continue;
        }
        auto [it, inserted] = group_index.emplace(e.group, out.size());
        if (inserted) out.push_back(Requirement{});
        out[it->second].members.push_back(&e);
    }
    return out;
}

void decide(ServiceOutcome& s) {
    std::vector<Requirement> needs = requirements(s.endpoint_outcomes);
    const Requirement* worst_unmet = nullptr;
    std::vector<std::string> unmet;
    for (const auto& need : needs) {
        if (need.met()) continue;
        unmet.push_back(need.describe());
        if (!worst_unmet || severity(need.worst().status) > severity(worst_unmet->worst().status)) worst_unmet = &need;
    }
    std::string counts = std::to_string(s.accessible) + " of " + std::to_string(s.endpoints) + " endpoints accessible";
    if (worst_unmet) {
        s.status = verdict_status_name(worst_unmet->worst().status);
        s.summary = s.display_name + ": " + s.status + "; " + join_capped(unmet, ", ") + "; " + counts;
        return;
    }
    s.status = "reachable";
    std::vector<std::string> failing;
    for (const auto& e : s.endpoint_outcomes)
        if (e.status != VerdictStatus::accessible) failing.push_back(endpoint_failure(e));
    s.summary = s.display_name + ": reachable" + (failing.empty() ? " (" + counts + ")" : "; " + join_capped(failing, ", "));
}

}  // namespace

std::vector<ServiceOutcome> service_outcomes(const std::vector<Record>& records, const std::vector<TestList>& lists) {
    ListIndex index = index_lists(lists);
    std::vector<ServiceOutcome> out;
    std::map<std::string, size_t> position;
    for (const auto& r : records) {
        if (r.target.canary) continue;
        auto [it, inserted] = position.emplace(r.target.service, out.size());
        if (inserted) {
            ServiceOutcome s;
            s.service = r.target.service;
            auto name = index.display_names.find(s.service);
            s.display_name = name == index.display_names.end() ? s.service : name->second;
            out.push_back(std::move(s));
        }
        ServiceOutcome& s = out[it->second];
        EndpointOutcome e;
        e.target = r.target;
        e.status = r.verdict.status;
        e.method = r.verdict.method;
        if (auto info = index.targets.find(index_key(r.target)); info != index.targets.end()) {
            e.required = info->second.required;
            e.group = info->second.group;
        }
        ++s.endpoints;
        if (e.status == VerdictStatus::accessible) ++s.accessible;
        ++s.counts[e.status];
        s.endpoint_outcomes.push_back(std::move(e));
    }
    for (auto& s : out) decide(s);
    return out;
}

}  // namespace meoktong
