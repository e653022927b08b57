// The one worker pool (see meoktong/parallel.hpp).
#include "meoktong/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace meoktong {

void parallel_for(size_t count, size_t workers, const std::function<void(size_t)>& fn) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::mutex error_mutex;
    auto work = [&] {
        for (size_t i = next++; i < count && !failed; i = next++) {
            try {
                fn(i);
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!first_error) first_error = std::current_exception();
                failed = true;
            }
        }
    };
    size_t helpers = std::min(std::max<size_t>(workers, 1), count);
    helpers = helpers == 0 ? 0 : helpers - 1;
    {
        std::vector<std::jthread> pool;
        try {
            for (size_t i = 0; i < helpers; ++i) pool.emplace_back(work);
        } catch (const std::system_error&) {
            // out of threads: the ones started and this one run the rest
        }
        work();
    }  // joins the helpers
    if (first_error) std::rethrow_exception(first_error);
}

}  // namespace meoktong
