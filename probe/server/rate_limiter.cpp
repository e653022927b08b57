// Token buckets and client-address keys (see rate_limiter.hpp).
#include "probe/server/rate_limiter.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace meoktong::server {

using Clock = std::chrono::steady_clock;

RateLimiter::RateLimiter(double per_minute, double burst, size_t max_keys)
    : per_second_(std::max(per_minute, 0.0) / 60.0), burst_(std::max(burst, 1.0)), max_keys_(max_keys) {}

void RateLimiter::forget_idle(Clock::time_point now) {
    std::erase_if(buckets_, [&](const auto& entry) {
        double elapsed = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + elapsed * per_second_ >= burst_;
    });
}

bool RateLimiter::allow(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_keys_) forget_idle(now);
        if (buckets_.size() >= max_keys_) return false;
        it = buckets_.emplace(key, Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.updated).count());
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.updated = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

std::string rate_limit_key(const std::string& ip) {
    unsigned char addr[16];
    if (inet_pton(AF_INET6, ip.c_str(), addr) != 1) return ip;
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char text[INET6_ADDRSTRLEN]{};
    if (std::memcmp(addr, v4_mapped, sizeof v4_mapped) == 0) {
        inet_ntop(AF_INET, addr + 12, text, sizeof text);
        return text;
    }
    std::memset(addr + 8, 0, 8);
    inet_ntop(AF_INET6, addr, text, sizeof text);
    return std::string(text) + "/64";
}

}  // namespace meoktong::server
