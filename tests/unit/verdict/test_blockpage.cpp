// Blockpage / DNS-sinkhole / interception-CA fingerprints: the shipped file is
// valid and sourced, the loader rejects malformed entries with one-line errors
// naming the entry, the default location honours MEOKTONG_TESTLISTS, and the
// matchers match what they should and nothing else.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/verdict/blockpage.hpp"

using namespace meoktong;
namespace fs = std::filesystem;

namespace {

const std::string kShipped = std::string(MEOKTONG_TEST_DATA) + "/../../testlists/blockpages.json";

nlohmann::json one_entry(nlohmann::json match, std::string kind = "blockpage") {
    return {{"schema", kFingerprintSchema},
            {"fingerprints",
             {{{"name", "t.one"},
               {"country", "KR"},
               {"kind", kind},
               {"description", "test"},
               {"match", match},
               {"sources", {"https://example.org/source"}}}}}};
}

std::string parse_error(const nlohmann::json& doc) {
    try {
        parse_fingerprints(doc.dump(), "fp.json");
    } catch (const FingerprintError& e) {
        return e.what();
    }
    return "";
}

HttpObservation http_with(std::vector<std::pair<std::string, std::string>> headers, std::string body = "", std::string title = "") {
    HttpObservation h;
    h.headers = std::move(headers);
    h.body_excerpt = std::move(body);
    h.title = std::move(title);
    return h;
}

}  // namespace

TEST_CASE("the shipped fingerprint file is valid, sourced, and covers Korea's warning.or.kr") {
    FingerprintSet set = load_fingerprints(kShipped);
    REQUIRE(set.fingerprints.size() >= 15);
    int kr = 0;
    for (const auto& f : set.fingerprints) {
        CAPTURE(f.name);
        CHECK_FALSE(f.sources.empty());
        if (f.country == "KR" && f.pattern.find("warning.or.kr") != std::string::npos) ++kr;
    }
    CHECK(kr >= 3);  // body, Location header, DNS answer
    CHECK(match_dns_answer(set, "10.10.34.35") != nullptr);
    CHECK(match_cert_issuer(set, "C=KZ, CN=Qaznet Trust Network") != nullptr);
}

TEST_CASE("a certificate names a blockpage host by its subject CN or a SAN, wildcards included") {
    FingerprintSet set = load_fingerprints(kShipped);
    CertificateInfo cert;
    cert.subject = "CN=warning.or.kr,O=KCSC,C=KR";
    auto by_cn = match_cert_names(set, cert);
    REQUIRE(by_cn.fingerprint != nullptr);
    CHECK(by_cn.name == "warning.or.kr");
    cert.subject = "O=KCSC,CN=block.example";
    CHECK(match_cert_names(set, cert).fingerprint == nullptr);
    cert.dns_names = {"other.example", "*.warning.or.kr"};
    auto by_san = match_cert_names(set, cert);
    REQUIRE(by_san.fingerprint != nullptr);
    CHECK(by_san.name == "*.warning.or.kr");
    cert.dns_names = {"line.me"};
    cert.subject = "CN=line.me";
    CHECK(match_cert_names(set, cert).fingerprint == nullptr);
}

TEST_CASE("fingerprint loader rejects malformed entries, naming them") {
    nlohmann::json good_match = {{"field", "body"}, {"type", "contains"}, {"pattern", "blocked"}};
    CHECK(parse_error(one_entry(good_match)).empty());
    CHECK(parse_error(nlohmann::json::object()).find("schema") != std::string::npos);
    CHECK(parse_error("not json").find("fp.json") == 0);

    auto bad_field = one_entry({{"field", "cookie"}, {"type", "contains"}, {"pattern", "x"}});
    CHECK(parse_error(bad_field).find("fingerprint \"t.one\"") != std::string::npos);
    auto bad_type = one_entry({{"field", "body"}, {"type", "regexp"}, {"pattern", "x"}});
    CHECK(parse_error(bad_type).find("unknown match type") != std::string::npos);
    auto header_without_name = one_entry({{"field", "header"}, {"type", "prefix"}, {"pattern", "http://"}});
    CHECK(parse_error(header_without_name).find("\"header\"") != std::string::npos);
    auto sinkhole_on_body = one_entry(good_match, "dns_sinkhole");
    CHECK(parse_error(sinkhole_on_body).find("cannot match a dns_sinkhole") != std::string::npos);
    auto empty_pattern = one_entry({{"field", "body"}, {"type", "contains"}, {"pattern", ""}});
    CHECK(parse_error(empty_pattern).find("pattern") != std::string::npos);

    auto no_sources = one_entry(good_match);
    no_sources["fingerprints"][0]["sources"] = nlohmann::json::array();
    CHECK(parse_error(no_sources).find("sources") != std::string::npos);
    auto not_url = one_entry(good_match);
    not_url["fingerprints"][0]["sources"] = {"OONI"};
    CHECK(parse_error(not_url).find("not an http(s) URL") != std::string::npos);
    auto bad_cc = one_entry(good_match);
    bad_cc["fingerprints"][0]["country"] = "Korea";
    CHECK(parse_error(bad_cc).find("country") != std::string::npos);
    auto twice = one_entry(good_match);
    twice["fingerprints"].push_back(twice["fingerprints"][0]);
    CHECK(parse_error(twice).find("used twice") != std::string::npos);
    CHECK_THROWS_AS(load_fingerprints("/nonexistent/blockpages.json"), FingerprintError);
}

TEST_CASE("matchers: header names and values ignore case, body needs the pattern, DNS names lose the root dot") {
    FingerprintSet set = load_fingerprints(kShipped);
    const Fingerprint* f = match_http(set, http_with({{"LOCATION", "HTTP://Warning.or.kr/i1.html"}}));
    REQUIRE(f != nullptr);
    CHECK(f->name == "kr.kcsc.warning_or_kr.location");
    CHECK(match_http(set, http_with({{"Location", "https://line.me/en/"}})) == nullptr);
    CHECK(match_http(set, http_with({}, "<iframe src=\"http://warning.or.kr/i1.html\">")) != nullptr);
    CHECK(match_http(set, http_with({}, "<p>an ordinary page</p>", "LINE")) == nullptr);
    CHECK(match_http(set, http_with({{"X-Note", "warning.or.kr"}})) == nullptr);  // only the Location header is fingerprinted

    CHECK(match_dns_answer(set, "warning.or.kr.") != nullptr);
    CHECK(match_dns_answer(set, "notwarning.or.kr") == nullptr);  // "full" match, not a suffix
    CHECK(match_dns_answer(set, "147.92.1.1") == nullptr);
    CHECK(match_dns_answer(set, "") == nullptr);
    CHECK(match_cert_issuer(set, "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1") == nullptr);
    CHECK(match_cert_issuer(set, "") == nullptr);
}

TEST_CASE("the default fingerprint file is looked up through MEOKTONG_TESTLISTS first") {
    fs::path dir = fs::temp_directory_path() / ("meoktong-fp-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::copy_file(kShipped, dir / kFingerprintFile, fs::copy_options::overwrite_existing);
    const char* old = std::getenv("MEOKTONG_TESTLISTS");
    std::string saved = old ? old : "";
    setenv("MEOKTONG_TESTLISTS", dir.c_str(), 1);
    CHECK(default_fingerprints_path() == (dir / kFingerprintFile).string());
    setenv("MEOKTONG_TESTLISTS", (dir / "missing").c_str(), 1);
    CHECK(default_fingerprints_path() != (dir / kFingerprintFile).string());
    CHECK_FALSE(default_fingerprints_path().empty());  // falls back to the build or source tree
    if (old)
        setenv("MEOKTONG_TESTLISTS", saved.c_str(), 1);
    else
        unsetenv("MEOKTONG_TESTLISTS");
    fs::remove_all(dir);
}
