// The error answers both servers share (probe/server/guarded_server.hpp):
// the JSON error body and the 429, without a socket.
#include <doctest/doctest.h>

#include "probe/server/guarded_server.hpp"

using namespace meoktong::server;

TEST_CASE("reply_error: the status and a one-line JSON body, quotes and bad UTF-8 escaped") {
    httplib::Response res;
    reply_error(res, 413, "too \"big\"");
    CHECK(res.status == 413);
    CHECK(res.body == R"({"error":"too \"big\""})");
    CHECK(res.get_header_value("Content-Type") == "application/json");
    reply_error(res, 400, "bad \xff byte");
    CHECK(res.body == "{\"error\":\"bad \xef\xbf\xbd byte\"}");
}

TEST_CASE("reply_rate_limited: 429 with Retry-After") {
    httplib::Response res;
    reply_rate_limited(res);
    CHECK(res.status == 429);
    CHECK(res.get_header_value("Retry-After") == "60");
    CHECK(res.body == R"({"error":"rate limited"})");
}
