// Privacy: the probe's own addresses must never appear in a report. A
// Scrubber holds those addresses (the local interfaces' at run start, plus
// any public address learnt later) and blanks them out of free-text fields.
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
    // Scrubs the free-text fields: failure and raw error strings, HTTP header
    // values, titles and body excerpts, packet details.
    void apply(Observations& obs) const;
    void apply(Record& record) const;

private:
    std::vector<std::string> addresses_;  // lower-case
};

// The non-loopback addresses of this host's interfaces (getifaddrs).
std::vector<std::string> local_addresses();

}  // namespace meoktong
