// --max-runtime: the soft limit flips expired(), the hard limit calls its
// action, and a disarmed deadline never fires.
#include <doctest/doctest.h>

#include <chrono>
#include <future>

#include "probe/ops/max_runtime.hpp"

using namespace meoktong;
using namespace std::chrono;

TEST_CASE("no limit: never expires, never fires") {
    bool fired = false;
    {
        RunDeadline deadline(std::nullopt, seconds(0), [&] { fired = true; });
        CHECK(!deadline.expired());
    }
    CHECK(!fired);
}

TEST_CASE("past the limit: expired, then the hard action runs once") {
    std::promise<void> fired;
    auto fired_future = fired.get_future();
    int calls = 0;
    RunDeadline deadline(seconds(0), seconds(0), [&] {
        ++calls;
        fired.set_value();
    });
    CHECK(deadline.expired());
    // A generous bound only against hanging the suite; no speed is asserted.
    REQUIRE(fired_future.wait_for(seconds(30)) == std::future_status::ready);
    deadline.disarm();
    CHECK(calls == 1);
}

TEST_CASE("a run that ends in time disarms the deadline") {
    bool fired = false;
    {
        RunDeadline deadline(seconds(3600), seconds(60), [&] { fired = true; });
        CHECK(!deadline.expired());
        deadline.disarm();
    }
    CHECK(!fired);
}
