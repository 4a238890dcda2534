#include "stock_ledger.hpp"

namespace fulfil::agent {

std::optional<StockLevel> StockLedger::level(const std::string& sku) {
  auto s = db_.prepare(
      "SELECT sku, title, bin, on_hand, reserved, unsellable, safety_stock FROM sku WHERE sku=?");
  s.bind(1, sku);
  if (!s.step()) return std::nullopt;
  return StockLevel{s.text(0),  s.text(1),  s.text(2), s.int64(3),
                    s.int64(4), s.int64(5), s.int64(6)};
}

Result<void> StockLedger::post(const Movement& m, const CommandContext& ctx) {
  auto current = level(m.sku);
  if (!current) return fail(DomainErrc::unknown_sku, "unknown SKU " + m.sku);
  std::int64_t on_hand = current->on_hand;
  std::int64_t unsellable = current->unsellable;
  (m.bucket == Bucket::on_hand ? on_hand : unsellable) += m.delta;
  if (on_hand < 0)
    return fail(DomainErrc::insufficient_stock,
                "SKU " + m.sku + " has " + std::to_string(current->on_hand) +
                    " on hand; cannot remove " + std::to_string(-m.delta));
  if (unsellable < 0)
    return fail(DomainErrc::insufficient_stock,
                "SKU " + m.sku + " has " + std::to_string(current->unsellable) +
                    " unsellable; cannot remove " + std::to_string(-m.delta));
  if (unsellable > on_hand)
    return fail(DomainErrc::invalid_argument,
                "SKU " + m.sku + " would have " + std::to_string(unsellable) +
                    " unsellable units but only " + std::to_string(on_hand) + " on hand");
  db_.prepare("UPDATE sku SET on_hand=?, unsellable=?, updated_at=? WHERE sku=?")
      .bind(1, on_hand)
      .bind(2, unsellable)
      .bind(3, ctx.now_ms)
      .bind(4, m.sku)
      .run();
  auto ins = db_.prepare(
      "INSERT INTO ledger (sku, bucket, delta, kind, reason, actor, order_id, at, event_seq) "
      "VALUES (?,?,?,?,?,?,?,?,?)");
  ins.bind(1, m.sku)
      .bind(2, m.bucket == Bucket::on_hand ? "on_hand" : "unsellable")
      .bind(3, m.delta)
      .bind(4, m.kind)
      .bind(5, m.reason)
      .bind(6, ctx.actor.str())
      .bind_optional(7, m.order_id)
      .bind(8, ctx.now_ms);
  if (m.cloud_seen)
    ins.bind(9, std::int64_t{0});
  else
    ins.bind_null(9);
  ins.run();
  return {};
}

void StockLedger::reserve(const std::string& order_id, int line_no, const std::string& sku,
                          std::int64_t qty) {
  db_.prepare("INSERT INTO reservation (order_id, line_no, sku, quantity) VALUES (?,?,?,?)")
      .bind(1, order_id)
      .bind(2, line_no)
      .bind(3, sku)
      .bind(4, qty)
      .run();
  db_.prepare("UPDATE sku SET reserved = reserved + ? WHERE sku=?").bind(1, qty).bind(2, sku).run();
}

std::int64_t StockLedger::release(const std::string& order_id, int line_no, std::int64_t qty) {
  auto s = db_.prepare("SELECT sku, quantity FROM reservation WHERE order_id=? AND line_no=?");
  s.bind(1, order_id).bind(2, line_no);
  if (!s.step()) return 0;
  const std::string sku = s.text(0);
  const std::int64_t held = s.int64(1);
  const std::int64_t released = std::min(held, qty);
  if (released == held) {
    db_.prepare("DELETE FROM reservation WHERE order_id=? AND line_no=?")
        .bind(1, order_id)
        .bind(2, line_no)
        .run();
  } else {
    db_.prepare("UPDATE reservation SET quantity=? WHERE order_id=? AND line_no=?")
        .bind(1, held - released)
        .bind(2, order_id)
        .bind(3, line_no)
        .run();
  }
  db_.prepare("UPDATE sku SET reserved = reserved - ? WHERE sku=?")
      .bind(1, released)
      .bind(2, sku)
      .run();
  return released;
}

Result<std::int64_t> StockLedger::sell(const std::string& sku, std::int64_t qty,
                                       const std::string& order_id, const CommandContext& ctx,
                                       std::vector<Movement>& moves) {
  return remove_sold(sku, qty, order_id, "sale", "", ctx, moves);
}

Result<std::int64_t> StockLedger::transfer_out(const std::string& sku, std::int64_t qty,
                                               const std::string& order_id,
                                               const std::string& destination_store,
                                               const CommandContext& ctx,
                                               std::vector<Movement>& moves) {
  return remove_sold(sku, qty, order_id, "transfer_out", "transfer out: " + destination_store, ctx,
                     moves);
}

Result<std::int64_t> StockLedger::sell_at_till(const std::string& sku, std::int64_t qty,
                                               const std::string& reason, const CommandContext& ctx,
                                               std::vector<Movement>& moves) {
  return remove_sold(sku, qty, std::nullopt, "sale", reason, ctx, moves);
}

Result<std::int64_t> StockLedger::remove_sold(const std::string& sku, std::int64_t qty,
                                              const std::optional<std::string>& order_id,
                                              const std::string& kind, const std::string& reason,
                                              const CommandContext& ctx,
                                              std::vector<Movement>& moves) {
  if (qty <= 0) return 0;
  auto current = level(sku);
  if (!current) return fail(DomainErrc::unknown_sku, "unknown SKU " + sku);
  const std::int64_t take = std::min(qty, current->on_hand);
  const std::int64_t new_on_hand = current->on_hand - take;
  std::vector<Movement> planned;
  if (current->unsellable > new_on_hand)
    planned.push_back({sku, Bucket::unsellable, new_on_hand - current->unsellable, kind,
                       "stock discrepancy", order_id});
  if (take > 0) planned.push_back({sku, Bucket::on_hand, -take, kind, reason, order_id});
  // Planned within what the books hold, so post() accepts them; were it to refuse one,
  // that refusal is the answer.
  for (const auto& m : planned) {
    if (auto ok = post(m, ctx); !ok) return unexpected(ok.error());
    moves.push_back(m);
  }
  return qty - take;
}

std::vector<Movement> arrival(const std::string& sku, std::int64_t quantity, bool unsellable,
                              const std::string& kind, const std::string& reason,
                              const std::optional<std::string>& order_id) {
  std::vector<Movement> moves{{sku, Bucket::on_hand, quantity, kind, reason, order_id}};
  if (unsellable) moves.push_back({sku, Bucket::unsellable, quantity, kind, reason, order_id});
  return moves;
}

nlohmann::json movements_json(const std::vector<Movement>& movements) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : movements)
    out.push_back({{"sku", m.sku},
                   {"bucket", m.bucket == Bucket::on_hand ? "on_hand" : "unsellable"},
                   {"delta", m.delta},
                   {"kind", m.kind},
                   {"reason", m.reason}});
  return out;
}

}  // namespace fulfil::agent
