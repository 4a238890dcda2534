#include "domain/outbox.hpp"

#include <algorithm>

#include "domain/transaction.hpp"

namespace fulfil::agent {

namespace {
std::vector<OutboxEvent> read_events(Statement& s);
}

std::int64_t Outbox::append(const std::string& type, const std::string& subject,
                            const nlohmann::json& payload, std::int64_t at) {
  // The next number above every number ever issued: the highest in the table, or the
  // floor a sequence repair left when it moved numbering above the cloud's (migration 025
  // dropped AUTOINCREMENT, whose sqlite_sequence row was a page written per event).
  db_.prepare(
         "INSERT INTO outbox (seq, event_id, type, subject, payload, created_at) VALUES ("
         "max((SELECT coalesce(max(seq), 0) FROM outbox), (SELECT coalesce(max(CAST(value AS "
         "INTEGER)), 0) FROM sync_state WHERE key='outbox_seq_floor')) + 1, ?,?,?,?,?)")
      .bind(1, config::new_time_ordered_uuid(at))
      .bind(2, type)
      .bind(3, subject)
      .bind(4, payload.dump())
      .bind(5, at)
      .run();
  auto s = db_.prepare("SELECT last_insert_rowid()");
  s.step();
  const std::int64_t seq = s.int64(0);
  // Ledger rows written by this transaction belong to this event: a snapshot taken by the
  // cloud before it applied `seq` does not include them.
  db_.prepare("UPDATE ledger SET event_seq=? WHERE event_seq IS NULL").bind(1, seq).run();
  // Acknowledgements held ride along (kept in memory too: this transaction may still roll
  // back; record_acknowledged() then finds them pending and writes them itself).
  if (!acknowledged_.empty()) mark_acknowledged_sent();
  return seq;
}

void Outbox::mark_acknowledged_sent() {
  db_.prepare(
         "UPDATE outbox SET state='sent', sent_at=?1 WHERE seq IN "
         "(SELECT value FROM json_each(?2)) AND +state='pending'")
      .bind(1, acknowledged_at_)
      .bind(2, nlohmann::json(acknowledged_).dump())
      .run();
}

void Outbox::acknowledge_later(const std::vector<std::int64_t>& seqs, std::int64_t at) {
  acknowledged_.insert(acknowledged_.end(), seqs.begin(), seqs.end());
  std::sort(acknowledged_.begin(), acknowledged_.end());
  acknowledged_.erase(std::unique(acknowledged_.begin(), acknowledged_.end()), acknowledged_.end());
  acknowledged_at_ = at;
}

void Outbox::record_acknowledged() {
  if (acknowledged_.empty()) return;
  Transaction tx(db_);
  mark_acknowledged_sent();
  tx.commit();
  acknowledged_.clear();
}

void Outbox::mark_sent(const std::vector<std::string>& event_ids, std::int64_t at) {
  // One statement for the whole acknowledgement (ids passed as a JSON array). The unary
  // '+' keeps SQLite on the event_id index: through the state index it would walk every
  // pending event, once per batch, during a backlog drain.
  Transaction tx(db_);
  db_.prepare(
         "UPDATE outbox SET state='sent', sent_at=?1 WHERE +state='pending' AND event_id IN "
         "(SELECT value FROM json_each(?2))")
      .bind(1, at)
      .bind(2, nlohmann::json(event_ids).dump())
      .run();
  tx.commit();
}

void Outbox::mark_dead(const std::string& event_id, const std::string& reason) {
  Transaction tx(db_);
  db_.prepare("UPDATE outbox SET state='dead', last_error=? WHERE event_id=? AND state='pending'")
      .bind(1, reason)
      .bind(2, event_id)
      .run();
  tx.commit();
}

Result<OutboxEvent> Outbox::retry_dead(const std::string& event_id) {
  Transaction tx(db_);
  auto s = db_.prepare(
      "SELECT seq, event_id, type, subject, payload, created_at, state, attempts, last_error "
      "FROM outbox WHERE event_id = ?");
  s.bind(1, event_id);
  auto found = read_events(s);
  if (found.empty()) return fail(DomainErrc::not_found, "no event " + event_id + " in the outbox");
  if (found[0].state != "dead")
    return fail(DomainErrc::illegal_transition,
                "event " + event_id + " is " + found[0].state +
                    ", not a dead letter: only dead letters are sent again");
  db_.prepare("UPDATE outbox SET state='pending', attempts=0 WHERE event_id=?")
      .bind(1, event_id)
      .run();
  tx.commit();
  found[0].state = "pending";
  found[0].attempts = 0;
  return found[0];
}

void Outbox::record_failure(std::int64_t first_seq, std::int64_t last_seq,
                            const std::string& error) {
  Transaction tx(db_);
  db_.prepare(
         "UPDATE outbox SET attempts=attempts+1, last_error=? WHERE seq BETWEEN ? AND ? AND +"
         "state='pending'")
      .bind(1, error)
      .bind(2, first_seq)
      .bind(3, last_seq)
      .run();
  tx.commit();
}

std::vector<OutboxEvent> Outbox::dead(std::size_t limit) {
  auto s = db_.prepare(
      "SELECT seq, event_id, type, subject, payload, created_at, state, attempts, last_error "
      "FROM outbox "
      "WHERE state = 'dead' ORDER BY seq LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(limit));
  return read_events(s);
}

namespace {
std::vector<OutboxEvent> read_events(Statement& s) {
  std::vector<OutboxEvent> out;
  while (s.step()) {
    OutboxEvent e;
    e.seq = s.int64(0);
    e.event_id = s.text(1);
    e.type = s.text(2);
    e.subject = s.text(3);
    e.payload = s.text(4);
    e.created_at = s.int64(5);
    e.state = s.text(6);
    e.attempts = static_cast<int>(s.int64(7));
    e.last_error = s.text(8);
    out.push_back(std::move(e));
  }
  return out;
}
}  // namespace

std::vector<OutboxEvent> Outbox::pending(std::size_t limit, std::int64_t after_seq) {
  // Acknowledged events not recorded yet are not pending (acknowledge_later).
  auto s = db_.prepare(
      "SELECT seq, event_id, type, subject, payload, created_at, state, attempts, last_error "
      "FROM outbox "
      "WHERE state = 'pending' AND seq > ?1 AND seq NOT IN (SELECT value FROM json_each(?3)) "
      "ORDER BY seq LIMIT ?2");
  s.bind(1, after_seq)
      .bind(2, static_cast<std::int64_t>(limit))
      .bind(3, nlohmann::json(acknowledged_).dump());
  return read_events(s);
}

std::vector<OutboxEvent> Outbox::since(std::int64_t after_seq, std::size_t limit) {
  auto s = db_.prepare(
      "SELECT seq, event_id, type, subject, payload, created_at, state, attempts, last_error "
      "FROM outbox "
      "WHERE seq > ? ORDER BY seq LIMIT ?");
  s.bind(1, after_seq).bind(2, static_cast<std::int64_t>(limit));
  return read_events(s);
}

OutboxStats Outbox::stats() {
  OutboxStats st;
  // Acknowledged events not recorded yet are not pending (acknowledge_later).
  auto s = db_.prepare(
      "SELECT (SELECT count(*) FROM outbox WHERE state='pending' AND seq NOT IN "
      "(SELECT value FROM json_each(?1))),"
      " (SELECT count(*) FROM outbox WHERE state='dead'),"
      " (SELECT coalesce(min(created_at),0) FROM outbox WHERE state='pending' AND seq NOT IN "
      "(SELECT value FROM json_each(?1))),"
      " (SELECT coalesce(max(seq),0) FROM outbox)");
  s.bind(1, nlohmann::json(acknowledged_).dump());
  if (s.step()) {
    st.pending = s.int64(0);
    st.dead = s.int64(1);
    st.oldest_pending_at = s.int64(2);
    st.last_seq = s.int64(3);
  }
  return st;
}

std::int64_t Outbox::last_seq() {
  auto s = db_.prepare("SELECT coalesce(max(seq),0) FROM outbox");
  return s.step() ? s.int64(0) : 0;
}

}  // namespace fulfil::agent

namespace fulfil::agent {
namespace {

std::int64_t single_int(Database& db, const char* sql) {
  auto s = db.prepare(sql);
  return s.step() ? s.int64(0) : 0;
}

SequenceRepair repair_from(const nlohmann::json& j) {
  return {j.value("local_highest", std::int64_t{0}), j.value("cloud_highest", std::int64_t{0}),
          j.value("renumbered", std::int64_t{0}), j.value("next_seq", std::int64_t{0}),
          j.value("detected_at", std::int64_t{0})};
}

}  // namespace

Result<std::optional<SequenceRepair>> Outbox::continue_above(std::int64_t cloud_highest,
                                                             bool conflict, std::int64_t now_ms) {
  // Renumbering moves pending events: acknowledgements held by number are recorded first.
  record_acknowledged();
  return commit_or_rollback(db_, [&]() -> Result<std::optional<SequenceRepair>> {
    // The highest sequence ever issued here: in the table (retention keeps the newest sent
    // event) or the floor an earlier repair left.
    const std::int64_t local_highest =
        std::max(single_int(db_, "SELECT coalesce(max(seq),0) FROM outbox"),
                 single_int(db_,
                            "SELECT coalesce(max(CAST(value AS INTEGER)),0) FROM sync_state "
                            "WHERE key='outbox_seq_floor'"));
    if (!conflict && cloud_highest <= local_highest) return std::optional<SequenceRepair>();
    // Above the cloud's and above every event that is not waiting to be sent (sent ones are
    // the cloud's anyway; dead letters keep their numbers).
    const std::int64_t base =
        std::max(cloud_highest, single_int(db_,
                                           "SELECT coalesce(max(seq),0) FROM outbox WHERE "
                                           "state != 'pending'"));
    std::vector<std::int64_t> pending;
    {
      auto s = db_.prepare("SELECT seq FROM outbox WHERE state='pending' ORDER BY seq");
      while (s.step()) pending.push_back(s.int64(0));
    }
    // Negated first, so no new number meets an old one on the way (seq is unique, and a
    // ledger row's event_seq must move exactly once).
    db_.prepare(
           "UPDATE ledger SET event_seq = -event_seq WHERE event_seq IN "
           "(SELECT seq FROM outbox WHERE state='pending')")
        .run();
    db_.prepare("UPDATE outbox SET seq = -seq WHERE state='pending'").run();
    std::int64_t next = base;
    for (const std::int64_t old : pending) {
      ++next;
      db_.prepare("UPDATE outbox SET seq=? WHERE seq=?").bind(1, next).bind(2, -old).run();
      db_.prepare("UPDATE ledger SET event_seq=? WHERE event_seq=?")
          .bind(1, next)
          .bind(2, -old)
          .run();
    }
    // New events continue above all of it.
    db_.prepare(
           "INSERT INTO sync_state (key, value) VALUES ('outbox_seq_floor', ?1) ON "
           "CONFLICT(key) DO UPDATE SET value=max(CAST(value AS INTEGER), ?1)")
        .bind(1, next)
        .run();
    const SequenceRepair repair{local_highest, cloud_highest,
                                static_cast<std::int64_t>(pending.size()), next + 1, now_ms};
    db_.prepare(
           "INSERT INTO sync_state (key, value) VALUES ('sequence_repair', ?) "
           "ON CONFLICT(key) DO UPDATE SET value=excluded.value")
        .bind(1, nlohmann::json{{"local_highest", repair.local_highest},
                                {"cloud_highest", repair.cloud_highest},
                                {"renumbered", repair.renumbered},
                                {"next_seq", repair.next_seq},
                                {"detected_at", repair.detected_at}}
                     .dump())
        .run();
    return std::optional<SequenceRepair>(repair);
  });
}

std::optional<SequenceRepair> Outbox::last_repair() {
  auto s = db_.prepare("SELECT value FROM sync_state WHERE key='sequence_repair'");
  if (!s.step()) return std::nullopt;
  const auto j = nlohmann::json::parse(s.text(0), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  return repair_from(j);
}

}  // namespace fulfil::agent
