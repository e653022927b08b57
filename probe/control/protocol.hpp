// The control library (probe/control/): the control vantage abroad. The
// protocol's JSON (this header), the client the probe asks it with, and the
// internet-facing server of `meoktong control serve`.
//
// The control protocol's wire format (SPEC §3), shared by the control server
// and the probe's control client: building, parsing and validating
// POST /v1/measure requests and replies. Both parsers read hostile bytes, so
// they never throw, bound JSON nesting, and check every field's type and range.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meoktong/record.hpp"
#include "meoktong/record_json.hpp"

namespace meoktong::control {

inline constexpr const char* kMeasurePath = "/v1/measure";
inline constexpr const char* kHealthPath = "/v1/health";

// Failure strings a ControlResult can carry (documented in docs/control.md).
// Per target, set by the control server:
inline constexpr const char* kDeadlineExceeded = "control_deadline_exceeded";  // not measured before the request deadline
// For the whole batch, set by the client:
inline constexpr const char* kUnreachablePrefix = "control_unreachable: ";  // + transport failure, e.g. connection_refused
inline constexpr const char* kHttpPrefix = "control_http_";                 // + status code, e.g. control_http_401
inline constexpr const char* kReplyTooLarge = "control_reply_too_large";
inline constexpr const char* kBadReplyPrefix = "control_bad_reply: ";       // + what was wrong with the reply

inline constexpr int kMaxJsonDepth = 32;
inline constexpr size_t kMaxFailureLength = 200;
inline constexpr size_t kMaxPathLength = 2048;
inline constexpr size_t kMaxDownloadUrlLength = 2048;

// True when `text` is JSON whose arrays/objects nest at most `max_depth` deep
// (checked without building a document, so hostile nesting cannot exhaust the stack).
bool json_depth_within(std::string_view text, int max_depth = kMaxJsonDepth);

// --- requests ---------------------------------------------------------------

// The target as it travels on the wire: host, port, protocol, path for http(s),
// and download_url when the target has one.
json target_wire_json(const Target& t);

// The host of a download URL that parse_measure_request accepted (lowercased,
// without brackets), or nullopt when `url` is not such a URL.
std::optional<std::string> download_url_host(const std::string& url);

// The request body the client sends.
std::string measure_request_body(const std::vector<Target>& targets);

struct RequestParse {
    std::vector<Target> targets;
    int status = 200;      // 200 ok, 400 malformed, 413 too many targets
    std::string error;     // one line, for {"error": ...}, when status != 200
    bool ok() const { return status == 200; }
};

// Validates a request body:
// {"targets": [{"host", "port", "protocol", "path"?, "download_url"?}, ...]}
// with 1..max_targets entries. Never throws.
RequestParse parse_measure_request(std::string_view body, size_t max_targets);

// --- replies ----------------------------------------------------------------

struct ServerResult {
    Target target;
    Observations observations;
    std::optional<std::string> failure;
};

// The reply body the server sends. client_address (the address the request
// came from, as the control saw it) lets a probe behind NAT learn its public
// address, to scrub it from its report; left out when empty.
std::string measure_reply_body(const std::vector<ServerResult>& results, const std::string& client_address = "");

// n results that all carry `failure` (requested = true).
std::vector<ControlResult> failed_results(size_t n, const std::string& failure);

// Validates a reply body against the targets that were asked for, matched by
// position (host, port and protocol must agree; an echoed download_url must
// be the one asked for). Any problem fails every
// result with "control_bad_reply: ...". Never throws. When client_address is
// given, it receives the reply's client_address if that is an IP address.
std::vector<ControlResult> parse_measure_reply(std::string_view body, const std::vector<Target>& targets,
                                               std::string* client_address = nullptr);

}  // namespace meoktong::control
