// Fingerprints of blockpages, DNS sinkholes and interception CAs: the loader
// (strict validation, one-line errors), the default file location, a
// thread-safe cache, and pure ASCII case-insensitive matchers.
#include "analysis/verdict/blockpage.hpp"

#include "meoktong/files.hpp"
#include "meoktong/parse.hpp"
#include "meoktong/text.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace meoktong {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::set<std::string> kKinds = {"blockpage", "dns_sinkhole", "interception_ca"};
const std::set<std::string> kMatchTypes = {"contains", "prefix", "full"};

[[noreturn]] void fail(const std::string& origin, const std::string& entry, const std::string& problem) {
    std::string where = origin;
    if (!entry.empty()) where += ": " + entry;
    throw FingerprintError(where + ": " + problem);
}

// The field a kind may be matched on.
bool field_fits_kind(const std::string& kind, const std::string& field) {
    if (kind == "dns_sinkhole") return field == "dns_answer";
    if (kind == "interception_ca") return field == "cert_issuer";
    return field == "body" || field == "title" || field == "header";
}

std::string required_string(const json& j, const char* key, const std::string& origin, const std::string& entry) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
        fail(origin, entry, std::string("\"") + key + "\" must be a non-empty string");
    return it->get<std::string>();
}

std::string optional_string(const json& j, const char* key, const std::string& origin, const std::string& entry) {
    auto it = j.find(key);
    if (it == j.end()) return "";
    if (!it->is_string()) fail(origin, entry, std::string("\"") + key + "\" must be a string");
    return it->get<std::string>();
}

// Written in capitals, as the fingerprint files are checked in.
bool is_country(const std::string& cc) { return parse_country_code(cc) == cc; }

std::vector<std::string> read_sources(const json& j, const std::string& origin, const std::string& entry) {
    auto it = j.find("sources");
    if (it == j.end() || !it->is_array() || it->empty()) fail(origin, entry, "\"sources\" must be a non-empty list of URLs");
    std::vector<std::string> out;
    for (const auto& s : *it) {
        if (!s.is_string()) fail(origin, entry, "every source must be a URL string");
        std::string url = s.get<std::string>();
        if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
            fail(origin, entry, "source \"" + url + "\" is not an http(s) URL");
        out.push_back(url);
    }
    return out;
}

Fingerprint read_fingerprint(const json& j, size_t index, const std::string& origin) {
    std::string entry = "fingerprint #" + std::to_string(index + 1);
    if (!j.is_object()) fail(origin, entry, "must be an object");
    Fingerprint f;
    f.name = required_string(j, "name", origin, entry);
    entry = "fingerprint \"" + f.name + "\"";
    f.country = required_string(j, "country", origin, entry);
    if (!is_country(f.country)) fail(origin, entry, "\"country\" must be two capital letters (ZZ for many)");
    f.kind = required_string(j, "kind", origin, entry);
    if (!kKinds.count(f.kind)) fail(origin, entry, "unknown kind \"" + f.kind + "\"");
    f.description = required_string(j, "description", origin, entry);
    auto m = j.find("match");
    if (m == j.end() || !m->is_object()) fail(origin, entry, "\"match\" must be an object");
    f.field = required_string(*m, "field", origin, entry);
    if (!field_fits_kind(f.kind, f.field)) fail(origin, entry, "field \"" + f.field + "\" cannot match a " + f.kind);
    f.header = ascii_lower(optional_string(*m, "header", origin, entry));
    if ((f.field == "header") != !f.header.empty())
        fail(origin, entry, "\"header\" names the header to match, and only for field \"header\"");
    f.match = required_string(*m, "type", origin, entry);
    if (!kMatchTypes.count(f.match)) fail(origin, entry, "unknown match type \"" + f.match + "\"");
    f.pattern = required_string(*m, "pattern", origin, entry);
    f.sources = read_sources(j, origin, entry);
    return f;
}

bool matches(const Fingerprint& f, const std::string& value) {
    if (f.match == "full") return ascii_iequals(value, f.pattern);
    std::string v = ascii_lower(value), p = ascii_lower(f.pattern);
    if (f.match == "prefix") return v.rfind(p, 0) == 0;
    return v.find(p) != std::string::npos;
}

// DNS names compare without the root dot.
std::string strip_root_dot(std::string name) {
    if (!name.empty() && name.back() == '.') name.pop_back();
    return name;
}

struct Cached {
    FingerprintSet set;
    std::string error;
};

const Cached& cached() {
    static const Cached c = [] {
        Cached out;
        std::string path = default_fingerprints_path();
        try {
            out.set = load_fingerprints(path);
        } catch (const FingerprintError& e) {
            out.error = e.what();
        }
        return out;
    }();
    return c;
}

}  // namespace

FingerprintSet parse_fingerprints(const std::string& text, const std::string& origin) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) fail(origin, "", "not a JSON object");
    auto schema = doc.find("schema");
    if (schema == doc.end() || *schema != kFingerprintSchema)
        fail(origin, "", std::string("\"schema\" must be \"") + kFingerprintSchema + "\"");
    auto list = doc.find("fingerprints");
    if (list == doc.end() || !list->is_array() || list->empty()) fail(origin, "", "\"fingerprints\" must be a non-empty list");
    FingerprintSet set;
    std::set<std::string> names;
    for (size_t i = 0; i < list->size(); ++i) {
        Fingerprint f = read_fingerprint((*list)[i], i, origin);
        if (!names.insert(f.name).second) fail(origin, "fingerprint \"" + f.name + "\"", "the name is used twice");
        set.fingerprints.push_back(std::move(f));
    }
    return set;
}

FingerprintSet load_fingerprints(const std::string& path) {
    if (path.empty()) throw FingerprintError(std::string(kFingerprintFile) + ": not found in any test-list directory");
    std::string text;
    try {
        text = read_file(path);
    } catch (const FileError& e) {
        throw FingerprintError(path + ": cannot be read");
    }
    FingerprintSet set = parse_fingerprints(text, path);
    set.path = path;
    return set;
}

std::string default_fingerprints_path() { return find_data_file(kFingerprintFile); }

const FingerprintSet& builtin_fingerprints() { return cached().set; }
const std::string& builtin_fingerprints_error() { return cached().error; }

const Fingerprint* match_http(const FingerprintSet& set, const HttpObservation& http) {
    for (const auto& f : set.fingerprints) {
        if (f.kind != "blockpage") continue;
        if (f.field == "body" && matches(f, http.body_excerpt)) return &f;
        if (f.field == "title" && !http.title.empty() && matches(f, http.title)) return &f;
        if (f.field != "header") continue;
        for (const auto& [name, value] : http.headers)
            if (ascii_iequals(name, f.header) && matches(f, value)) return &f;
    }
    return nullptr;
}

const Fingerprint* match_dns_answer(const FingerprintSet& set, const std::string& answer_value) {
    std::string value = strip_root_dot(answer_value);
    if (value.empty()) return nullptr;
    for (const auto& f : set.fingerprints)
        if (f.kind == "dns_sinkhole" && matches(f, value)) return &f;
    return nullptr;
}

const Fingerprint* match_cert_issuer(const FingerprintSet& set, const std::string& issuer) {
    if (issuer.empty()) return nullptr;
    for (const auto& f : set.fingerprints)
        if (f.kind == "interception_ca" && matches(f, issuer)) return &f;
    return nullptr;
}

namespace {

// The CN of an RFC 2253 subject ("CN=warning.or.kr,O=KCSC"), "" when it has none.
std::string subject_common_name(const std::string& subject) {
    size_t at = subject.rfind("CN=", 0) == 0 ? 0 : subject.find(",CN=");
    if (at == std::string::npos) return "";
    size_t start = subject.find('=', at) + 1;
    return subject.substr(start, subject.find(',', start) - start);
}

}  // namespace

CertNameMatch match_cert_names(const FingerprintSet& set, const CertificateInfo& cert) {
    std::vector<std::string> names = cert.dns_names;
    names.push_back(subject_common_name(cert.subject));
    for (const auto& name : names) {
        std::string plain = name.rfind("*.", 0) == 0 ? name.substr(2) : name;
        if (const auto* f = match_dns_answer(set, plain)) return {f, name};
    }
    return {};
}

}  // namespace meoktong
