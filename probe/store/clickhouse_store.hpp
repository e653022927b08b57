// The scale-out store engine: ClickHouse over its HTTP interface (libcurl),
// store URL "clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE[?cluster=NAME]".
// Works on Debian's clickhouse-server 18.16 and on current releases.
//
// Schema: `records`, a MergeTree table partitioned by toYYYYMM(report_started_at)
// (the first record's time, the same on every row of one report) and ordered
// by (service, cc, started_at). With ?cluster=NAME it is `records_local` on every
// listed shard, and `records` is a Distributed table over NAME (sharding key
// cityHash64(report_key), used only by inserts made through it), created on
// every listed shard too (ClickHouse 18.16 has no ON CLUSTER without ZooKeeper).
//
// ClickHouse has no transactions, so the guarantees rest on what it does
// promise: one INSERT whose rows fall in one partition of one table, below
// max_insert_block_size (1,048,576 rows; a batch has at most
// GroupCommit's 50,000 records or one report of kMaxReportRecords), is
// written as one part per partition and shard, each all or nothing. Hence:
// - all or nothing: a batch of reports is ONE RowBinary insert per shard,
//   written straight into that shard's records_local (each listed host is a
//   shard; the shards in parallel, no Distributed hop), each report to the
//   shard its key hashes to (FNV-1a), so a report lands whole in one part on
//   one shard (a failed batch may leave some of its reports stored whole:
//   their intent rows make them already_stored when sent again). Reads go
//   through the Distributed table, which does not care where a row sits.
//   Parallel parsing, which could split the body into several blocks on
//   releases that have it, is turned off for the insert.
// - idempotency: the look-up table `report_keys` (MergeTree ORDER BY lookup;
//   with a cluster `report_keys_local` on every shard behind a Distributed
//   table sharded by cityHash64(lookup)) holds one row per identity of a
//   report ("k:" + Idempotency-Key, "r:" + run_id) and state: 0 intent,
//   1 committed. store_reports() writes the batch's intent rows, then its ONE
//   records inserts, then the committed rows, and looks identities up there
//   first, reading a few granules of the primary key per shard: O(log n).
//   What holds after a crash at any point:
//     no rows         -> no records were inserted (intent precedes them): store.
//     a committed row -> the records insert was acknowledged: already stored.
//     intent only     -> the crash fell between intent and commit: the records
//                        of that report's own partition (the month of its first
//                        record) are read for the key or run_id; found ->
//                        already stored (and committed), else stored now.
//   So the records table stays the truth and the look-up table can never make
//   a stored report look absent or an absent one look stored. A store made
//   before the table existed gets it filled from the records when opened.
//   The look-up and the inserts run under one lock per Store, so one collector
//   never stores a report twice; two collectors writing the same report into
//   the same cluster at the same instant could (ClickHouse offers no unique
//   constraint): run one collector per cluster.
// - durable: acknowledged by the shard's server. 18.16 does not fsync parts,
//   so a power cut (not a crash of ClickHouse) can lose the last seconds.
#pragma once

#include <memory>

#include "probe/store/store.hpp"
#include "probe/store/store_url.hpp"

namespace meoktong::store {

// Connects, creates the database and tables when missing; throws StoreError.
std::unique_ptr<Store> open_clickhouse_store(const StoreUrl& url);

}  // namespace meoktong::store
