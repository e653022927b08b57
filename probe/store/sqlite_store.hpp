// The embedded store engine: one SQLite file in WAL mode (store URL
// "sqlite:PATH"). One transaction per batch of reports, committed with
// synchronous=FULL, so a report acknowledged as stored survives a crash or a
// power cut and a report interrupted at any point leaves nothing behind.
// Tables: reports (one row per stored report: idempotency_key primary key,
// run_id unique when not empty, probe_label, stored_at_ms, records),
// report_run_ids (every run_id of every report, primary key) and
// records (one row per line: the line as sent and the fields analysis filters
// on; a rowid table with 16 KiB pages, so that a typical 1-3 KB line sits in
// its leaf page instead of an overflow chain). Checkpoints run on a thread of
// the store, off the writer's path (sqlite_store.cpp). Idempotency is decided inside
// that transaction, so two collectors on the same file cannot both store one
// report.
#pragma once

#include <memory>
#include <string>

#include "probe/store/store.hpp"

namespace meoktong::store {

// Opens or creates the file; throws StoreError when it cannot.
std::unique_ptr<Store> open_sqlite_store(const std::string& path);

}  // namespace meoktong::store
