#pragma once
// Events for the cloud, written in the same transaction as the change they report, so an
// event exists if and only if its change was committed. The sync link drains them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/clock.hpp"
#include "domain/domain.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

struct OutboxEvent {
  std::int64_t seq = 0;  // per-store sequence number, strictly increasing, never reused
  std::string event_id;  // globally unique (UUID v4)
  std::string type;      // "order.accepted", "stock.adjusted", ...
  std::string subject;   // the order id, SKU or return id the event is about
  std::string payload;   // JSON text, as stored (sent on without re-encoding)
  std::int64_t created_at = 0;
  std::string state;  // pending | sent | dead
  int attempts = 0;
  std::string last_error = {};  // why the last delivery failed; a dead letter's reason
};

struct OutboxStats {
  std::int64_t pending = 0;
  std::int64_t dead = 0;
  std::int64_t oldest_pending_at = 0;  // 0 when nothing is pending
  std::int64_t last_seq = 0;
};

// What continue_above() did when the cloud was ahead of this store.
struct SequenceRepair {
  std::int64_t local_highest = 0;  // the highest sequence this database had issued
  std::int64_t cloud_highest = 0;  // the highest the cloud holds
  std::int64_t renumbered = 0;     // unsent events moved above the cloud's
  std::int64_t next_seq = 0;       // the sequence the next new event gets
  std::int64_t detected_at = 0;
};

class Outbox {
 public:
  explicit Outbox(Database& db) : db_(db) {}
  // Must be called inside the caller's open Transaction.
  std::int64_t append(const std::string& type, const std::string& subject,
                      const nlohmann::json& payload, std::int64_t at);
  // The oldest pending events (with a sequence above `after_seq`), in sequence order.
  std::vector<OutboxEvent> pending(std::size_t limit, std::int64_t after_seq = 0);
  std::vector<OutboxEvent> dead(std::size_t limit);
  // Results of delivery, each committed on its own (the cloud's ack is the commit point).
  void mark_sent(const std::vector<std::string>& event_ids, std::int64_t at);
  // The cloud acknowledged these events, but they need not be recorded at once: they are
  // recorded sent by the next change that appends an event (in its transaction, on pages
  // it writes anyway: no write of their own), or by record_acknowledged(), whichever comes
  // first. Until then pending() and stats() leave them out; lost by a crash, they are sent
  // again and the cloud acknowledges them as duplicates (PROTOCOL.md). Bookkeeping only:
  // no change to the store waits on it. Saves the flash a commit per acknowledgement.
  void acknowledge_later(const std::vector<std::int64_t>& seqs, std::int64_t at);
  // Records the acknowledgements held, in a transaction of its own; writes nothing when a
  // change recorded them already.
  void record_acknowledged();
  std::size_t acknowledgements_held() const { return acknowledged_.size(); }
  void mark_dead(const std::string& event_id, const std::string& reason);
  // A dead letter goes back to the queue as it was (same id and sequence), for when the
  // cause the cloud named has been put right; it is sent with the next batch.
  Result<OutboxEvent> retry_dead(const std::string& event_id);
  void record_failure(std::int64_t first_seq, std::int64_t last_seq, const std::string& error);
  std::vector<OutboxEvent> since(std::int64_t after_seq, std::size_t limit);
  OutboxStats stats();  // counts the backlog: for health and metrics, not per request
  std::int64_t last_seq();

  // The cloud says it holds this store's events up to `cloud_highest` (or, `conflict`,
  // that it holds a sequence number of an unsent event under another id). Either means
  // events committed here were lost (a database restored from a backup, a WAL cut by a
  // power loss on a lying disk) while the cloud kept them: numbering on would reuse
  // sequence numbers the cloud already holds. So the unsent events, in their order, are
  // numbered anew above everything the cloud or this store has used (their ledger rows
  // follow them), and new events continue from there. One transaction; nothing when the
  // cloud is not ahead. The repair is recorded (last_repair) for the alarm.
  Result<std::optional<SequenceRepair>> continue_above(std::int64_t cloud_highest, bool conflict,
                                                       std::int64_t now_ms);
  std::optional<SequenceRepair> last_repair();

 private:
  void mark_acknowledged_sent();

  Database& db_;
  std::vector<std::int64_t> acknowledged_;  // sorted; see acknowledge_later()
  std::int64_t acknowledged_at_ = 0;
};

using config::new_uuid;

}  // namespace fulfil::agent
