#include "domain/retention.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "domain/transaction.hpp"

namespace fulfil::agent {

namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
constexpr std::array kKinds{RetentionKind::sent_events,   RetentionKind::inbox,
                            RetentionKind::closed_orders, RetentionKind::audit,
                            RetentionKind::ledger,        RetentionKind::till_transactions,
                            RetentionKind::closed_counts, RetentionKind::closed_pick_lists};
// An order goes with its lines, packages and history: it counts as this many rows of a
// batch.
constexpr int kRowsPerOrder = 10;

std::int64_t retention_scalar(Database& db, std::string_view sql) {
  auto s = db.prepare(sql);
  s.step();
  return s.int64(0);
}

// Deletes by rowid what `select` (binding the cutoff and a limit) lists, each id through
// every statement of `deletes` in turn (children first).
std::int64_t delete_listed(Database& db, std::string_view select,
                           std::initializer_list<std::string_view> deletes, std::int64_t cutoff,
                           int limit) {
  std::vector<std::int64_t> ids;
  {
    auto s = db.prepare(select);
    s.bind(1, cutoff).bind(2, limit);
    while (s.step()) ids.push_back(s.int64(0));
  }
  for (const auto id : ids)
    for (const auto del : deletes) db.prepare(del).bind(1, id).run();
  return static_cast<std::int64_t>(ids.size());
}

}  // namespace

std::string_view retention_kind_name(RetentionKind kind) {
  switch (kind) {
    case RetentionKind::sent_events:
      return "sent_events";
    case RetentionKind::inbox:
      return "inbox";
    case RetentionKind::closed_orders:
      return "closed_orders";
    case RetentionKind::audit:
      return "audit";
    case RetentionKind::ledger:
      return "ledger";
    case RetentionKind::till_transactions:
      return "till_transactions";
    case RetentionKind::closed_counts:
      return "closed_counts";
    case RetentionKind::closed_pick_lists:
      return "closed_pick_lists";
  }
  return "?";
}

int Retention::days_for(RetentionKind kind) const {
  switch (kind) {
    case RetentionKind::sent_events:
      return policy_.sent_events_days;
    case RetentionKind::inbox:
      return policy_.inbox_days;
    case RetentionKind::closed_orders:
    case RetentionKind::closed_counts:  // the work of the same days, kept as long
    case RetentionKind::closed_pick_lists:
      return policy_.closed_orders_days;
    case RetentionKind::audit:
      return policy_.audit_days;
    case RetentionKind::ledger:
      return policy_.ledger_days;
    case RetentionKind::till_transactions:
      return policy_.till_transactions_days;
  }
  return 0;
}

Result<RetentionBatch> Retention::run_batch(std::int64_t now_ms) {
  for (const auto kind : kKinds) {
    const int days = days_for(kind);
    if (days <= 0) continue;  // kept forever
    const std::int64_t cutoff = now_ms - days * kDayMs;
    auto removed =
        commit_or_rollback(db_, [&]() -> Result<std::int64_t> { return remove(kind, cutoff); });
    if (!removed) return unexpected(removed.error());
    if (*removed > 0) return RetentionBatch{kind, *removed, true};
  }
  return RetentionBatch{RetentionKind::sent_events, 0, false};
}

std::int64_t Retention::remove(RetentionKind kind, std::int64_t cutoff) {
  switch (kind) {
    case RetentionKind::sent_events:
      return remove_sent_events(cutoff);
    case RetentionKind::inbox:
      return remove_inbox(cutoff);
    case RetentionKind::closed_orders:
      return remove_closed_orders(cutoff);
    case RetentionKind::audit:
      return remove_audit(cutoff);
    case RetentionKind::ledger:
      return fold_ledger(cutoff);
    case RetentionKind::till_transactions:
      return remove_till_transactions(cutoff);
    case RetentionKind::closed_counts:
      return remove_closed_counts(cutoff);
    case RetentionKind::closed_pick_lists:
      return remove_closed_pick_lists(cutoff);
  }
  return 0;
}

std::int64_t Retention::remove_sent_events(std::int64_t cutoff) {
  // The newest sent event stays: continue_above numbers pending events from the highest
  // non-pending seq, and with it gone could hand out a number the cloud already has.
  return delete_listed(db_,
                       "SELECT seq FROM outbox WHERE state='sent' AND sent_at < ? AND seq < "
                       "(SELECT max(seq) FROM outbox WHERE state='sent') ORDER BY seq LIMIT ?",
                       {"DELETE FROM outbox WHERE seq=? AND state='sent'"}, cutoff,
                       policy_.batch_rows);
}

std::int64_t Retention::remove_inbox(std::int64_t cutoff) {
  return delete_listed(db_,
                       "SELECT rowid FROM inbox WHERE applied_at < ? ORDER BY applied_at LIMIT ?",
                       {"DELETE FROM inbox WHERE rowid=?"}, cutoff, policy_.batch_rows);
}

std::int64_t Retention::remove_audit(std::int64_t cutoff) {
  // The oldest rows by id, not an index on `at` (one more page written per audited request,
  // migration 025): rows are appended in time order, and a row whose clock ran back waits
  // for the rows before it, so nothing goes before its time.
  return delete_listed(db_,
                       "SELECT id FROM (SELECT id, at FROM audit ORDER BY id LIMIT ?2) "
                       "WHERE at < ?1",
                       {"DELETE FROM audit WHERE id=?"}, cutoff, policy_.batch_rows);
}

// The table has no rowid (keyed by till and receipt number). A receipt whose event the
// cloud has not acknowledged stays: a re-sent copy must still be answered as a duplicate
// while the sale may yet be delivered.
std::int64_t Retention::remove_till_transactions(std::int64_t cutoff) {
  std::vector<std::pair<std::string, std::string>> keys;
  {
    auto s = db_.prepare(
        "SELECT till_id, transaction_id FROM till_transaction t WHERE applied_at < ? AND NOT "
        "EXISTS (SELECT 1 FROM outbox o WHERE o.seq=t.event_seq AND o.state <> 'sent') "
        "ORDER BY applied_at LIMIT ?");
    s.bind(1, cutoff).bind(2, policy_.batch_rows);
    while (s.step()) keys.emplace_back(s.text(0), s.text(1));
  }
  for (const auto& [till, receipt] : keys)
    db_.prepare("DELETE FROM till_transaction WHERE till_id=? AND transaction_id=?")
        .bind(1, till)
        .bind(2, receipt)
        .run();
  return static_cast<std::int64_t>(keys.size());
}

std::int64_t Retention::remove_closed_orders(std::int64_t cutoff) {
  std::vector<std::string> ids;
  {
    auto s = db_.prepare(
        "SELECT id FROM fulfilment_order o INDEXED BY order_closed_by_updated WHERE state IN "
        "('shipped','collected','cancelled','rejected','expired') AND updated_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM station_session s WHERE s.order_id=o.id) "
        "AND NOT EXISTS (SELECT 1 FROM pick_list_order p JOIN pick_list l ON "
        "l.id=p.pick_list_id WHERE p.order_id=o.id AND l.state='open') "
        "ORDER BY updated_at LIMIT ?");
    s.bind(1, cutoff).bind(2, std::max(1, policy_.batch_rows / kRowsPerOrder));
    while (s.step()) ids.push_back(s.text(0));
  }
  for (const auto& id : ids) remove_order(id);
  return static_cast<std::int64_t>(ids.size());
}

// Approved or cancelled stock counts, with their lines and scans: what approving posted is
// in the ledger (folded like every other movement), the session is only its working.
std::int64_t Retention::remove_closed_counts(std::int64_t cutoff) {
  return delete_listed(
      db_,
      "SELECT id FROM count_session WHERE state IN ('approved','cancelled') "
      "AND closed_at < ? ORDER BY id LIMIT ?",
      {"DELETE FROM count_scan WHERE session_id=?",
       "DELETE FROM count_session_line WHERE session_id=?", "DELETE FROM count_session WHERE id=?"},
      cutoff, std::max(1, policy_.batch_rows / kRowsPerOrder));
}

// A closed pick list goes once closed-order retention has taken every order it held (an
// order still kept keeps its list, which the order's history may name).
std::int64_t Retention::remove_closed_pick_lists(std::int64_t cutoff) {
  return delete_listed(db_,
                       "SELECT id FROM pick_list l WHERE state='closed' AND closed_at < ? AND "
                       "NOT EXISTS (SELECT 1 FROM pick_list_order p WHERE p.pick_list_id=l.id) "
                       "ORDER BY id LIMIT ?",
                       {"DELETE FROM pick_list WHERE id=?"}, cutoff, policy_.batch_rows);
}

// Children first: the schema's foreign keys (enforced) have no ON DELETE.
void Retention::remove_order(const std::string& id) {
  static constexpr std::array kChildren{
      "DELETE FROM reservation WHERE order_id=?", "DELETE FROM package_item WHERE order_id=?",
      "DELETE FROM package WHERE order_id=?", "DELETE FROM order_line WHERE order_id=?",
      "DELETE FROM order_history WHERE order_id=?", "DELETE FROM order_claim WHERE order_id=?",
      "DELETE FROM pickup_proof WHERE order_id=?", "DELETE FROM carrier_label WHERE order_id=?",
      "DELETE FROM pick_list_order WHERE order_id=?",
      // The return keeps its lines (and their ledger rows name the order); it no longer
      // points at an order that is gone.
      "UPDATE return_receipt SET order_id=NULL WHERE order_id=?",
      "DELETE FROM fulfilment_order WHERE id=?"};
  for (const char* sql : kChildren) db_.prepare(sql).bind(1, id).run();
}

std::int64_t Retention::fold_ledger(std::int64_t cutoff) {
  // Rows after the start of an open count session stay as they are: its variance is the
  // sum of the movements since it started.
  const std::int64_t below = retention_scalar(
      db_,
      "SELECT coalesce(min(start_ledger_id), 9223372036854775807) FROM count_session "
      "WHERE state IN ('counting','review')");
  struct Group {
    std::int64_t first_id = 0;
    std::int64_t last_at = 0;
    std::int64_t sum = 0;
    std::vector<std::int64_t> ids;
  };
  std::map<std::pair<std::string, std::string>, Group> groups;
  {
    auto s = db_.prepare(
        "SELECT id, sku, bucket, delta, at FROM ledger l WHERE at < ? AND id <= ? AND "
        "kind <> 'opening_balance' AND event_seq IS NOT NULL AND event_seq >= 0 AND NOT "
        "EXISTS (SELECT 1 FROM outbox o WHERE o.seq=l.event_seq AND o.state <> 'sent') "
        "ORDER BY id LIMIT ?");
    s.bind(1, cutoff).bind(2, below).bind(3, policy_.batch_rows);
    while (s.step()) {
      auto& g = groups[{s.text(1), s.text(2)}];
      if (g.ids.empty()) g.first_id = s.int64(0);
      g.ids.push_back(s.int64(0));
      g.sum += s.int64(3);
      g.last_at = std::max(g.last_at, s.int64(4));
    }
  }
  std::int64_t folded = 0;
  for (const auto& [key, g] : groups) {
    for (const auto id : g.ids) db_.prepare("DELETE FROM ledger WHERE id=?").bind(1, id).run();
    folded += static_cast<std::int64_t>(g.ids.size());
    db_.prepare(
           "UPDATE ledger SET delta = delta + ?, at = max(at, ?) WHERE sku=? AND bucket=? AND "
           "kind='opening_balance'")
        .bind(1, g.sum)
        .bind(2, g.last_at)
        .bind(3, key.first)
        .bind(4, key.second)
        .run();
    if (db_.changes() > 0) continue;
    // The first opening balance of this SKU and bucket takes the first folded row's id,
    // so the ledger still reads in order. Counted as seen by the cloud (event_seq 0):
    // only acknowledged movements are folded.
    db_.prepare(
           "INSERT INTO ledger (id, sku, bucket, delta, kind, reason, actor, order_id, at, "
           "event_seq) VALUES (?,?,?,?,'opening_balance','earlier movements folded by "
           "retention','system:retention',NULL,?,0)")
        .bind(1, g.first_id)
        .bind(2, key.first)
        .bind(3, key.second)
        .bind(4, g.sum)
        .bind(5, g.last_at)
        .run();
  }
  return folded;
}

std::int64_t Retention::return_free_pages(int pages) {
  constexpr std::int64_t kIncremental = 2;
  if (retention_scalar(db_, "PRAGMA auto_vacuum") != kIncremental) return 0;
  if (pages > 0) db_.exec("PRAGMA incremental_vacuum(" + std::to_string(pages) + ")");
  return retention_scalar(db_, "PRAGMA freelist_count");
}

}  // namespace fulfil::agent
