#pragma once
// Retention: what the store no longer needs is removed in small batches, so the database
// stops growing once the retention windows are full. Each batch is one short transaction
// of at most `batch_rows` rows of one kind; the daemon runs batches one after another on
// the loop, yielding between them, so no request waits behind a long write.
//
// Removed, when older than their window (0 days: kept forever):
// - outbox events the cloud acknowledged (`sent`), by sent_at; pending and dead events
//   stay, and so does the newest sent one (continue_above numbers from it, so no sequence
//   number is ever used twice);
// - inbox records (the cloud's commands applied exactly once), by applied_at; the feed's
//   cursor lives in sync_state, and a command re-sent after its window is years late;
// - closed orders (shipped, collected, cancelled, rejected, expired), by updated_at, with
//   their lines, packages, history, claims, proofs, labels and closed pick lists' entries,
//   all in one transaction. The window is the return window too: a return after it is
//   received without its order (return_receipt.order_id is cleared). Kept whatever their
//   age: orders an open pick list or a pack desk session holds;
// - audit rows, by at;
// - till transactions (a till's receipts, kept so a re-sent one is answered, not applied
//   again), by applied_at; kept while their event is unacknowledged.
// The ledger is folded, not deleted: per SKU and bucket, rows older than ledger_days
// become one 'opening_balance' row (the sum of their deltas, at the first folded row's
// place), so on_hand still equals the ledger's sum. Not folded: rows whose event the
// cloud has not acknowledged (a snapshot re-applies them), rows not yet stamped with an
// event, and rows after the start of an open count session (its variance sums them).
#include <cstdint>
#include <string_view>

#include "domain/domain.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

struct RetentionPolicy {
  int sent_events_days = 7;
  int inbox_days = 30;
  int closed_orders_days = 90;
  int audit_days = 365;
  int ledger_days = 365;
  int batch_rows = 500;
  int till_transactions_days = 90;
};

enum class RetentionKind {
  sent_events,
  inbox,
  closed_orders,
  audit,
  ledger,
  till_transactions,
  closed_counts,
  closed_pick_lists
};
std::string_view retention_kind_name(RetentionKind kind);

struct RetentionBatch {
  RetentionKind kind = RetentionKind::sent_events;
  std::int64_t removed = 0;  // rows deleted (orders: orders; ledger: rows folded away)
  bool more = false;         // false: nothing of any kind is left to remove at `now`
};

class Retention {
 public:
  Retention(Database& db, RetentionPolicy policy) : db_(db), policy_(policy) {}
  void set_policy(RetentionPolicy policy) { policy_ = policy; }

  // One batch of the first kind that has anything old enough, in one transaction.
  Result<RetentionBatch> run_batch(std::int64_t now_ms);

  // Hands up to `pages` free pages back to the file system when the database is in
  // incremental auto-vacuum mode (new databases are; see database.cpp) and returns how
  // many are left to hand back. Otherwise SQLite reuses its free pages itself: 0.
  std::int64_t return_free_pages(int pages);

 private:
  std::int64_t remove(RetentionKind kind, std::int64_t cutoff);
  std::int64_t remove_sent_events(std::int64_t cutoff);
  std::int64_t remove_inbox(std::int64_t cutoff);
  std::int64_t remove_closed_orders(std::int64_t cutoff);
  void remove_order(const std::string& id);
  std::int64_t remove_audit(std::int64_t cutoff);
  std::int64_t remove_till_transactions(std::int64_t cutoff);
  std::int64_t remove_closed_counts(std::int64_t cutoff);
  std::int64_t remove_closed_pick_lists(std::int64_t cutoff);
  std::int64_t fold_ledger(std::int64_t cutoff);
  int days_for(RetentionKind kind) const;

  Database& db_;
  RetentionPolicy policy_;
};

}  // namespace fulfil::agent
