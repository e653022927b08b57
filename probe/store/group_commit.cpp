// The group commit's writer thread and its hand-over to the waiting callers
// (see group_commit.hpp).
#include "probe/store/group_commit.hpp"

#include <vector>

namespace meoktong::store {

// One caller's report, on the caller's stack until its batch is done.
struct GroupCommit::Waiting {
    ReportToStore report;
    bool done = false;
    StoreOutcome outcome = StoreOutcome::stored;
    std::exception_ptr error;
    std::condition_variable finished;
};

GroupCommit::GroupCommit(Store& store, size_t max_batch_records)
    : store_(store), max_batch_records_(max_batch_records), writer_([this] { write_batches(); }) {}

GroupCommit::~GroupCommit() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_.notify_all();
    writer_.join();
}

StoreOutcome GroupCommit::store_report(std::string_view idempotency_key, std::string_view probe_label,
                                       const Report& report) {
    Waiting waiting{ReportToStore{idempotency_key, probe_label, &report}, false, StoreOutcome::stored, nullptr, {}};
    std::unique_lock lock(mutex_);
    if (stopping_) throw StoreError("store: the collector is stopping");
    queue_.push_back(&waiting);
    work_.notify_one();
    waiting.finished.wait(lock, [&] { return waiting.done; });
    if (waiting.error) std::rethrow_exception(waiting.error);
    return waiting.outcome;
}

void GroupCommit::write_batches() {
    std::unique_lock lock(mutex_);
    for (;;) {
        work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nobody is waiting
        std::vector<Waiting*> taken;
        size_t records = 0;
        while (!queue_.empty() && (taken.empty() || records + queue_.front()->report.report->records.size() <= max_batch_records_)) {
            records += queue_.front()->report.report->records.size();
            taken.push_back(queue_.front());
            queue_.pop_front();
        }
        lock.unlock();
        std::vector<ReportToStore> batch;
        batch.reserve(taken.size());
        for (const Waiting* w : taken) batch.push_back(w->report);
        std::vector<StoreOutcome> outcomes;
        std::exception_ptr error;
        try {
            outcomes = store_.store_reports(batch);
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        for (size_t i = 0; i < taken.size(); ++i) {
            taken[i]->done = true;
            if (error) taken[i]->error = error;
            else taken[i]->outcome = outcomes[i];
            taken[i]->finished.notify_one();
        }
    }
}

}  // namespace meoktong::store
