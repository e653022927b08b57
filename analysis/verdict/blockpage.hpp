// Known blockpage, DNS-sinkhole and interception-CA fingerprints
// (testlists/blockpages.json, each with its sources): loading with validation,
// and the pure matchers the verdict engine uses on HTTP answers, DNS answers
// certificate issuers and the names a certificate is for.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "meoktong/record.hpp"

namespace meoktong {

inline constexpr const char* kFingerprintSchema = "meoktong.fingerprints/v1";
inline constexpr const char* kFingerprintFile = "blockpages.json";

struct Fingerprint {
    std::string name;         // unique, e.g. "kr.kcsc.warning_or_kr.location"
    std::string country;      // ISO 3166 alpha-2, "ZZ" when seen in many countries
    std::string kind;         // "blockpage" | "dns_sinkhole" | "interception_ca"
    std::string description;  // what it is, in one sentence
    std::string field;        // "body" | "title" | "header" | "dns_answer" | "cert_issuer"
    std::string header;       // lowercase header name when field == "header"
    std::string match;        // "contains" | "prefix" | "full" (ASCII case-insensitive)
    std::string pattern;
    std::vector<std::string> sources;  // http(s) URLs documenting it
};

struct FingerprintSet {
    std::string path;  // where it was read from ("" for text parsed in memory)
    std::vector<Fingerprint> fingerprints;
};

// One line naming the file, the entry and the problem.
struct FingerprintError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses and validates the fingerprint file; throws FingerprintError.
FingerprintSet parse_fingerprints(const std::string& text, const std::string& origin);
FingerprintSet load_fingerprints(const std::string& path);

// The file in the first data directory that holds it (meoktong/files.hpp data_dirs()).
std::string default_fingerprints_path();

// The default file, loaded once (thread-safe) and cached; an empty set when it
// could not be loaded, with the reason in builtin_fingerprints_error().
const FingerprintSet& builtin_fingerprints();
const std::string& builtin_fingerprints_error();

// Pure matchers: the first fingerprint that matches, or nullptr.
const Fingerprint* match_http(const FingerprintSet& set, const HttpObservation& http);
const Fingerprint* match_dns_answer(const FingerprintSet& set, const std::string& answer_value);
const Fingerprint* match_cert_issuer(const FingerprintSet& set, const std::string& issuer);

// A certificate for a known blockpage host: its subject CN or a SAN (a wildcard
// "*.NAME" counts as NAME) matches a DNS-sinkhole name fingerprint.
struct CertNameMatch {
    const Fingerprint* fingerprint = nullptr;
    std::string name;  // the certificate's name that matched
};
CertNameMatch match_cert_names(const FingerprintSet& set, const CertificateInfo& cert);

}  // namespace meoktong
