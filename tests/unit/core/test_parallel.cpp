// The worker pool: every index runs exactly once on at most `workers`
// threads; an exception from fn comes out of parallel_for (the first one,
// unchanged) and stops further indices.
#include <doctest/doctest.h>

#include <atomic>
#include <initializer_list>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "meoktong/parallel.hpp"

using namespace meoktong;

TEST_CASE("every index runs exactly once, whatever the number of workers") {
    for (size_t workers : std::initializer_list<size_t>{0, 1, 3, 8, 64}) {
        for (size_t count : std::initializer_list<size_t>{0, 1, 7, 500}) {
            CAPTURE(workers);
            CAPTURE(count);
            std::vector<std::atomic<int>> runs(count);
            parallel_for(count, workers, [&](size_t i) { ++runs.at(i); });
            for (size_t i = 0; i < count; ++i) CHECK(runs[i] == 1);
        }
    }
}

TEST_CASE("no more threads than workers, the caller among them") {
    std::mutex mutex;
    std::set<std::thread::id> threads;
    parallel_for(200, 4, [&](size_t) {
        std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
    });
    CHECK(threads.size() >= 1);
    CHECK(threads.size() <= 4);

    std::thread::id ran_on;
    parallel_for(1, 4, [&](size_t) { ran_on = std::this_thread::get_id(); });
    CHECK(ran_on == std::this_thread::get_id());  // one index needs no helper thread
}

TEST_CASE("the exception fn throws comes out unchanged, and later indices are not started") {
    std::vector<int> ran;
    auto throws_at_three = [&](size_t i) {
        ran.push_back(static_cast<int>(i));
        if (i == 3) throw std::invalid_argument("index 3");
    };
    CHECK_THROWS_WITH_AS(parallel_for(10, 1, throws_at_three), "index 3", std::invalid_argument);
    CHECK(ran == std::vector<int>{0, 1, 2, 3});

    std::vector<std::atomic<int>> runs(100);
    CHECK_THROWS_AS(parallel_for(100, 8, [&](size_t i) {
                        ++runs[i];
                        if (i % 10 == 0) throw std::runtime_error("every tenth");
                    }),
                    std::runtime_error);
    for (const auto& r : runs) CHECK(r <= 1);
}
