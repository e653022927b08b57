// Test lists: reads the JSON list format of docs/testlists.md and Citizen Lab
// test-list CSVs into a TestList, validating every entry. Each problem is one
// InputError line naming the file, the entry and the problem.
#include "probe/lists/testlist.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <idn2.h>
#include <libpsl.h>
#include <nlohmann/json.hpp>

#include "meoktong/files.hpp"
#include "meoktong/log.hpp"
#include "meoktong/target.hpp"
#include "meoktong/text.hpp"

namespace meoktong {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void fail(const std::string& origin, const std::string& entry, const std::string& problem) {
    std::string msg = "test list '" + origin + "': " + (entry.empty() ? "" : entry + ": ") + problem;
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    std::replace(msg.begin(), msg.end(), '\r', ' ');
    throw InputError(msg);
}

// ---------------------------------------------------------------- targets ---

bool valid_identifier(const std::string& s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
               c == '_' || c == '-';
    });
}

// Identity of a target inside a list: two entries with the same key are duplicates.
std::string target_key(const Target& t) { return target_uri(t); }

// Reads one JSON object's fields with checks; every error names `entry`.
class Fields {
public:
    Fields(const std::string& origin, std::string entry, const json& obj, std::set<std::string> allowed)
        : origin_(origin), entry_(std::move(entry)), obj_(obj) {
        if (!obj_.is_object()) fail(origin_, entry_, "must be a JSON object");
        for (const auto& [key, value] : obj_.items()) {
            if (!allowed.count(key)) fail(origin_, entry_, "unknown key '" + key + "'");
        }
    }

    bool has(const std::string& key) const { return obj_.contains(key); }

    std::string string(const std::string& key, bool required) const {
        if (!obj_.contains(key)) {
            if (required) fail(origin_, entry_, "missing '" + key + "'");
            return "";
        }
        const json& v = obj_.at(key);
        if (!v.is_string()) fail(origin_, entry_, "'" + key + "' must be a string");
        return v.get<std::string>();
    }

    std::vector<std::string> strings(const std::string& key) const {
        std::vector<std::string> out;
        if (!obj_.contains(key)) return out;
        const json& v = obj_.at(key);
        if (!v.is_array()) fail(origin_, entry_, "'" + key + "' must be an array of strings");
        for (const json& item : v) {
            if (!item.is_string()) fail(origin_, entry_, "'" + key + "' must be an array of strings");
            out.push_back(item.get<std::string>());
        }
        return out;
    }

    const json& array(const std::string& key, bool required) const {
        static const json empty = json::array();
        if (!obj_.contains(key)) {
            if (required) fail(origin_, entry_, "missing '" + key + "'");
            return empty;
        }
        const json& v = obj_.at(key);
        if (!v.is_array()) fail(origin_, entry_, "'" + key + "' must be an array");
        return v;
    }

    const json& at(const std::string& key) const { return obj_.at(key); }
    const std::string& entry() const { return entry_; }

private:
    const std::string& origin_;
    std::string entry_;
    const json& obj_;
};

const std::set<std::string> kTargetKeys = {"host",     "port", "protocol", "path",  "cert_names", "download",
                                           "role",     "required", "group", "sources", "notes"};

uint16_t read_port(const std::string& origin, const Fields& f, const std::string& protocol) {
    if (!f.has("port")) {
        if (port_required(protocol)) fail(origin, f.entry(), "'port' is required for " + protocol);
        return default_port(protocol);
    }
    const json& v = f.at("port");
    if (!v.is_number_integer()) fail(origin, f.entry(), "'port' must be an integer");
    if (protocol == "dns") fail(origin, f.entry(), "dns targets take no 'port'");
    auto port = v.get<int64_t>();
    if (port < 1 || port > 65535)
        fail(origin, f.entry(), "port " + std::to_string(port) + " is out of range 1-65535");
    return static_cast<uint16_t>(port);
}

ListTarget read_target(const std::string& origin, const std::string& entry, const json& obj) {
    Fields f(origin, entry, obj, kTargetKeys);
    ListTarget lt;
    Target& t = lt.target;
    t.host = ascii_lower(f.string("host", true));
    if (t.host.empty()) fail(origin, entry, "'host' is empty");
    if (!is_valid_hostname(t.host)) fail(origin, entry, "'" + t.host + "' is not a valid host name or IP address");
    t.protocol = ascii_lower(f.string("protocol", true));
    if (!is_known_protocol(t.protocol))
        fail(origin, entry, "unknown protocol '" + t.protocol + "' (use " + known_protocols_text() + ")");
    t.port = read_port(origin, f, t.protocol);
    if (f.has("path")) {
        if (t.protocol != "https" && t.protocol != "http") fail(origin, entry, "'path' is only allowed for http and https");
        t.path = f.string("path", false);
        if (t.path.empty() || t.path[0] != '/') fail(origin, entry, "'path' must start with '/'");
    }
    t.cert_names = f.strings("cert_names");
    t.download_url = f.string("download", false);
    if (!t.download_url.empty() && t.download_url.rfind("https://", 0) != 0 && t.download_url.rfind("http://", 0) != 0)
        fail(origin, entry, "'download' must be an http:// or https:// URL");
    t.role = f.string("role", true);
    if (!valid_identifier(t.role)) fail(origin, entry, "'role' must be a lowercase word like messaging, login, media or web");
    if (f.has("required")) {
        if (!f.at("required").is_boolean()) fail(origin, entry, "'required' must be true or false");
        lt.required = f.at("required").get<bool>();
    }
    lt.group = f.string("group", false);
    if (f.has("group") && !valid_identifier(lt.group)) fail(origin, entry, "'group' must be a lowercase word");
    f.string("notes", false);
    if (!f.has("sources")) fail(origin, entry, "missing 'sources' (where the endpoint is documented or observed)");
    lt.sources = f.strings("sources");
    if (lt.sources.empty()) fail(origin, entry, "'sources' is empty (say where the endpoint is documented or observed)");
    for (const auto& s : lt.sources) {
        if (std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); }))
            fail(origin, entry, "'sources' has an empty entry");
    }
    return lt;
}

std::string target_entry(const std::string& prefix, size_t index, const json& obj) {
    std::string entry = prefix + " target " + std::to_string(index + 1);
    if (obj.is_object() && obj.contains("host") && obj["host"].is_string())
        entry += " (" + obj["host"].get<std::string>() + ")";
    return entry;
}

// ------------------------------------------------------------------- JSON ---

std::string json_error_detail(const std::string& what) {
    // nlohmann: "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    // or "[json.exception.out_of_range.406] number overflow parsing '1E999'"
    size_t column = what.find("column");
    size_t pos = column == std::string::npos ? what.find("] ") : what.find(": ", column);
    return pos == std::string::npos ? what : what.substr(pos + 2);
}

json parse_json_text(const std::string& text, const std::string& origin) {
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        size_t line = 1, column = 1;
        for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
            if (text[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        fail(origin, "", "bad JSON at line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
                             json_error_detail(e.what()));
    } catch (const json::exception& e) {  // out_of_range: a number too large for a double
        fail(origin, "", std::string("bad JSON: ") + json_error_detail(e.what()));
    }
}

const std::set<std::string> kListKeys = {"schema", "name", "version", "description", "services", "canaries", "notes"};
const std::set<std::string> kServiceKeys = {"name", "display_name", "description", "targets", "notes"};

void add_unique(const std::string& origin, const std::string& entry, const ListTarget& lt,
                std::map<std::string, std::string>& seen) {
    std::string key = target_key(lt.target);
    auto [it, inserted] = seen.emplace(key, entry);
    if (!inserted) fail(origin, entry, "duplicate target " + key + " (already in " + it->second + ")");
}

Service read_service(const std::string& origin, size_t index, const json& obj,
                     std::map<std::string, std::string>& seen_targets) {
    std::string entry = "service " + std::to_string(index + 1);
    if (obj.is_object() && obj.contains("name") && obj["name"].is_string())
        entry = "service '" + obj["name"].get<std::string>() + "'";
    Fields f(origin, entry, obj, kServiceKeys);
    Service s;
    s.name = f.string("name", true);
    if (!valid_identifier(s.name))
        fail(origin, entry, "'name' must be lowercase letters, digits, '-' or '_' (e.g. \"kakaotalk\")");
    s.display_name = f.string("display_name", false);
    if (s.display_name.empty()) s.display_name = s.name;
    s.description = f.string("description", false);
    f.string("notes", false);
    const json& targets = f.array("targets", true);
    if (targets.empty()) fail(origin, entry, "'targets' is empty");
    for (size_t i = 0; i < targets.size(); ++i) {
        std::string tentry = target_entry(entry, i, targets[i]);
        ListTarget lt = read_target(origin, tentry, targets[i]);
        lt.target.service = s.name;
        add_unique(origin, tentry, lt, seen_targets);
        s.targets.push_back(std::move(lt));
    }
    return s;
}

TestList parse_json_list(const std::string& text, const std::string& origin) {
    json doc = parse_json_text(text, origin);
    Fields f(origin, "top level", doc, kListKeys);
    TestList list;
    list.path = origin;
    if (f.has("schema") && f.string("schema", false) != kTestListSchema)
        fail(origin, "top level", "unknown schema '" + f.string("schema", false) + "' (expected " + kTestListSchema + ")");
    list.name = f.string("name", true);
    if (list.name.empty()) fail(origin, "top level", "'name' is empty");
    list.version = f.string("version", true);
    if (list.version.empty()) fail(origin, "top level", "'version' is empty");
    list.description = f.string("description", false);
    f.string("notes", false);
    std::map<std::string, std::string> seen_targets;
    std::set<std::string> service_names;
    const json& services = f.array("services", true);
    for (size_t i = 0; i < services.size(); ++i) {
        Service s = read_service(origin, i, services[i], seen_targets);
        if (!service_names.insert(s.name).second) fail(origin, "service '" + s.name + "'", "duplicate service name");
        list.services.push_back(std::move(s));
    }
    const json& canaries = f.array("canaries", false);
    for (size_t i = 0; i < canaries.size(); ++i) {
        std::string entry = target_entry("canary", i, canaries[i]);
        ListTarget lt = read_target(origin, entry, canaries[i]);
        lt.target.service = "canary";
        lt.target.canary = true;
        add_unique(origin, entry, lt, seen_targets);
        list.canaries.push_back(std::move(lt));
    }
    if (list.services.empty() && list.canaries.empty()) fail(origin, "top level", "the list has no targets");
    return list;
}

// -------------------------------------------------------- Citizen Lab CSV ---

struct CsvRecord {
    size_t row = 0;  // 1-based record number (the header is row 1)
    std::vector<std::string> fields;
};

// RFC 4180 reader: comma-separated, CRLF or LF records, "quoted" fields that
// may hold commas, newlines and "" for a quote.
std::vector<CsvRecord> read_csv(const std::string& text, const std::string& origin) {
    std::vector<CsvRecord> records;
    CsvRecord current{1, {}};
    std::string field;
    size_t i = 0;
    bool field_started = false;  // something (even "") was read for this record
    auto end_record = [&] {
        current.fields.push_back(std::move(field));
        field.clear();
        bool blank = current.fields.size() == 1 && current.fields[0].empty() && !field_started;
        if (!blank) records.push_back(std::move(current));
        current = CsvRecord{records.size() + 1, {}};
        field_started = false;
    };
    while (i < text.size()) {
        char c = text[i];
        if (c == '"') {
            if (!field.empty()) fail(origin, "row " + std::to_string(current.row), "stray '\"' inside an unquoted field");
            size_t start_row = current.row;
            ++i;
            while (true) {
                if (i >= text.size()) fail(origin, "row " + std::to_string(start_row), "unterminated quoted field");
                if (text[i] == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += text[i++];
            }
            field_started = true;
            if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                fail(origin, "row " + std::to_string(current.row), "text after a closing '\"'");
            continue;
        }
        if (c == ',') {
            current.fields.push_back(std::move(field));
            field.clear();
            field_started = true;
            ++i;
        } else if (c == '\r' || c == '\n') {
            i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
            end_record();
        } else {
            field += c;
            field_started = true;
            ++i;
        }
    }
    if (field_started || !field.empty()) end_record();
    return records;
}

// The registrable domain of `host` by the Public Suffix List (libpsl, the
// system's publicsuffix data when newer than the built-in copy):
// "www.line.me" -> "line.me", "news.kbs.co.kr" -> "kbs.co.kr",
// "alice.github.io" -> "alice.github.io". IP addresses and public suffixes
// themselves stay as they are.
std::string registrable_name(const std::string& host) {
    if (is_ip_literal(host)) return host;
    static const psl_ctx_t* const psl = psl_latest(nullptr);
    const char* domain = psl == nullptr ? nullptr : psl_registrable_domain(psl, host.c_str());
    return domain == nullptr ? host : domain;
}

std::string service_name_for(const std::string& host) {
    std::string name = registrable_name(host);
    std::replace(name.begin(), name.end(), '.', '-');
    std::replace(name.begin(), name.end(), ':', '-');
    return name;
}

// Bytes outside printable ASCII (a UTF-8 path or query, spaces) as %XX, the
// form they take on the wire; everything else, '%' included, as written.
std::string percent_encode_non_ascii(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (c > 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        }
    }
    return out;
}

// HOST[:PORT] with a non-ASCII host name in its IDNA2008 (UTS #46) A-label
// form through libidn2: "пример.рф" -> "xn--e1afmkfd.xn--p1ai".
std::string ascii_authority(const std::string& authority, const std::string& origin, const std::string& entry) {
    if (std::all_of(authority.begin(), authority.end(), [](unsigned char c) { return c < 0x80; })) return authority;
    size_t colon = authority.rfind(':');
    bool has_port = colon != std::string::npos && colon + 1 < authority.size() &&
                    std::all_of(authority.begin() + static_cast<std::ptrdiff_t>(colon) + 1, authority.end(),
                                [](unsigned char c) { return std::isdigit(c); });
    std::string host = has_port ? authority.substr(0, colon) : authority;
    char* ascii = nullptr;
    int rc = idn2_to_ascii_8z(host.c_str(), &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK)
        fail(origin, entry,
             "host '" + host + "' is not a valid internationalized domain name (" + idn2_strerror(rc) + ")");
    std::string out(ascii);
    idn2_free(ascii);
    return has_port ? out + authority.substr(colon) : out;
}

// A Citizen Lab url as the target measured: the fragment dropped (never sent),
// a non-ASCII host through IDNA, a non-ASCII path or query percent-encoded.
Target target_from_url(const std::string& url, const std::string& origin, const std::string& entry) {
    size_t sep = url.find("://");
    std::string scheme = ascii_lower(url.substr(0, sep));
    if (sep == std::string::npos || (scheme != "http" && scheme != "https"))
        fail(origin, entry, "url '" + url + "' is not an http:// or https:// URL");
    std::string rest = url.substr(sep + 3);
    rest = rest.substr(0, rest.find('#'));
    size_t end = rest.find_first_of("/?");
    std::string authority = rest.substr(0, end);
    std::string tail = end == std::string::npos ? "/" : rest.substr(end);
    if (tail.front() == '?') tail.insert(0, "/");
    std::string normalized =
        scheme + "://" + ascii_authority(authority, origin, entry) + percent_encode_non_ascii(tail);
    try {
        return parse_target_uri(normalized);
    } catch (const InputError& e) {
        fail(origin, entry, e.what());
    }
}

std::string file_stem(const std::string& origin) {
    std::string stem = fs::path(origin).stem().string();
    return stem.empty() ? origin : stem;
}

// One data row of a Citizen Lab CSV as a target; throws InputError naming the row.
ListTarget row_target(const CsvRecord& rec, size_t columns, int url_col, int source_col, const std::string& origin) {
    std::string entry = "row " + std::to_string(rec.row);
    if (rec.fields.size() != columns)
        fail(origin, entry, "has " + std::to_string(rec.fields.size()) + " columns, the header has " +
                                std::to_string(columns));
    std::string url(trim(rec.fields[url_col]));
    if (url.empty()) fail(origin, entry, "empty url");
    ListTarget lt;
    lt.target = target_from_url(url, origin, entry);
    lt.target.role = "web";
    std::string source = source_col >= 0 ? rec.fields[source_col] : "";
    lt.sources.push_back("citizenlab:" + (source.empty() ? fs::path(origin).filename().string() : source));
    return lt;
}

TestList parse_citizenlab_csv(const std::string& text, const std::string& origin, const ListOptions& options) {
    std::vector<CsvRecord> records = read_csv(text, origin);
    if (records.empty()) fail(origin, "row 1", "empty file (expected a Citizen Lab header url,category_code,...)");
    std::vector<std::string> header;
    for (const auto& h : records[0].fields) header.push_back(ascii_lower(h));
    auto column = [&](const std::string& name) -> int {
        auto it = std::find(header.begin(), header.end(), name);
        return it == header.end() ? -1 : static_cast<int>(it - header.begin());
    };
    int url_col = column("url"), category_col = column("category_code"), category_desc_col = column("category_description");
    int source_col = column("source");
    if (url_col < 0 || category_col < 0)
        fail(origin, "row 1", "not a Citizen Lab header (needs the columns url and category_code)");

    TestList list;
    list.path = origin;
    list.name = file_stem(origin);
    list.description = "Citizen Lab test list imported from " + fs::path(origin).filename().string();
    std::map<std::string, size_t> service_index;
    std::set<std::string> seen;
    const std::string row_error_prefix = "test list '" + origin + "': ";  // fail()'s, left out of the summary
    std::string first_problem;
    for (size_t r = 1; r < records.size(); ++r) {
        const CsvRecord& rec = records[r];
        ListTarget lt;
        try {
            lt = row_target(rec, header.size(), url_col, source_col, origin);
        } catch (const InputError& e) {
            if (options.strict) throw;
            process_logger().warn("list_row_skipped",
                                  {{"list", origin}, {"row", std::to_string(rec.row)}, {"problem", e.what()}});
            if (first_problem.empty()) first_problem = std::string(e.what()).substr(row_error_prefix.size());
            ++list.rows_skipped;
            continue;
        }
        if (!seen.insert(target_key(lt.target)).second) continue;  // Citizen Lab lists repeat URLs
        std::string name = service_name_for(lt.target.host);
        lt.target.service = name;
        auto [it, inserted] = service_index.emplace(name, list.services.size());
        if (inserted) {
            Service s;
            s.name = name;
            s.display_name = registrable_name(lt.target.host);
            s.description = "citizenlab:" + rec.fields[category_col] +
                            (category_desc_col >= 0 ? " (" + rec.fields[category_desc_col] + ")" : "");
            list.services.push_back(std::move(s));
        }
        list.services[it->second].targets.push_back(std::move(lt));
    }
    if (list.services.empty() && list.rows_skipped > 0)
        fail(origin, "",
             "no usable row (" + std::to_string(list.rows_skipped) + " skipped; first: " + first_problem + ")");
    if (list.services.empty()) fail(origin, "", "no URLs in the file");
    return list;
}

// ---------------------------------------------------------------- loading ---

constexpr std::uintmax_t kMaxListBytes = 16 * 1024 * 1024;  // Citizen Lab's global list is ~200 KB

std::string read_list_file(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) fail(path, "", "is a directory, not a list file");
    auto size = fs::file_size(path, ec);
    if (!ec && size > kMaxListBytes) fail(path, "", "larger than 16 MiB; split it into smaller lists");
    try {
        return read_file(path);
    } catch (const FileError& e) {
        fail(path, "", "cannot read: " + e.reason);
    }
}

bool looks_like_path(const std::string& s) {
    return s.find('/') != std::string::npos || s.ends_with(".json") || s.ends_with(".csv");
}

// The "schema" of a JSON file ("" when it has none); nothing when it does not parse.
std::optional<std::string> schema_of(const fs::path& p) {
    try {
        json doc = json::parse(read_list_file(p.string()));
        if (doc.is_object() && doc.contains("schema") && doc["schema"].is_string()) return doc["schema"].get<std::string>();
        return "";
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

bool is_builtin_file(const fs::path& p) { return p.extension() == ".json" && schema_of(p) == kTestListSchema; }

// A JSON data file of another kind next to the lists (e.g. blockpages.json): not a list.
// A list with a syntax error is still a list, so that its error is reported.
bool is_other_data_file(const fs::path& p) {
    auto schema = schema_of(p);
    return schema && *schema != kTestListSchema;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

}  // namespace

std::string testlists_dir() { return data_dir(); }

std::vector<std::string> builtin_list_names() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(testlists_dir(), ec)) {
        if (is_builtin_file(entry.path())) names.push_back(entry.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TestList parse_list(const std::string& text, const std::string& origin, const ListOptions& options) {
    size_t start = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;  // UTF-8 byte order mark
    std::string body = text.substr(start);
    std::string_view content = trim(body);
    if (content.empty()) fail(origin, "", "the file is empty");
    if (content.front() == '{' || content.front() == '[') return parse_json_list(body, origin);
    if (ascii_lower(content.substr(0, 3)) == "url" || origin.ends_with(".csv"))
        return parse_citizenlab_csv(body, origin, options);
    fail(origin, "", "neither a JSON test list (starts with '{') nor a Citizen Lab CSV (starts with a url,... header)");
}

TestList load_list(const std::string& name_or_path, const ListOptions& options) {
    std::error_code ec;
    if (looks_like_path(name_or_path)) return parse_list(read_list_file(name_or_path), name_or_path, options);
    std::string path = testlists_dir() + "/" + name_or_path + ".json";
    if (!fs::is_regular_file(path, ec) || is_other_data_file(path)) {
        if (fs::is_regular_file(name_or_path, ec))
            return parse_list(read_list_file(name_or_path), name_or_path, options);
        auto names = builtin_list_names();
        fail(name_or_path, "", "no such built-in list or file (built-in lists: " +
                                   (names.empty() ? std::string("none found in ") + testlists_dir() : join(names)) + ")");
    }
    return parse_list(read_list_file(path), path, options);
}

}  // namespace meoktong
