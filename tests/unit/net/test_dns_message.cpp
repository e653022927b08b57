// The one DNS message reader on hostile bytes: header fields, the question's
// name and offset through compression pointers, pointer loops and overruns.
#include <doctest/doctest.h>

#include <vector>

#include "probe/net/dns_message.hpp"

using namespace meoktong;

namespace {

// A response header (id 0x1234, QR, TC when asked) with one question and no answers.
std::vector<uint8_t> header(bool truncated = false) {
    return {0x12, 0x34, static_cast<uint8_t>(truncated ? 0x82 : 0x80), 0x83, 0, 1, 0, 0, 0, 0, 0, 0};
}

}  // namespace

TEST_CASE("the header: id, QR, TC, rcode, question count") {
    auto h = parse_dns_header(header(true));
    REQUIRE(h);
    CHECK(h->id == 0x1234);
    CHECK(h->is_response);
    CHECK(h->truncated);
    CHECK(h->rcode == 3);
    CHECK(h->questions == 1);
    CHECK_FALSE(parse_dns_header(std::vector<uint8_t>(11, 0)));
}

TEST_CASE("the question: name as written, then its type and class offset") {
    auto m = header();
    for (uint8_t b : std::vector<uint8_t>{3, 'W', 'w', 'W', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1}) m.push_back(b);
    auto q = dns_question(m);
    REQUIRE(q);
    CHECK(q->name == "WwW.example");
    CHECK(q->type_class_at == m.size() - 4);
    CHECK(dns_question_name(m) == "www.example");

    auto no_type = m;
    no_type.resize(no_type.size() - 1);  // the class is cut
    CHECK_FALSE(dns_question(no_type));
}

TEST_CASE("compression pointers that loop or point outside the message are rejected") {
    auto loop = header();
    for (uint8_t b : {0xc0, 12, 0, 1, 0, 1}) loop.push_back(b);  // a pointer to itself
    CHECK_FALSE(dns_question(loop));
    auto outside = header();
    for (uint8_t b : {0xc0, 200, 0, 1, 0, 1}) outside.push_back(b);
    CHECK_FALSE(dns_question(outside));
    CHECK(dns_address_records(loop, kDnsTypeA).answers.empty());
    CHECK(dns_address_answers(outside).empty());
}
