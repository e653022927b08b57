// Plain-language pieces of verdict evidence (internal to analysis/): how to
// name an endpoint, a failure, a DNS answer or a time so that a journalist can
// quote the sentence. Never mentions the probe's own address.
#pragma once

#include <string>
#include <vector>

#include "analysis/verdict/verdict_engine.hpp"

namespace meoktong::verdict {

std::string endpoint(const std::string& ip, uint16_t port);
std::string millis(double ms);
std::string join_words(const std::vector<std::string>& items);   // "a, b and c"
std::string list_addresses(const std::vector<std::string>& ips, size_t max = 4);
std::string resolver_name(const std::string& resolver);           // "the system resolver", "resolver 8.8.8.8:53"
std::string answer_summary(const DnsResponse& r);                 // "10.10.34.35" or "NXDOMAIN"
std::string dns_failure_phrase(Kind k, const std::string& failure);
// "the TLS handshake with 1.2.3.4:443 (SNI line.me) was reset"
std::string describe_outcome(const AddressOutcome& a, const std::string& host);
// What happened at the control, in one clause: "the control connected to 1.2.3.4:443".
std::string describe_control(const Facts& f);
// The app-path failures here, one sentence.
std::string describe_here_failures(const Facts& f);

}  // namespace meoktong::verdict
