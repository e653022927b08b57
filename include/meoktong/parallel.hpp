// The one worker pool: runs fn(0) .. fn(count - 1) on at most `workers`
// threads (the calling thread is one of them) and returns when all are done.
// Used by the runner (targets), the control server (a request's targets) and
// measuring one target (its addresses).
#pragma once

#include <cstddef>
#include <functional>

namespace meoktong {

// Every index runs exactly once, in no particular order, unless fn throws:
// then no further index is started and the first exception is rethrown once
// every running fn has returned. When the system refuses a thread, the
// threads already started (and the caller) run the rest.
void parallel_for(size_t count, size_t workers, const std::function<void(size_t)>& fn);

}  // namespace meoktong
