// Privacy: the probe's own addresses must never appear in a report. A
// Scrubber holds those addresses (the local interfaces' at run start, plus
// the public address the control vantage saw) and blanks them, in every spelling an
// echo service uses (dotted, reverse-DNS, dashed host names, hex, integer;
// IPv6 compressed, expanded, nibble), out of free-text fields and out of the address fields a
// lying resolver could fill with them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "meoktong/record.hpp"

namespace meoktong {

inline constexpr const char* kScrubbed = "[scrubbed]";

class Scrubber {
public:
    // Adds an IPv4/IPv6 address to remove; anything else is ignored.
    void add(const std::string& address);
    const std::vector<std::string>& addresses() const { return addresses_; }

    // text with every whole occurrence of an address replaced by kScrubbed.
    std::string apply(std::string_view text) const;
    // The same for text that was cut at its end: a trailing beginning of an
    // address ("... 203.0.1") is blanked too.
    std::string apply_cut(std::string_view text) const;
    // Scrubs the free-text fields (failure and raw error strings, HTTP header
    // names and values, titles, body excerpts, packet details) and the
    // address fields (DNS answers, connected IPs, URLs, packet sources).
    void apply(Observations& obs) const;
    void apply(Record& record) const;

    struct Spelling {
        std::string text;  // lower-case
        bool hex;          // hex digits and ':' continue it (IPv6 and hex spellings)
    };

private:
    std::vector<std::string> addresses_;  // lower-case
    std::vector<Spelling> spellings_;     // every spelling of every address
};

}  // namespace meoktong
