// Token buckets of the collector's rate limits (see rate_limit.hpp).
#include "probe/collector/rate_limit.hpp"

#include <algorithm>

namespace meoktong::collector {

TokenBuckets::TokenBuckets(double per_minute, double burst)
    : per_second_(std::max(per_minute, 0.0) / 60.0), burst_(std::max(burst, 1.0)) {}

bool TokenBuckets::allow(const std::string& key, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto [it, added] = buckets_.try_emplace(key, Bucket{burst_, now});
    Bucket& b = it->second;
    double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.updated).count());
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.updated = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

}  // namespace meoktong::collector
