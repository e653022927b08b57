// Test-only DNS wire helpers: hand-assembled response packets and a minimal
// reader of the question of a query, for the fake DNS servers of the tests
// (unit tests feed the packets to the parser, loopback tests serve them).
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

namespace meoktong::testing {

struct TestAnswer {
    int type;         // 1 = A, 28 = AAAA
    std::string ip;
    uint32_t ttl = 300;
};

struct TestQuestion {
    uint16_t id = 0;
    std::string name;  // without the trailing dot
    int type = 0;
    bool ok = false;
};

inline void put16(std::vector<unsigned char>& p, unsigned v) {
    p.push_back(static_cast<unsigned char>(v >> 8));
    p.push_back(static_cast<unsigned char>(v));
}

inline std::vector<unsigned char> build_response(uint16_t id, const std::string& name, int qtype, int rcode,
                                                 const std::vector<TestAnswer>& answers) {
    std::vector<unsigned char> p;
    put16(p, id);
    p.push_back(0x81);                                    // QR, RD
    p.push_back(static_cast<unsigned char>(0x80 | rcode));  // RA, rcode
    put16(p, 1);
    put16(p, static_cast<unsigned>(answers.size()));
    put16(p, 0);
    put16(p, 0);
    size_t start = 0;
    for (size_t dot = name.find('.'); ; dot = name.find('.', start)) {
        std::string label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        p.push_back(static_cast<unsigned char>(label.size()));
        p.insert(p.end(), label.begin(), label.end());
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    p.push_back(0);
    put16(p, static_cast<unsigned>(qtype));
    put16(p, 1);
    for (const auto& a : answers) {
        unsigned char rdata[16];
        int family = a.type == 28 ? AF_INET6 : AF_INET;
        inet_pton(family, a.ip.c_str(), rdata);
        size_t len = family == AF_INET6 ? 16 : 4;
        p.push_back(0xC0);
        p.push_back(12);  // pointer to the question name
        put16(p, static_cast<unsigned>(a.type));
        put16(p, 1);
        put16(p, a.ttl >> 16);
        put16(p, a.ttl & 0xFFFF);
        put16(p, static_cast<unsigned>(len));
        p.insert(p.end(), rdata, rdata + len);
    }
    return p;
}

inline TestQuestion read_question(const unsigned char* data, size_t len) {
    TestQuestion q;
    if (len < 17) return q;
    q.id = static_cast<uint16_t>(data[0] << 8 | data[1]);
    size_t i = 12;
    while (i < len && data[i] != 0) {
        size_t l = data[i];
        if (l > 63 || i + 1 + l >= len) return q;
        if (!q.name.empty()) q.name += '.';
        q.name.append(reinterpret_cast<const char*>(data + i + 1), l);
        i += 1 + l;
    }
    if (i + 4 >= len) return q;
    q.type = data[i + 1] << 8 | data[i + 2];
    q.ok = true;
    return q;
}

}  // namespace meoktong::testing
