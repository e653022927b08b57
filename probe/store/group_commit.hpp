// Group commit in front of a Store: the reports that concurrent callers hand
// in while the store is busy are stored together, in one transaction, by one
// writer thread, so that a commit's cost (SQLite's fsync, ClickHouse's insert
// round trips) is paid once per batch instead of once per report. Each caller
// still returns only once its own report is durable.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "probe/store/store.hpp"

namespace meoktong::store {

class GroupCommit {
public:
    // A batch stops growing once it holds `max_batch_records` records (a single
    // larger report is still stored, alone).
    explicit GroupCommit(Store& store, size_t max_batch_records = kDefaultMaxBatchRecords);
    ~GroupCommit();  // waits for the batch being stored, then stops the writer
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    // As Store::store_report: blocks until the batch holding `report` is
    // durable; throws StoreError when the engine failed that batch.
    StoreOutcome store_report(std::string_view idempotency_key, std::string_view probe_label, const Report& report);

    static constexpr size_t kDefaultMaxBatchRecords = 50000;

private:
    struct Waiting;
    void write_batches();

    Store& store_;
    size_t max_batch_records_;
    std::mutex mutex_;
    std::condition_variable work_;
    std::deque<Waiting*> queue_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace meoktong::store
