// Token buckets per key (a client address for the control, a probe label or
// the one shared "no valid token" key for the collector), with a bounded table.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace meoktong::server {

// `per_minute` refill, `burst` capacity per key. Holds at most `max_keys`
// buckets (the fullest, i.e. least interesting, are dropped; when all are
// active a new key is refused: fail closed).
class RateLimiter {
public:
    RateLimiter(double per_minute, double burst, size_t max_keys = 65536);
    // Takes one token from `key`'s bucket; false when it is empty.
    bool allow(const std::string& key, std::chrono::steady_clock::time_point now);

private:
    struct Bucket {
        double tokens;
        std::chrono::steady_clock::time_point updated;
    };
    void forget_idle(std::chrono::steady_clock::time_point now);
    double per_second_, burst_;
    size_t max_keys_;
    std::map<std::string, Bucket> buckets_;
    std::mutex mutex_;
};

// The rate-limit key of a client address: IPv4 as is, IPv6 by its /64.
std::string rate_limit_key(const std::string& ip);

}  // namespace meoktong::server
