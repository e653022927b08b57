// Parsing the probe token file and looking tokens up (see tokens.hpp).
#include "probe/collector/tokens.hpp"

#include <openssl/evp.h>

#include <set>

#include "meoktong/files.hpp"
#include "meoktong/target.hpp"
#include "meoktong/text.hpp"

namespace meoktong::collector {
namespace {

std::string sha256(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) return {};
    return std::string(reinterpret_cast<const char*>(digest), length);
}

bool is_label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

}  // namespace

ProbeTokens ProbeTokens::parse(std::string_view text) {
    ProbeTokens tokens;
    std::set<std::string> labels;
    size_t line_no = 0, pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = trim(text.substr(pos, end - pos));
        pos = end + 1;
        ++line_no;
        if (line.empty() || line[0] == '#') continue;
        auto bad = [&](const std::string& why) {
            return InputError("tokens file line " + std::to_string(line_no) + ": " + why);
        };
        size_t space = 0;
        while (space < line.size() && !is_space(line[space])) ++space;
        std::string_view label = line.substr(0, space);
        std::string_view token = trim(line.substr(space));
        if (token.empty()) throw bad("expected LABEL TOKEN");
        if (label.size() > kMaxLabelLength) throw bad("label longer than " + std::to_string(kMaxLabelLength));
        for (char c : label)
            if (!is_label_char(c)) throw bad("label '" + std::string(label) + "' has characters other than letters, digits, '.', '_', '-'");
        for (char c : token)
            if (is_space(c) || static_cast<unsigned char>(c) < 0x21) throw bad("the token has spaces or control characters");
        if (token.size() < kMinTokenLength)
            throw bad("the token is shorter than " + std::to_string(kMinTokenLength) + " characters");
        if (!labels.insert(std::string(label)).second) throw bad("label '" + std::string(label) + "' given twice");
        if (!tokens.labels_.emplace(sha256(token), std::string(label)).second)
            throw bad("the token of '" + std::string(label) + "' is another probe's too");
    }
    return tokens;
}

ProbeTokens ProbeTokens::read_file(const std::string& path) {
    std::string text;
    try {
        text = meoktong::read_file(path);
    } catch (const FileError& e) {
        throw InputError(std::string("tokens file: ") + e.what());
    }
    try {
        return parse(text);
    } catch (const InputError& e) {
        throw InputError(path + ": " + e.what());
    }
}

std::optional<std::string> ProbeTokens::label_for(std::string_view header) const {
    constexpr std::string_view scheme = "bearer ";
    if (header.size() <= scheme.size() || ascii_lower(header.substr(0, scheme.size())) != scheme) return std::nullopt;
    auto it = labels_.find(sha256(header.substr(scheme.size())));
    if (it == labels_.end()) return std::nullopt;
    return it->second;
}

}  // namespace meoktong::collector
