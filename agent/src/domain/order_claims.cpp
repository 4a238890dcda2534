#include "domain/order_claims.hpp"

namespace fulfil::agent {

std::optional<OrderClaim> OrderClaims::of(const std::string& order_id) {
  auto s = db_.prepare(
      "SELECT c.order_id, c.holder, c.claimed_at, COALESCE(t.name, c.holder) FROM order_claim c "
      "LEFT JOIN terminal t ON c.holder = 'terminal:' || t.id WHERE c.order_id = ?");
  s.bind(1, order_id);
  if (!s.step()) return std::nullopt;
  return OrderClaim{s.text(0), s.text(1), s.int64(2), s.text(3)};
}

Result<void> OrderClaims::take(const std::string& order_id, const CommandContext& ctx) {
  const auto kind = ctx.actor.kind;
  if (kind != Actor::Kind::terminal && kind != Actor::Kind::user) return {};
  const std::string me = ctx.actor.str();
  if (auto held = of(order_id)) {
    if (held->holder == me) return {};
    return fail(DomainErrc::claimed, "order " + order_id + " is being picked on " +
                                         held->holder_name + "; a manager can release it");
  }
  db_.prepare("INSERT INTO order_claim (order_id, holder, claimed_at) VALUES (?, ?, ?)")
      .bind(1, order_id)
      .bind(2, me)
      .bind(3, ctx.now_ms)
      .run();
  return {};
}

bool OrderClaims::release(const std::string& order_id) {
  auto held = of(order_id);
  if (!held) return false;
  db_.prepare("DELETE FROM order_claim WHERE order_id = ?").bind(1, order_id).run();
  return true;
}

}  // namespace fulfil::agent
