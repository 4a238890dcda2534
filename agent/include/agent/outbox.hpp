#pragma once
// Events for the cloud, written in the same transaction as the change they report, so an
// event exists if and only if its change was committed. The sync link drains them.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/storage.hpp"

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
};

struct OutboxStats {
  std::int64_t pending = 0;
  std::int64_t dead = 0;
  std::int64_t oldest_pending_at = 0;  // 0 when nothing is pending
  std::int64_t last_seq = 0;
};

class Outbox {
 public:
  explicit Outbox(Database& db) : db_(db) {}
  // Must be called inside the caller's open Transaction.
  std::int64_t append(const std::string& type, const std::string& subject,
                      const nlohmann::json& payload, std::int64_t at);
  std::vector<OutboxEvent> pending(std::size_t limit);
  std::vector<OutboxEvent> dead(std::size_t limit);
  // Results of delivery, each committed on its own (the cloud's ack is the commit point).
  void mark_sent(const std::vector<std::string>& event_ids, std::int64_t at);
  void mark_dead(const std::string& event_id, const std::string& reason);
  void record_failure(std::int64_t first_seq, std::int64_t last_seq, const std::string& error);
  std::vector<OutboxEvent> since(std::int64_t after_seq, std::size_t limit);
  OutboxStats stats();  // counts the backlog: for health and metrics, not per request
  std::int64_t last_seq();

 private:
  Database& db_;
};

std::string new_uuid();

}  // namespace fulfil::agent
