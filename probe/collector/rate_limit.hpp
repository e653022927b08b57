// The collector's rate limits: a token bucket per probe label, and one shared
// bucket for every request that presents no valid token, so a flood of
// unauthenticated requests is answered 429 cheaply without the collector
// ever keeping (or keying anything by) a client's address.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace meoktong::collector {

class TokenBuckets {
public:
    // `per_minute` refill, `burst` capacity, per key.
    TokenBuckets(double per_minute, double burst);
    // Takes one token from `key`'s bucket; false when it is empty.
    bool allow(const std::string& key, std::chrono::steady_clock::time_point now);

private:
    struct Bucket {
        double tokens;
        std::chrono::steady_clock::time_point updated;
    };
    double per_second_, burst_;
    std::map<std::string, Bucket> buckets_;  // keys are probe labels: bounded by the tokens file
    std::mutex mutex_;
};

}  // namespace meoktong::collector
