// The collector's probe tokens: a file of "LABEL TOKEN" lines, one per probe,
// so one probe can be revoked (its line deleted, SIGHUP) without touching the
// others. Blank lines and lines starting with '#' are skipped. Tokens are kept
// only as SHA-256 digests and looked up by the digest of what a request
// presents, so neither a token nor its length leaks through timing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace meoktong::collector {

inline constexpr size_t kMinTokenLength = 16;
inline constexpr size_t kMaxLabelLength = 64;

class ProbeTokens {
public:
    // Parses the file's text. Throws InputError naming the line ("tokens file
    // line 3: ..."), never quoting a token: a line that is not LABEL TOKEN, a
    // label not of letters, digits, '.', '_', '-' (at most kMaxLabelLength), a
    // token shorter than kMinTokenLength or with spaces, a label or a token
    // given twice.
    static ProbeTokens parse(std::string_view text);
    // Reads and parses FILE; throws InputError.
    static ProbeTokens read_file(const std::string& path);

    // The label of the probe whose token an "Authorization: Bearer TOKEN"
    // header carries (scheme case-insensitive), or nullopt.
    std::optional<std::string> label_for(std::string_view authorization_header) const;
    size_t size() const { return labels_.size(); }

private:
    std::unordered_map<std::string, std::string> labels_;  // SHA-256 of the token -> label
};

}  // namespace meoktong::collector
