// Test lists: the built-in lists load and are sourced, every validation error
// names file, entry and problem on one line, and Citizen Lab CSVs import.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "meoktong/log.hpp"
#include "meoktong/target.hpp"
#include "probe/lists/testlist.hpp"

using namespace meoktong;

namespace {

const std::string kLists = std::string(MEOKTONG_TEST_DATA) + "/lists/";
const std::string kSourceLists = std::string(MEOKTONG_SOURCE_DIR) + "/testlists/";

std::string load_error(const std::string& path, const ListOptions& options = {}) {
    try {
        load_list(path, options);
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no error)";
}

std::string parse_error(const std::string& text, const std::string& origin) {
    try {
        parse_list(text, origin);
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no error)";
}

void check_error(const std::string& file, const std::string& entry, const std::string& problem,
                 const ListOptions& options = {}) {
    std::string msg = load_error(kLists + file, options);
    CAPTURE(msg);
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.find(kLists + file) != std::string::npos);
    CHECK(msg.find(entry) != std::string::npos);
    CHECK(msg.find(problem) != std::string::npos);
}

size_t count_targets(const TestList& list) {
    size_t n = list.canaries.size();
    for (const auto& s : list.services) n += s.targets.size();
    return n;
}

// The warnings logged while `body` runs, one line each.
template <typename Body>
std::vector<std::string> warnings_of(Body body) {
    auto lines = std::make_shared<std::vector<std::string>>();
    set_process_logger(Logger([lines](LogLevel, const std::string& line) { lines->push_back(line); }, LogLevel::warn));
    body();
    set_process_logger(Logger::discard());
    return *lines;
}

const Service* find_service(const TestList& list, const std::string& name) {
    for (const auto& s : list.services)
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace

TEST_CASE("each validation error names file, entry and problem") {
    check_error("bad_json.json", "line 5, column 12", "bad JSON");
    check_error("number_overflow.json", "1.5E777777777", "bad JSON: number overflow");  // found by fuzz_testlist
    check_error("unknown_protocol.json", "service 'kakaotalk' target 2 (ticket-loco.kakao.com)", "unknown protocol 'udp'");
    check_error("port_out_of_range.json", "service 'kakaotalk' target 2 (ticket-loco.kakao.com)",
                "port 70000 is out of range 1-65535");
    check_error("duplicate_target.json", "service 'kakaotalk' target 2 (BOOKING-LOCO.kakao.com)",
                "duplicate target tls://booking-loco.kakao.com:443 (already in service 'kakaotalk' target 1");
    check_error("missing_source.json", "service 'kakaotalk' target 2 (ticket-loco.kakao.com)", "missing 'sources'");
    check_error("empty_source.json", "service 'kakaotalk' target 2 (ticket-loco.kakao.com)", "'sources' is empty");
    check_error("missing_host.json", "service 'kakaotalk' target 2", "missing 'host'");
    check_error("unknown_key.json", "service 'kakaotalk' target 2 (ticket-loco.kakao.com)", "unknown key 'requried'");
    check_error("tcp_without_port.json", "service 'kakaotalk' target 2 (ticket-loco.kakao.com)",
                "'port' is required for tcp");
    check_error("duplicate_service.json", "service 'line'", "duplicate service name");
    check_error("csv_wrong_columns.csv", "row 3", "has 4 columns, the header has 6", ListOptions{true});
    check_error("csv_unterminated_quote.csv", "row 2", "unterminated quoted field");
    check_error("csv_bad_url.csv", "row 3", "is not an http:// or https:// URL", ListOptions{true});
    check_error("csv_empty_host.csv", "row 3", "http:///www.blackblocg.info", ListOptions{true});
    check_error("csv_no_usable_row.csv", "", "no usable row (2 skipped; first: row 2: url 'ftp://");
}

TEST_CASE("unreadable files and unknown built-in names are input errors") {
    std::string missing = load_error(kLists + "does_not_exist.json");
    CHECK(missing.find("does_not_exist.json") != std::string::npos);
    CHECK(missing.find("cannot read") != std::string::npos);
    CHECK(load_error(kLists).find("is a directory") != std::string::npos);
    std::string unknown = load_error("no-such-list");
    CHECK(unknown.find("no-such-list") != std::string::npos);
    CHECK(unknown.find("messengers") != std::string::npos);  // lists the names that exist
}

TEST_CASE("more JSON checks: types, ranges, paths, empty text") {
    auto list_with = [](const std::string& target) {
        return R"({"name":"x","version":"1","services":[{"name":"s","targets":[)" + target + "]}]}";
    };
    CHECK(parse_error(list_with(R"({"host":"a.org","protocol":"tls","port":"443","role":"web","sources":["t"]})"), "t.json")
              .find("'port' must be an integer") != std::string::npos);
    CHECK(parse_error(list_with(R"({"host":"a.org","protocol":"tls","port":0,"role":"web","sources":["t"]})"), "t.json")
              .find("port 0 is out of range") != std::string::npos);
    CHECK(parse_error(list_with(R"({"host":"a.org","protocol":"tls","path":"/x","role":"web","sources":["t"]})"), "t.json")
              .find("'path' is only allowed for http and https") != std::string::npos);
    CHECK(parse_error(list_with(R"({"host":"a.org","protocol":"dns","port":53,"role":"web","sources":["t"]})"), "t.json")
              .find("dns targets take no 'port'") != std::string::npos);
    CHECK(parse_error(list_with(R"({"host":"bad host","protocol":"tls","role":"web","sources":["t"]})"), "t.json")
              .find("not a valid host name") != std::string::npos);
    CHECK(parse_error(list_with(R"({"host":"a.org","protocol":"tls","role":"web","sources":["  "]})"), "t.json")
              .find("'sources' has an empty entry") != std::string::npos);
    CHECK(parse_error(list_with(R"({"host":"a.org","protocol":"tls","role":"web","required":"yes","sources":["t"]})"),
                      "t.json")
              .find("'required' must be true or false") != std::string::npos);
    CHECK(parse_error(R"({"name":"x","version":"1","services":[]})", "t.json").find("the list has no targets") !=
          std::string::npos);
    CHECK(parse_error(R"({"schema":"other/v9","name":"x","version":"1","services":[]})", "t.json")
              .find("unknown schema 'other/v9'") != std::string::npos);
    CHECK(parse_error("   \n", "t.json").find("the file is empty") != std::string::npos);
    CHECK(parse_error("hello", "t.txt").find("neither a JSON test list") != std::string::npos);
}

TEST_CASE("a valid JSON list keeps roles, required-ness, groups and defaults") {
    TestList list = parse_list(R"({"name":"mini","version":"v1","services":[{"name":"whatsapp","display_name":"WhatsApp",
        "targets":[
          {"host":"e1.whatsapp.net","port":443,"protocol":"tcp","role":"messaging","group":"chat","sources":["ooni"]},
          {"host":"web.whatsapp.com","protocol":"https","path":"/app","role":"web","required":false,
           "cert_names":["*.whatsapp.com"],"download":"https://web.whatsapp.com/big","sources":["ooni"]}]}],
        "canaries":[{"host":"www.google.com","protocol":"tls","role":"canary","sources":["c"]}]})",
                               "mini.json");
    REQUIRE(list.services.size() == 1);
    const Service& s = list.services[0];
    CHECK(s.display_name == "WhatsApp");
    REQUIRE(s.targets.size() == 2);
    CHECK(s.targets[0].target.service == "whatsapp");
    CHECK(s.targets[0].required);
    CHECK(s.targets[0].group == "chat");
    CHECK(target_uri(s.targets[0].target) == "tcp://e1.whatsapp.net:443");
    CHECK_FALSE(s.targets[1].required);
    CHECK(target_uri(s.targets[1].target) == "https://web.whatsapp.com:443/app");
    CHECK(s.targets[1].target.cert_names == std::vector<std::string>{"*.whatsapp.com"});
    CHECK(s.targets[1].target.download_url == "https://web.whatsapp.com/big");
    REQUIRE(list.canaries.size() == 1);
    CHECK(list.canaries[0].target.canary);
    CHECK(list.canaries[0].target.port == 443);
}

TEST_CASE("the built-in lists all load, validate and are sourced") {
    setenv("MEOKTONG_TESTLISTS", kSourceLists.c_str(), 1);
    auto names = builtin_list_names();
    CHECK(std::set<std::string>(names.begin(), names.end()).count("messengers") == 1);
    CHECK(std::set<std::string>(names.begin(), names.end()).count("kr") == 1);
    CHECK(std::set<std::string>(names.begin(), names.end()).count("cn") == 1);
    for (const auto& name : names) {
        CAPTURE(name);
        TestList list = load_list(name);
        CHECK(list.name == name);
        CHECK_FALSE(list.version.empty());
        CHECK_FALSE(list.canaries.empty());
        std::set<std::string> keys;
        for (const auto& s : list.services) {
            bool any_required = false;
            for (const auto& lt : s.targets) {
                CHECK_FALSE(lt.sources.empty());
                CHECK_FALSE(lt.target.role.empty());
                CHECK(keys.insert(target_uri(lt.target)).second);
                any_required = any_required || lt.required;
            }
            if (s.name != "viber") CHECK_MESSAGE(any_required, s.name);
        }
        for (const auto& lt : list.canaries) CHECK(keys.insert(target_uri(lt.target)).second);
    }
    unsetenv("MEOKTONG_TESTLISTS");
}

TEST_CASE("the messengers list covers every messenger, with Telegram's data centres by address") {
    TestList list = load_list(kSourceLists + "messengers.json");
    for (const char* name : {"kakaotalk", "line", "whatsapp", "telegram", "signal", "wechat", "facebook_messenger", "viber"}) {
        CAPTURE(name);
        CHECK(find_service(list, name) != nullptr);
    }
    const Service* telegram = find_service(list, "telegram");
    REQUIRE(telegram != nullptr);
    std::set<std::string> dcs;
    for (const auto& lt : telegram->targets)
        if (is_ip_literal(lt.target.host)) dcs.insert(lt.target.host);
    for (const char* ip : {"149.154.175.50", "149.154.167.51", "149.154.175.100", "149.154.167.91", "91.108.56.130"})
        CHECK(dcs.count(ip) == 1);
    const Service* whatsapp = find_service(list, "whatsapp");
    REQUIRE(whatsapp != nullptr);
    for (const auto& lt : whatsapp->targets)
        if (lt.target.role == "media") CHECK_FALSE(lt.required);  // one dead media server is not "WhatsApp blocked"
}

TEST_CASE("Citizen Lab CSV import: quoted commas, quotes, line breaks, duplicates") {
    TestList list = load_list(kLists + "citizenlab_sample.csv");
    CHECK(list.name == "citizenlab_sample");
    REQUIRE(count_targets(list) == 4);  // the repeated http://line.me/ is kept once
    const Service* line = find_service(list, "line-me");
    REQUIRE(line != nullptr);
    CHECK(target_uri(line->targets[0].target) == "http://line.me:80/");
    CHECK(line->targets[0].sources == std::vector<std::string>{"citizenlab:citizenlab"});
    CHECK(line->targets[0].target.role == "web");
    const Service* kbs = find_service(list, "kbs-co-kr");
    REQUIRE(kbs != nullptr);
    CHECK(kbs->description.find("News Media, national") != std::string::npos);
    CHECK(kbs->targets[0].sources == std::vector<std::string>{"citizenlab:kr-researchers, 2020"});
    CHECK(find_service(list, "kakao-com") != nullptr);
    const Service* wa = find_service(list, "whatsapp-com");
    REQUIRE(wa != nullptr);
    CHECK(wa->targets[0].sources == std::vector<std::string>{"citizenlab:citizenlab_sample.csv"});
}

TEST_CASE("CSV edge cases: CRLF, missing final newline, stray quotes, query without path") {
    const std::string header = "url,category_code,category_description,date_added,source,notes\r\n";
    TestList crlf = parse_list(header + "https://a.example.org?x=1,NEWS,News,2020-01-01,cl,", "a.csv");
    REQUIRE(crlf.services.size() == 1);
    CHECK(target_uri(crlf.services[0].targets[0].target) == "https://a.example.org:443/?x=1");
    CHECK(parse_error(header + "https://a.org/,NE\"WS,News,2020-01-01,cl,\r\n", "a.csv").find("row 2: stray '\"'") !=
          std::string::npos);
    CHECK(parse_error(header + "\"https://a.org/\"x,NEWS,News,2020-01-01,cl,\r\n", "a.csv")
              .find("row 2: text after a closing") != std::string::npos);
    CHECK(parse_error(header + ",NEWS,News,2020-01-01,cl,\r\n", "a.csv").find("row 2: empty url") != std::string::npos);
    CHECK(parse_error("url,notes\nhttps://a.org/,x\n", "a.csv").find("row 1: not a Citizen Lab header") !=
          std::string::npos);
    CHECK(parse_error(header, "a.csv").find("no URLs") != std::string::npos);
}

// The url cell is trimmed with the core trim: all ASCII white space, so a
// quoted url with a stray line break at its end is the url without it (the old
// copy trimmed only spaces and tabs and kept "\r\n" in the path).
TEST_CASE("CSV url cells are trimmed of any ASCII white space") {
    const std::string header = "url,category_code,category_description,date_added,source,notes\r\n";
    TestList list = parse_list(header + "\" https://a.org/x\r\n\",NEWS,News,2020-01-01,cl,\r\n", "a.csv");
    REQUIRE(list.services.size() == 1);
    CHECK(target_uri(list.services[0].targets[0].target) == "https://a.org:443/x");
}

TEST_CASE("built-in names: only files with the test-list schema; other data files are not lists") {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("meoktong-lists-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; };
    write("mine.json", R"({"schema":"meoktong.testlist/v1","name":"mine","version":"1","services":[],
        "canaries":[{"host":"www.example.org","protocol":"tls","role":"canary","sources":["t"]}]})");
    write("blockpages.json", R"({"schema":"meoktong.blockpages/v1","fingerprints":[]})");
    write("plain.json", R"({"fingerprints":[]})");
    write("broken.json", R"({"schema":"meoktong.testlist/v1",)");
    setenv("MEOKTONG_TESTLISTS", dir.c_str(), 1);
    CHECK(builtin_list_names() == std::vector<std::string>{"mine"});
    CHECK(load_list("mine").canaries.size() == 1);
    CHECK(load_error("blockpages").find("no such built-in list or file (built-in lists: mine)") != std::string::npos);
    CHECK(load_error("plain").find("no such built-in list") != std::string::npos);
    CHECK(load_error("broken").find("bad JSON") != std::string::npos);
    unsetenv("MEOKTONG_TESTLISTS");
    fs::remove_all(dir);
}

TEST_CASE("Citizen Lab CSV: an unusable row is skipped with a warning naming file and row, and counted") {
    struct Case {
        std::string file, row, problem;
    };
    for (const Case& c : std::vector<Case>{{"csv_bad_url.csv", "row=3", "is not an http:// or https:// URL"},
                                           {"csv_wrong_columns.csv", "row=3", "has 4 columns, the header has 6"},
                                           {"csv_empty_host.csv", "row=3", "http:///www.blackblocg.info"}}) {
        CAPTURE(c.file);
        TestList list;
        auto warnings = warnings_of([&] { list = load_list(kLists + c.file); });
        CHECK(list.rows_skipped == 1);
        CHECK(count_targets(list) >= 1);
        REQUIRE(warnings.size() == 1);
        CHECK(warnings[0].find("event=list_row_skipped") != std::string::npos);
        CHECK(warnings[0].find(kLists + c.file) != std::string::npos);
        CHECK(warnings[0].find(c.row) != std::string::npos);
        CHECK(warnings[0].find(c.problem) != std::string::npos);
    }
    TestList old_ru = load_list(kLists + "csv_empty_host.csv");
    CHECK(count_targets(old_ru) == 2);  // the rows around the broken one are measured
    CHECK(load_list(kLists + "citizenlab_sample.csv").rows_skipped == 0);
}

TEST_CASE("Citizen Lab CSV: --strict refuses the list on its first unusable row") {
    CHECK(load_error(kLists + "csv_empty_host.csv", ListOptions{true}).find("row 3") != std::string::npos);
    CHECK(load_error(kLists + "csv_empty_host.csv") == "(no error)");
    CHECK(load_error(kLists + "citizenlab_sample.csv", ListOptions{true}) == "(no error)");
}

TEST_CASE("Citizen Lab CSV: fragments are dropped, rows differing only by fragment are one target") {
    TestList list = load_list(kLists + "csv_fragment.csv");
    CHECK(list.rows_skipped == 0);
    REQUIRE(count_targets(list) == 2);
    const Service* twitter = find_service(list, "twitter-com");
    REQUIRE(twitter != nullptr);
    REQUIRE(twitter->targets.size() == 1);
    CHECK(target_uri(twitter->targets[0].target) == "https://twitter.com:443/");
    const Service* example = find_service(list, "example-org");
    REQUIRE(example != nullptr);
    CHECK(target_uri(example->targets[0].target) == "http://www.example.org:80/");
}

TEST_CASE("Citizen Lab CSV: non-ASCII paths and queries are percent-encoded") {
    TestList list = load_list(kLists + "csv_non_ascii_path.csv");
    REQUIRE(count_targets(list) == 2);
    const Service* wiki = find_service(list, "wikipedia-org");
    REQUIRE(wiki != nullptr);
    CHECK(wiki->targets[0].target.path == "/wiki/%D0%9D%D0%B0%D0%B2%D0%B0%D0%BB%D1%8C%D0%BD%D1%8B%D0%B9");
    const Service* example = find_service(list, "example-org");
    REQUIRE(example != nullptr);
    CHECK(example->targets[0].target.path == "/a%20b?q=%C3%BC");
}

TEST_CASE("Citizen Lab CSV: non-ASCII host names go through IDNA; an invalid one is a skipped row") {
    TestList list;
    auto warnings = warnings_of([&] { list = load_list(kLists + "csv_idn_host.csv"); });
    REQUIRE(count_targets(list) == 2);
    const Service* rf = find_service(list, "xn--e1afmkfd-xn--p1ai");
    REQUIRE(rf != nullptr);
    CHECK(target_uri(rf->targets[0].target) == "http://xn--e1afmkfd.xn--p1ai:80/");
    const Service* buecher = find_service(list, "xn--bcher-kva-example");
    REQUIRE(buecher != nullptr);
    CHECK(target_uri(buecher->targets[0].target) == "https://xn--bcher-kva.example:8443/x");
    CHECK(list.rows_skipped == 1);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("row=4") != std::string::npos);
    CHECK(warnings[0].find("not a valid internationalized domain name") != std::string::npos);
}

TEST_CASE("Citizen Lab CSV: rows are grouped by registrable domain (Public Suffix List)") {
    TestList list = load_list(kLists + "csv_psl_grouping.csv");
    std::set<std::string> names;
    for (const auto& s : list.services) names.insert(s.name);
    CHECK(names == std::set<std::string>{"alice-github-io", "bob-github-io", "carol-blogspot-com", "kbs-co-kr",
                                         "bbc-co-uk"});
    const Service* kbs = find_service(list, "kbs-co-kr");
    REQUIRE(kbs != nullptr);
    CHECK(kbs->targets.size() == 2);  // www. and news. are one site
    CHECK(kbs->display_name == "kbs.co.kr");
}
