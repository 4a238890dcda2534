#include "domain/returns.hpp"

#include <map>

#include "domain/order_lifecycle.hpp"
#include "domain/transaction.hpp"
#include "order_rows.hpp"
#include "stock_ledger.hpp"
#include "text_checks.hpp"

namespace fulfil::agent {

std::optional<Disposition> disposition_from(std::string_view name) {
  for (auto d : {Disposition::restock, Disposition::unsellable, Disposition::to_vendor})
    if (disposition_name(d) == name) return d;
  return std::nullopt;
}

std::string_view disposition_name(Disposition d) {
  switch (d) {
    case Disposition::restock:
      return "restock";
    case Disposition::unsellable:
      return "unsellable";
    case Disposition::to_vendor:
      return "to_vendor";
  }
  return "restock";
}

std::int64_t Returns::returned_quantity(const std::string& order_id, const std::string& sku) {
  auto s = db_.prepare(
      "SELECT coalesce(sum(l.quantity),0) FROM return_line l JOIN return_receipt r ON "
      "r.id=l.return_id WHERE r.order_id=? AND l.sku=?");
  s.bind(1, order_id).bind(2, sku);
  s.step();
  return s.int64(0);
}

Result<void> Returns::check_against_order(const ReturnRequest& request,
                                          const std::string& order_id) {
  auto order = load_order(db_, order_id);
  if (!order) return fail(DomainErrc::not_found, "no fulfilment order " + order_id);
  // A transfer's units were sent to another store, not sold: what comes back from there is
  // a shipment to receive, not a customer's return.
  if (order->kind == OrderKind::transfer)
    return fail(DomainErrc::invalid_argument,
                order->id + " is a transfer to store " + order->destination_store +
                    ", not a customer's order: receive what comes back from there as a "
                    "shipment");
  if (order->state != OrderState::shipped && order->state != OrderState::collected)
    return fail(DomainErrc::illegal_transition,
                "order " + order->id + " is " + std::string(state_name(order->state)) +
                    "; only shipped or collected orders can be returned");
  std::map<std::string, std::int64_t> sold, asked;
  for (const auto& l : order->lines) sold[l.sku] += l.picked;
  for (const auto& l : request.lines) asked[l.sku] += l.quantity;
  for (const auto& [sku, qty] : asked) {
    if (!sold.count(sku) || sold[sku] == 0)
      return fail(DomainErrc::invalid_argument,
                  "SKU " + sku + " was not sold on order " + order->id);
    const std::int64_t already = returned_quantity(order->id, sku);
    if (already + qty > sold[sku])
      return fail(DomainErrc::invalid_argument,
                  "order " + order->id + " sold " + std::to_string(sold[sku]) + " of SKU " + sku +
                      ", " + std::to_string(already) + " already returned; cannot return " +
                      std::to_string(qty) + " more");
  }
  return {};
}

Result<ReturnReceipt> Returns::receive(const ReturnRequest& request, const CommandContext& ctx) {
  if (request.lines.empty() || request.lines.size() > 500)
    return fail(DomainErrc::invalid_argument, "a return needs 1 to 500 lines");
  if (auto ok = check_text("note", request.note, 500, false); !ok) return unexpected(ok.error());
  for (std::size_t i = 0; i < request.lines.size(); ++i) {
    const auto& l = request.lines[i];
    const std::string where = "return line " + std::to_string(i + 1);
    if (l.quantity <= 0 || l.quantity > 10000)
      return fail(DomainErrc::invalid_argument, where + ": quantity must be 1 to 10000");
    if (auto ok = check_text(where + " reason", l.reason, 200, false); !ok)
      return unexpected(ok.error());
  }
  return commit_or_rollback(db_, [&]() -> Result<ReturnReceipt> {
    StockLedger ledger(db_);
    for (const auto& l : request.lines)
      if (!ledger.level(l.sku)) return fail(DomainErrc::unknown_sku, "unknown SKU " + l.sku);
    // The order by its id or, failing that, by the customer's order number.
    std::optional<std::string> order_id;
    if (request.order_id) {
      order_id = load_order(db_, *request.order_id) ? request.order_id
                                                    : order_id_for_ref(db_, *request.order_id);
      if (!order_id)
        return fail(DomainErrc::not_found, "no order of this store has the id or order number '" +
                                               *request.order_id + "'");
      if (auto ok = check_against_order(request, *order_id); !ok) return unexpected(ok.error());
    }
    ReturnReceipt receipt{"RT-" + new_uuid(), order_id};
    db_.prepare(
           "INSERT INTO return_receipt (id, order_id, actor, note, received_at) VALUES (?,?,?,?,?)")
        .bind(1, receipt.return_id)
        .bind_optional(2, order_id)
        .bind(3, ctx.actor.str())
        .bind(4, request.note)
        .bind(5, ctx.now_ms)
        .run();
    std::vector<Movement> moves;
    nlohmann::json lines = nlohmann::json::array();
    int line_no = 0;
    for (const auto& l : request.lines) {
      db_.prepare(
             "INSERT INTO return_line (return_id, line_no, sku, quantity, disposition, reason) "
             "VALUES (?,?,?,?,?,?)")
          .bind(1, receipt.return_id)
          .bind(2, ++line_no)
          .bind(3, l.sku)
          .bind(4, l.quantity)
          .bind(5, disposition_name(l.disposition))
          .bind(6, l.reason)
          .run();
      // Sent to the vendor: never enters store stock.
      const auto line_moves =
          l.disposition == Disposition::to_vendor
              ? std::vector<Movement>{}
              : arrival(l.sku, l.quantity, l.disposition == Disposition::unsellable, "return",
                        l.reason, order_id);
      for (const auto& m : line_moves) {
        if (auto ok = ledger.post(m, ctx); !ok) return unexpected(ok.error());
        moves.push_back(m);
      }
      lines.push_back({{"sku", l.sku},
                       {"quantity", l.quantity},
                       {"disposition", disposition_name(l.disposition)},
                       {"reason", l.reason}});
    }
    outbox_.append("return.received", receipt.return_id,
                   {{"return_id", receipt.return_id},
                    {"order_id", order_id ? nlohmann::json(*order_id) : nullptr},
                    {"lines", lines},
                    {"note", request.note},
                    {"actor", ctx.actor.str()},
                    {"movements", movements_json(moves)}},
                   ctx.now_ms);
    return receipt;
  });
}

}  // namespace fulfil::agent
