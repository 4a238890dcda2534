#include "domain/orders.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "config/remote_config.hpp"
#include "domain/transaction.hpp"
#include "order_rows.hpp"
#include "order_validation.hpp"
#include "reason_effects.hpp"
#include "search_text.hpp"
#include "stock_ledger.hpp"
#include "text_checks.hpp"

namespace fulfil::agent {
namespace {

// Refusals are read by associates: where the order is and what can happen next, in
// words, not the state machine's names.
constexpr std::array<std::string_view, 11> kStateWords = {"routed, waiting to be accepted",
                                                          "accepted, not being picked yet",
                                                          "rejected",
                                                          "expired",
                                                          "being picked",
                                                          "picked",
                                                          "packed",
                                                          "shipped",
                                                          "ready for pickup",
                                                          "collected",
                                                          "cancelled"};
constexpr std::array<std::string_view, 19> kCannotWords = {"be accepted",
                                                           "be rejected",
                                                           "expire",
                                                           "start picking",
                                                           "have items picked",
                                                           "have items short-picked",
                                                           "complete picking",
                                                           "be packed",
                                                           "be handed to a carrier",
                                                           "be made ready for pickup",
                                                           "be handed to the customer",
                                                           "have its pickup unlocked",
                                                           "have its pickup notice sent again",
                                                           "be returned to stock as uncollected",
                                                           "have its acceptance undone",
                                                           "be unpacked",
                                                           "be cancelled",
                                                           "be received again",
                                                           "be changed"};
static_assert(kStateWords.size() == static_cast<std::size_t>(OrderState::cancelled) + 1);
static_assert(kCannotWords.size() == static_cast<std::size_t>(OrderAction::update) + 1);

std::string next_steps(const FulfilmentOrder& o) {
  // Forward steps first, rejecting last; the cloud's own actions are not the associate's,
  // and returning an uncollected order waits for it to be overdue (its own refusal says so).
  std::vector<std::string> steps;
  if (allows(o.state, o.method, OrderAction::pick_item)) steps.emplace_back("scan its items");
  for (auto a : all_actions()) {
    if (a == OrderAction::expire || a == OrderAction::cancel || a == OrderAction::pick_item ||
        a == OrderAction::reject || a == OrderAction::return_uncollected ||
        !allows(o.state, o.method, a))
      continue;
    std::string words(action_name(a));
    std::replace(words.begin(), words.end(), '_', ' ');
    steps.push_back(words);
  }
  if (allows(o.state, o.method, OrderAction::reject)) steps.emplace_back("reject");
  std::string out;
  for (const auto& step : steps) out += (out.empty() ? "" : ", ") + step;
  return out;
}

Unexpected<DomainError> illegal(const FulfilmentOrder& o, OrderAction action) {
  const std::string ref = o.order_ref.empty() ? o.id : o.order_ref;
  const auto state = kStateWords.at(static_cast<std::size_t>(o.state));
  const auto cannot = kCannotWords.at(static_cast<std::size_t>(action));
  const std::string next = next_steps(o);
  return fail(DomainErrc::illegal_transition,
              "Order " + ref + " is " + std::string(state) + ": it cannot " + std::string(cannot) +
                  (next.empty() ? " (the order has ended)." : ". Next: " + next + "."));
}

bool listed(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string new_pickup_code() {
  // Six digits, uniform: rejection sampling avoids the modulo bias of 2^32 % 10^6.
  for (;;) {
    std::uint32_t r = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r) != 1)
      throw std::runtime_error("RAND_bytes failed");
    if (r >= 4294000000u) continue;
    std::string code = std::to_string(r % 1000000u);
    return std::string(6 - code.size(), '0') + code;
  }
}

nlohmann::json lines_json(const FulfilmentOrder& o) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& l : o.lines)
    out.push_back({{"line_no", l.line_no},
                   {"sku", l.sku},
                   {"quantity", l.quantity},
                   {"picked", l.picked},
                   {"rejected", l.rejected},
                   {"reject_reason", l.reject_reason}});
  return out;
}

// A transfer's events say so, and to which store, so the cloud can tell them from its
// customers' orders; a customer order's events are as they were before transfers.
void with_kind(nlohmann::json& payload, const FulfilmentOrder& o) {
  if (o.kind != OrderKind::transfer) return;
  payload["kind"] = order_kind_name(o.kind);
  payload["destination_store"] = {{"id", o.destination_store}, {"name", o.customer.name}};
}

// A pick or short pick made through a pick list names the list and the tote.
void with_tote(nlohmann::json& payload, const std::optional<ToteSlot>& tote) {
  if (!tote) return;
  payload["pick_list"] = tote->pick_list;
  payload["tote"] = tote->tote;
}

}  // namespace

std::string_view order_kind_name(OrderKind kind) {
  return kind == OrderKind::transfer ? "transfer" : "customer";
}

std::optional<OrderKind> order_kind_from(std::string_view name) {
  if (name == "customer") return OrderKind::customer;
  if (name == "transfer") return OrderKind::transfer;
  return std::nullopt;
}

template <class R, class F, class G>
Result<R> FulfilmentOrders::transition(const std::string& id, OrderAction action, F&& body,
                                       G&& refused) {
  return commit_or_rollback(db_, [&]() -> Result<R> {
    auto order = load_order(db_, id);
    if (!order) return fail(DomainErrc::not_found, "no fulfilment order " + id);
    const OrderTransition* step = find_transition(order->state, order->method, action);
    if (!step) return refused(*order);
    if (order->on_hold && step->blocked_by_hold)
      return fail(DomainErrc::illegal_transition,
                  "order " + id + " is on hold by the cloud; cannot " +
                      std::string(action_name(action)) + " it until it is released");
    step_ = step;
    struct Done {
      const OrderTransition*& step;
      ~Done() { step = nullptr; }
    } done{step_};
    return body(*order);
  });
}

template <class R, class F>
Result<R> FulfilmentOrders::transition(const std::string& id, OrderAction action, F&& body) {
  return transition<R>(id, action, std::forward<F>(body),
                       [&](const FulfilmentOrder& o) -> Result<R> { return illegal(o, action); });
}

void FulfilmentOrders::record(FulfilmentOrder& o, Outcome outcome, const std::string& type,
                              nlohmann::json payload, const CommandContext& ctx) {
  // Only inside transition(), and or_to only where the table gives the action a second
  // outcome: anything else is a bug here.
  if (!step_ || (outcome == Outcome::or_to && !step_->or_to))
    throw std::logic_error("order " + o.id + ": a state change outside its lifecycle row");
  const OrderState to = outcome == Outcome::to ? step_->to : *step_->or_to;
  const std::string_view action = action_name(step_->action);
  const OrderState from = o.state;
  o.state = to;
  if (from == OrderState::picking && to != OrderState::picking) claims_.release(o.id);
  o.updated_at = ctx.now_ms;
  update_order(db_, o);
  db_.prepare(
         "INSERT INTO order_history (order_id, action, from_state, to_state, actor, detail, at) "
         "VALUES (?,?,?,?,?,?,?)")
      .bind(1, o.id)
      .bind(2, action)
      .bind(3, state_name(from))
      .bind(4, state_name(to))
      .bind(5, ctx.actor.str())
      .bind(6, payload.dump())
      .bind(7, ctx.now_ms)
      .run();
  payload["order_id"] = o.id;
  payload["order_ref"] = o.order_ref;
  payload["from_state"] = state_name(from);
  payload["state"] = state_name(to);
  payload["actor"] = ctx.actor.str();
  with_kind(payload, o);
  outbox_.append(type, o.id, payload, ctx.now_ms);
}

Result<void> FulfilmentOrders::receive(const FulfilmentOrder& routed, const CommandContext& ctx) {
  if (auto ok = validate_routed_order(routed); !ok) return ok;
  return commit_or_rollback(db_, [&]() -> Result<void> {
    const bool transfer = routed.kind == OrderKind::transfer;
    if (load_order(db_, routed.id))
      return fail(DomainErrc::duplicate,
                  (transfer ? "transfer " : "fulfilment order ") + routed.id + " already exists");
    for (const auto& l : routed.lines)
      if (!StockLedger(db_).level(l.sku))
        return fail(DomainErrc::unknown_sku,
                    transfer ? "lines[" + std::to_string(l.line_no - 1) + "]: unknown SKU " + l.sku
                             : "line " + std::to_string(l.line_no) + " names unknown SKU " + l.sku);
    FulfilmentOrder o = routed;
    const OrderTransition* step = find_transition(std::nullopt, o.method, OrderAction::receive);
    o.state = step->to;
    o.order_ref = o.order_ref.empty() ? o.id : o.order_ref;
    o.routed_at = ctx.now_ms;
    o.accept_by = o.accept_by ? o.accept_by
                              : policy_.capacity.hours.after_open_time(
                                    ctx.now_ms, policy_.default_accept_sla_ms);
    // Capacity is how many customer orders the store takes a day: a transfer is the brand
    // moving its own stock, asked for deliberately, so it neither counts nor is flagged.
    o.capacity_flag = transfer ? "" : capacity_.flag_for_routed_order(ctx);
    o.updated_at = ctx.now_ms;
    o.packages.clear();
    o.pickup_attempts = 0;
    for (auto& l : o.lines) l.picked = l.rejected = 0;
    insert_order(db_, o);
    db_.prepare(
           "INSERT INTO order_history (order_id, action, from_state, to_state, actor, at) "
           "VALUES (?, ?, '', ?, ?, ?)")
        .bind(1, o.id)
        .bind(2, action_name(step->action))
        .bind(3, state_name(o.state))
        .bind(4, ctx.actor.str())
        .bind(5, ctx.now_ms)
        .run();
    nlohmann::json payload = {{"order_id", o.id},
                              {"order_ref", o.order_ref},
                              {"state", state_name(o.state)},
                              {"accept_by", o.accept_by},
                              {"capacity_flag", o.capacity_flag},
                              {"actor", ctx.actor.str()}};
    with_kind(payload, o);
    outbox_.append("order.received", o.id, payload, ctx.now_ms);
    return {};
  });
}

Result<void> FulfilmentOrders::accept(const std::string& id, const CommandContext& ctx) {
  return accept(id, {}, "", ctx);
}

namespace {
// How many units of each line an accept takes: the listed ones as listed, the others all
// their open units. Refuses a line the order does not have, one listed twice, or more
// units than the line has open.
Result<std::map<int, std::int64_t>> accepted_units(const FulfilmentOrder& o,
                                                   const std::vector<AcceptedLine>& listed) {
  std::map<int, std::int64_t> out;
  for (const auto& l : o.lines) out[l.line_no] = l.open();
  std::set<int> seen;
  for (const auto& a : listed) {
    const std::string which = "line " + std::to_string(a.line_no);
    const auto line = std::find_if(o.lines.begin(), o.lines.end(),
                                   [&](const OrderLine& l) { return l.line_no == a.line_no; });
    if (line == o.lines.end())
      return fail(DomainErrc::invalid_argument, "order " + o.id + " has no " + which);
    if (!seen.insert(a.line_no).second)
      return fail(DomainErrc::invalid_argument, which + " is given more than once");
    if (a.quantity < 0 || a.quantity > line->open())
      return fail(DomainErrc::invalid_argument, which + " has " + std::to_string(line->open()) +
                                                    " unit(s); cannot accept " +
                                                    std::to_string(a.quantity));
    out[a.line_no] = a.quantity;
  }
  return out;
}
}  // namespace

Result<void> FulfilmentOrders::accept(const std::string& id, const std::vector<AcceptedLine>& lines,
                                      const std::string& reason, const CommandContext& ctx) {
  if (!reason.empty() && !listed(policy_.reject_reasons, reason))
    return fail(DomainErrc::invalid_argument,
                "reject reason '" + reason + "' is not one of: " + joined(policy_.reject_reasons));
  return transition<void>(id, OrderAction::accept, [&](FulfilmentOrder& o) -> Result<void> {
    if (o.accept_by <= ctx.now_ms)
      return fail(DomainErrc::illegal_transition,
                  "order " + id + " passed its accept-by deadline; it expires for rerouting");
    auto units = accepted_units(o, lines);
    if (!units) return unexpected(units.error());
    std::int64_t accepted = 0, refused = 0;
    for (const auto& l : o.lines) {
      accepted += units->at(l.line_no);
      refused += l.open() - units->at(l.line_no);
    }
    if (accepted == 0)
      return fail(DomainErrc::invalid_argument,
                  "accepting none of order " + id + "'s units: reject the order instead");
    if (refused > 0 && reason.empty())
      return fail(DomainErrc::invalid_argument,
                  "accepting part of order " + id +
                      " needs a reason for the rest, one of: " + joined(policy_.reject_reasons));
    StockLedger ledger(db_);
    std::map<std::string, std::int64_t> needed;
    for (const auto& l : o.lines) needed[l.sku] += units->at(l.line_no);
    for (const auto& [sku, qty] : needed) {
      auto level = ledger.level(sku);
      if (!policy_.allow_negative_available && level->raw_available() < qty)
        return fail(DomainErrc::insufficient_stock,
                    "SKU " + sku + ": order " + id + " needs " + std::to_string(qty) + ", " +
                        std::to_string(level->available()) + " available");
    }
    nlohmann::json accepted_lines = nlohmann::json::array();
    nlohmann::json rejected_lines = nlohmann::json::array();
    std::vector<RefusedUnits> refused_units;
    for (auto& l : o.lines) {
      const std::int64_t take = units->at(l.line_no), rest = l.open() - take;
      accepted_lines.push_back({{"line_no", l.line_no}, {"sku", l.sku}, {"quantity", take}});
      if (rest > 0) {
        refused_units.push_back({l.sku, rest});
        l.rejected += rest;
        l.reject_reason = reason;
        update_line(db_, o.id, l);
        rejected_lines.push_back(
            {{"line_no", l.line_no}, {"sku", l.sku}, {"quantity", rest}, {"reason", reason}});
      }
      if (take > 0) ledger.reserve(o.id, l.line_no, l.sku, take);
    }
    // After reserving: an empty shelf still holds what this order was just promised.
    std::vector<Movement> moves;
    const ReasonEffect effect = policy_.effect_of(reason);
    for (const auto& units : refused_units)
      if (auto ok = apply_stock_effect(ledger, effect, units, o.id, ctx, moves); !ok) return ok;
    nlohmann::json payload = {
        {"lines", lines_json(o)}, {"accepted", accepted_lines}, {"rejected", rejected_lines}};
    if (!rejected_lines.empty()) describe_effect(payload, effect, moves);
    record(o, Outcome::to, "order.accepted", std::move(payload), ctx);
    return {};
  });
}

Result<void> FulfilmentOrders::unaccept(const std::string& id, const CommandContext& ctx) {
  return transition<void>(id, OrderAction::unaccept, [&](FulfilmentOrder& o) -> Result<void> {
    StockLedger ledger(db_);
    nlohmann::json released = nlohmann::json::array();
    for (const auto& l : o.lines)
      if (const auto n = ledger.release(o.id, l.line_no, l.quantity); n > 0)
        released.push_back({{"line_no", l.line_no}, {"sku", l.sku}, {"quantity", n}});
    record(o, Outcome::to, "order.unaccepted",
           {{"accept_by", o.accept_by}, {"released", released}, {"lines", lines_json(o)}}, ctx);
    return {};
  });
}

Result<void> FulfilmentOrders::reject(const std::string& id, const std::string& reason,
                                      const CommandContext& ctx) {
  if (!listed(policy_.reject_reasons, reason))
    return fail(DomainErrc::invalid_argument,
                "reject reason '" + reason + "' is not one of: " + joined(policy_.reject_reasons));
  return transition<void>(id, OrderAction::reject, [&](FulfilmentOrder& o) -> Result<void> {
    // Any terminal may reject an order another is picking (the claim guards picks, not
    // this decision); the claim ends with the picking (record()).
    // Picked units never left the books (as for a cancel): releasing every reservation
    // makes them available again, and the put-back list says what to reshelve.
    StockLedger ledger(db_);
    nlohmann::json put_back = nlohmann::json::array();
    std::map<std::string, RefusedUnits> refused;
    for (const auto& l : o.lines) {
      ledger.release(o.id, l.line_no, l.quantity);
      if (l.picked > 0) put_back.push_back({{"sku", l.sku}, {"quantity", l.picked}});
      auto& units = refused.try_emplace(l.sku, RefusedUnits{l.sku}).first->second;
      units.quantity += l.open();  // the units nobody found; picked ones were found
      units.put_back += l.picked;
    }
    std::vector<Movement> moves;
    const ReasonEffect effect = policy_.effect_of(reason);
    for (const auto& [sku, units] : refused)
      if (auto ok = apply_stock_effect(ledger, effect, units, o.id, ctx, moves); !ok) return ok;
    o.reject_reason = reason;
    nlohmann::json payload = {{"reason", reason}, {"lines", lines_json(o)}, {"put_back", put_back}};
    describe_effect(payload, effect, moves);
    record(o, Outcome::to, "order.rejected", std::move(payload), ctx);
    return {};
  });
}

Result<std::vector<std::string>> FulfilmentOrders::expire_overdue(const CommandContext& ctx) {
  std::vector<std::string> due;
  try {
    auto s = db_.prepare(
        "SELECT id FROM fulfilment_order INDEXED BY order_routed_by_accept_by "
        "WHERE state='routed' AND accept_by <= ? ORDER BY "
        "accept_by");
    s.bind(1, ctx.now_ms);
    while (s.step()) due.push_back(s.text(0));
  } catch (const StorageFailure& e) {
    return fail(DomainErrc::storage, e.what());
  }
  std::vector<std::string> expired;
  for (const auto& id : due) {
    auto r = transition<void>(id, OrderAction::expire, [&](FulfilmentOrder& o) -> Result<void> {
      o.reject_reason = "accept_sla_expired";
      record(o, Outcome::to, "order.expired",
             {{"reason", o.reject_reason}, {"accept_by", o.accept_by}}, ctx);
      return {};
    });
    if (!r) return unexpected(r.error());
    expired.push_back(id);
  }
  return expired;
}

Result<void> FulfilmentOrders::start_picking(const std::string& id, const CommandContext& ctx) {
  return transition<void>(id, OrderAction::start_picking, [&](FulfilmentOrder& o) -> Result<void> {
    if (auto claimed = claims_.take(o.id, ctx); !claimed) return claimed;
    record(o, Outcome::to, "order.picking_started", {}, ctx);
    return {};
  });
}

Result<PickResult> FulfilmentOrders::pick_item(const std::string& id, const std::string& sku,
                                               std::int64_t qty, const CommandContext& ctx,
                                               const std::optional<ToteSlot>& tote) {
  if (qty <= 0 || qty > 10000)
    return fail(DomainErrc::invalid_argument, "pick quantity must be 1 to 10000");
  return transition<PickResult>(
      id, OrderAction::pick_item, [&](FulfilmentOrder& o) -> Result<PickResult> {
        if (auto claimed = claims_.take(o.id, ctx); !claimed)
          return Unexpected<DomainError>{claimed.error()};
        auto line = std::find_if(o.lines.begin(), o.lines.end(),
                                 [&](const OrderLine& l) { return l.sku == sku && l.open() > 0; });
        if (line == o.lines.end()) {
          const bool on_order = std::any_of(o.lines.begin(), o.lines.end(),
                                            [&](const OrderLine& l) { return l.sku == sku; });
          return fail(DomainErrc::invalid_argument,
                      on_order ? "SKU " + sku + " is already fully picked for order " + id
                               : "SKU " + sku + " is not on order " + id + " (wrong item)");
        }
        if (qty > line->open())
          return fail(DomainErrc::invalid_argument,
                      "line " + std::to_string(line->line_no) + " (SKU " + sku + ") needs " +
                          std::to_string(line->open()) + " more; cannot pick " +
                          std::to_string(qty));
        line->picked += qty;
        update_line(db_, o.id, *line);
        PickResult result{line->line_no, line->picked, line->open(),
                          std::all_of(o.lines.begin(), o.lines.end(),
                                      [](const OrderLine& l) { return l.open() == 0; })};
        nlohmann::json payload = {{"line_no", line->line_no},
                                  {"sku", sku},
                                  {"quantity", qty},
                                  {"line_picked", line->picked}};
        with_tote(payload, tote);
        record(o, Outcome::to, "order.item_picked", std::move(payload), ctx);
        return result;
      });
}

Result<void> FulfilmentOrders::short_pick(const std::string& id, int line_no, std::int64_t qty,
                                          const std::string& reason, const CommandContext& ctx,
                                          const std::optional<ToteSlot>& tote) {
  if (!listed(policy_.short_pick_reasons, reason))
    return fail(DomainErrc::invalid_argument, "short-pick reason '" + reason + "' is not one of: " +
                                                  joined(policy_.short_pick_reasons));
  if (qty <= 0 || qty > 10000)
    return fail(DomainErrc::invalid_argument, "short-pick quantity must be 1 to 10000");
  return transition<void>(id, OrderAction::short_pick, [&](FulfilmentOrder& o) -> Result<void> {
    if (o.state == OrderState::picking)
      if (auto claimed = claims_.take(o.id, ctx); !claimed) return claimed;
    auto line = std::find_if(o.lines.begin(), o.lines.end(),
                             [&](const OrderLine& l) { return l.line_no == line_no; });
    if (line == o.lines.end())
      return fail(DomainErrc::invalid_argument,
                  "order " + id + " has no line " + std::to_string(line_no));
    if (qty > line->open())
      return fail(DomainErrc::invalid_argument,
                  "line " + std::to_string(line_no) + " has " + std::to_string(line->open()) +
                      " unit(s) open; cannot short-pick " + std::to_string(qty));
    line->rejected += qty;
    line->reject_reason = reason;
    update_line(db_, o.id, *line);
    StockLedger ledger(db_);
    ledger.release(o.id, line_no, qty);
    std::vector<Movement> moves;
    const ReasonEffect effect = policy_.effect_of(reason);
    if (auto ok = apply_stock_effect(ledger, effect, {line->sku, qty}, o.id, ctx, moves); !ok)
      return ok;
    const bool nothing_left = std::all_of(o.lines.begin(), o.lines.end(), [](const OrderLine& l) {
      return l.rejected == l.quantity;
    });
    if (nothing_left) o.reject_reason = "short_pick";
    nlohmann::json payload = {
        {"line_no", line_no}, {"sku", line->sku}, {"quantity", qty}, {"reason", reason}};
    describe_effect(payload, effect, moves);
    with_tote(payload, tote);
    record(o, nothing_left ? Outcome::or_to : Outcome::to, "order.lines_short_picked",
           std::move(payload), ctx);
    return {};
  });
}

Result<void> FulfilmentOrders::complete_picking(const std::string& id, const CommandContext& ctx) {
  return transition<void>(
      id, OrderAction::complete_picking, [&](FulfilmentOrder& o) -> Result<void> {
        if (auto claimed = claims_.take(o.id, ctx); !claimed) return claimed;
        for (const auto& l : o.lines)
          if (l.open() > 0)
            return fail(DomainErrc::illegal_transition,
                        "line " + std::to_string(l.line_no) + " (SKU " + l.sku + ") has " +
                            std::to_string(l.open()) + " unit(s) neither picked nor short-picked");
        record(o, Outcome::to, "order.picked", {{"lines", lines_json(o)}}, ctx);
        return {};
      });
}

Result<void> FulfilmentOrders::pack(const std::string& id, const std::vector<Package>& packages,
                                    const CommandContext& ctx) {
  return transition<void>(id, OrderAction::pack, [&](FulfilmentOrder& o) -> Result<void> {
    if (auto ok = validate_packages(o, packages); !ok) return ok;
    insert_packages(db_, o.id, packages);
    nlohmann::json pk = nlohmann::json::array();
    for (const auto& p : packages) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& i : p.items)
        items.push_back({{"line_no", i.line_no}, {"quantity", i.quantity}});
      pk.push_back({{"package_no", p.package_no},
                    {"box_type", p.box_type},
                    {"weight_g", p.weight_g},
                    {"items", items}});
    }
    record(o, Outcome::to, "order.packed", {{"packages", pk}}, ctx);
    return {};
  });
}

Result<void> FulfilmentOrders::unpack(const std::string& id, const CommandContext& ctx) {
  // The picked units stay reserved and on hand, as packing never moved them.
  return transition<void>(id, OrderAction::unpack, [&](FulfilmentOrder& o) -> Result<void> {
    nlohmann::json removed = nlohmann::json::array();
    for (const auto& p : o.packages) removed.push_back(p.package_no);
    delete_packages(db_, o.id);
    o.packages.clear();
    record(o, Outcome::to, "order.unpacked", {{"packages_removed", removed}}, ctx);
    return {};
  });
}

namespace {
// Stock leaves the store: reservations are consumed and the picked units are sold, or for a
// transfer sent to the receiving store.
Result<nlohmann::json> consume_picked(Database& db, const FulfilmentOrder& o,
                                      const CommandContext& ctx) {
  StockLedger ledger(db);
  std::vector<Movement> moves;
  nlohmann::json shortfalls = nlohmann::json::array();
  for (const auto& l : o.lines) {
    ledger.release(o.id, l.line_no, l.quantity);
    auto missing = o.kind == OrderKind::transfer
                       ? ledger.transfer_out(l.sku, l.picked, o.id, o.destination_store, ctx, moves)
                       : ledger.sell(l.sku, l.picked, o.id, ctx, moves);
    if (!missing) return unexpected(missing.error());
    if (*missing > 0) shortfalls.push_back({{"sku", l.sku}, {"unrecorded_units", *missing}});
  }
  return nlohmann::json{{"movements", movements_json(moves)}, {"stock_discrepancies", shortfalls}};
}
}  // namespace

Result<void> FulfilmentOrders::ship(const std::string& id, const std::string& carrier,
                                    const std::string& tracking, const CommandContext& ctx) {
  return ship(id, carrier, tracking, {}, ctx);
}

namespace {
// The package numbers exist on the order and each is given once, each with a number.
Result<void> check_package_tracking(const FulfilmentOrder& o,
                                    const std::vector<PackageTracking>& given) {
  std::set<int> seen;
  for (const auto& p : given) {
    const std::string which = "package " + std::to_string(p.package_no);
    if (std::none_of(o.packages.begin(), o.packages.end(),
                     [&](const Package& k) { return k.package_no == p.package_no; }))
      return fail(DomainErrc::invalid_argument, "order " + o.id + " has no " + which);
    if (!seen.insert(p.package_no).second)
      return fail(DomainErrc::invalid_argument, which + " is given more than once");
    if (auto ok = check_text("tracking of " + which, p.tracking, 64, true); !ok) return ok;
  }
  return {};
}
}  // namespace

Result<void> FulfilmentOrders::ship(const std::string& id, const std::string& carrier,
                                    const std::string& tracking,
                                    const std::vector<PackageTracking>& packages,
                                    const CommandContext& ctx) {
  if (auto ok = check_text("carrier", carrier, 40, true); !ok) return ok;
  if (auto ok = check_text("tracking", tracking, 64, false); !ok) return ok;
  return transition<void>(id, OrderAction::ship, [&](FulfilmentOrder& o) -> Result<void> {
    if (auto ok = check_package_tracking(o, packages); !ok) return ok;
    std::string order_tracking = tracking;
    if (!packages.empty()) {
      const auto first = std::min_element(
          packages.begin(), packages.end(),
          [](const auto& a, const auto& b) { return a.package_no < b.package_no; });
      if (!tracking.empty() && tracking != first->tracking)
        return fail(DomainErrc::invalid_argument,
                    "tracking '" + tracking + "' is not package " +
                        std::to_string(first->package_no) +
                        "'s; the order's tracking is its first package's number");
      order_tracking = first->tracking;
    }
    auto consumed = consume_picked(db_, o, ctx);
    if (!consumed) return unexpected(consumed.error());
    nlohmann::json payload = std::move(*consumed);
    for (const auto& p : packages) update_package_tracking(db_, o.id, p.package_no, p.tracking);
    nlohmann::json per_package = nlohmann::json::array();
    for (auto& k : o.packages) {
      for (const auto& p : packages)
        if (p.package_no == k.package_no) k.tracking = p.tracking;
      per_package.push_back({{"package_no", k.package_no}, {"tracking", k.tracking}});
    }
    o.carrier = carrier;
    o.tracking = order_tracking;
    payload["carrier"] = carrier;
    payload["tracking"] = order_tracking;
    payload["packages"] = per_package;
    record(o, Outcome::to, "order.shipped", payload, ctx);
    return {};
  });
}

Result<std::string> staging_shelf(std::string_view text) {
  constexpr std::size_t kMaxShelf = 20;
  const auto first = text.find_first_not_of(' ');
  const auto trimmed = first == std::string_view::npos
                           ? std::string_view{}
                           : text.substr(first, text.find_last_not_of(' ') - first + 1);
  const bool printable = std::all_of(trimmed.begin(), trimmed.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F;
  });
  if (trimmed.empty() || trimmed.size() > kMaxShelf || !printable)
    return fail(DomainErrc::invalid_argument, "the staging shelf must be 1 to " +
                                                  std::to_string(kMaxShelf) +
                                                  " printable ASCII characters, like \"P-03\"");
  return std::string(trimmed);
}

Result<std::string> FulfilmentOrders::ready_for_pickup(const std::string& id,
                                                       const std::string& shelf,
                                                       const CommandContext& ctx) {
  std::string staged;
  if (!shelf.empty()) {
    auto checked = staging_shelf(shelf);
    if (!checked) return unexpected(checked.error());
    staged = std::move(*checked);
  }
  // No stock moves here, from picked as from packed: the picked units stay reserved and on
  // hand until collect sells them (consume_picked), as packing never moved them either.
  return transition<std::string>(
      id, OrderAction::ready_for_pickup, [&](FulfilmentOrder& o) -> Result<std::string> {
        if (o.pickup_code.empty()) o.pickup_code = new_pickup_code();
        o.pickup_shelf = staged;
        record(o, Outcome::to, "order.ready_for_pickup",
               {{"pickup_code", o.pickup_code}, {"shelf", o.pickup_shelf}}, ctx);
        return o.pickup_code;
      });
}

Result<void> FulfilmentOrders::collect(const std::string& id, const std::string& code,
                                       const CommandContext& ctx) {
  PickupProof proof;
  proof.code = code;
  return collect(id, proof, ctx);
}

namespace {

// What may be kept as proof: refused with the reason before anything is touched.
Result<void> check_proof(const PickupProof& p) {
  if (p.method == PickupProof::Method::id_check) {
    if (std::find(kIdTypes.begin(), kIdTypes.end(), p.id_type) == kIdTypes.end())
      return fail(DomainErrc::invalid_argument, "ID type '" + p.id_type +
                                                    "' is not one of: passport, id_card, "
                                                    "driving_licence, other");
    const bool digits_ok = p.id_last_digits.size() >= 2 && p.id_last_digits.size() <= 6 &&
                           std::all_of(p.id_last_digits.begin(), p.id_last_digits.end(),
                                       [](unsigned char c) { return std::isalnum(c) != 0; });
    if (!digits_ok)
      return fail(DomainErrc::invalid_argument,
                  "the ID's last characters must be 2 to 6 letters or digits (never the whole "
                  "number)");
  }
  if (auto ok = check_text("collected_by", p.collected_by, 80, false); !ok) return ok;
  static constexpr std::string_view kPngMagic = "\x89PNG\r\n\x1a\n";
  if (!p.signature_png.empty() &&
      (p.signature_png.size() > kMaxSignatureBytes || p.signature_png.rfind(kPngMagic, 0) != 0))
    return fail(DomainErrc::invalid_argument, "the signature must be a PNG image of at most " +
                                                  std::to_string(kMaxSignatureBytes / 1024) +
                                                  " KiB");
  return {};
}

nlohmann::json proof_json(const PickupProof& p) {
  nlohmann::json j = {{"method", p.method == PickupProof::Method::code ? "code" : "id_check"},
                      {"collected_by", p.collected_by},
                      {"signed", !p.signature_png.empty()}};
  if (p.method == PickupProof::Method::id_check) {
    j["id_type"] = p.id_type;
    j["id_last_digits"] = p.id_last_digits;
  }
  if (!p.signature_png.empty()) j["signature_png_base64"] = config::base64_encode(p.signature_png);
  return j;
}

void keep_proof(Database& db, const std::string& order_id, const PickupProof& p,
                const CommandContext& ctx) {
  auto s = db.prepare(
      "INSERT INTO pickup_proof (order_id, method, id_type, id_last_digits, collected_by, "
      "signature_png, collected_at, actor) VALUES (?,?,?,?,?,?,?,?)");
  s.bind(1, order_id)
      .bind(2, p.method == PickupProof::Method::code ? "code" : "id_check")
      .bind(3, p.id_type)
      .bind(4, p.id_last_digits)
      .bind(5, p.collected_by);
  if (p.signature_png.empty())
    s.bind_null(6);
  else
    s.bind_blob(6, p.signature_png);
  s.bind(7, ctx.now_ms).bind(8, ctx.actor.str()).run();
}

}  // namespace

Result<void> FulfilmentOrders::collect(const std::string& id, const PickupProof& proof,
                                       const CommandContext& ctx) {
  if (auto ok = check_proof(proof); !ok) return ok;
  const bool by_code = proof.method == PickupProof::Method::code;
  // A wrong code is committed (counted) and then reported as an error, so the attempt
  // counter survives a crash and brute-forcing a code is bounded.
  std::optional<DomainError> refusal;
  auto committed =
      transition<void>(id, OrderAction::collect, [&](FulfilmentOrder& o) -> Result<void> {
        // An ID check is how a manager hands over when the code is lost, locked or not.
        if (by_code && o.pickup_attempts >= policy_.pickup_code_max_attempts)
          return fail(DomainErrc::pickup_locked,
                      "order " + id + " is locked after " + std::to_string(o.pickup_attempts) +
                          " wrong pickup codes; a manager must unlock it");
        const std::string& code = proof.code;
        const bool match =
            !by_code || (code.size() == o.pickup_code.size() &&
                         CRYPTO_memcmp(code.data(), o.pickup_code.data(), code.size()) == 0);
        if (!match) {
          ++o.pickup_attempts;
          const int left = policy_.pickup_code_max_attempts - o.pickup_attempts;
          refusal = DomainError{DomainErrc::wrong_pickup_code, "wrong pickup code for order " + id +
                                                                   "; " + std::to_string(left) +
                                                                   " attempt(s) left"};
          record(o, Outcome::or_to, "order.pickup_code_rejected", {{"attempts", o.pickup_attempts}},
                 ctx);
          return {};
        }
        auto consumed = consume_picked(db_, o, ctx);
        if (!consumed) return unexpected(consumed.error());
        nlohmann::json payload = std::move(*consumed);
        payload["proof"] = proof_json(proof);
        keep_proof(db_, o.id, proof, ctx);
        record(o, Outcome::to, "order.collected", payload, ctx);
        return {};
      });
  if (!committed) return committed;
  if (refusal) return unexpected(*refusal);
  return {};
}

std::optional<PickupProof> FulfilmentOrders::pickup_proof(const std::string& id) {
  auto s = db_.prepare(
      "SELECT method, id_type, id_last_digits, collected_by, signature_png, "
      "collected_at, actor FROM pickup_proof WHERE order_id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  PickupProof p;
  p.method = s.text(0) == "id_check" ? PickupProof::Method::id_check : PickupProof::Method::code;
  p.id_type = s.text(1);
  p.id_last_digits = s.text(2);
  p.collected_by = s.text(3);
  p.signature_png = s.blob(4);
  p.collected_at = s.int64(5);
  p.actor = s.text(6);
  return p;
}

Result<void> FulfilmentOrders::unlock_pickup(const std::string& id, const CommandContext& ctx) {
  return transition<void>(id, OrderAction::unlock_pickup, [&](FulfilmentOrder& o) -> Result<void> {
    const int before = o.pickup_attempts;
    o.pickup_attempts = 0;
    record(o, Outcome::to, "order.pickup_unlocked", {{"attempts_cleared", before}}, ctx);
    return {};
  });
}

Result<void> FulfilmentOrders::send_pickup_notice(const std::string& id,
                                                  const CommandContext& ctx) {
  return transition<void>(
      id, OrderAction::send_pickup_notice, [&](FulfilmentOrder& o) -> Result<void> {
        // This row counts itself: load_order reads the count back from the history.
        ++o.pickup_notices;
        record(o, Outcome::to, "order.pickup_notice_requested",
               {{"notices", o.pickup_notices}, {"ready_at", o.ready_at}, {"shelf", o.pickup_shelf}},
               ctx);
        return {};
      });
}

bool FulfilmentOrders::uncollected_overdue(OrderState state, std::int64_t ready_at,
                                           std::int64_t now_ms) const {
  // The queue's overdue filter (search) asks the same of its rows in SQL.
  return state == OrderState::ready_for_pickup && ready_at > 0 &&
         ready_at < uncollected_cutoff(now_ms);
}

std::int64_t FulfilmentOrders::uncollected_cutoff(std::int64_t now_ms) const {
  // Days the store does not open do not count: walk back over the wait, then again over
  // the closed days that walk crossed, until no more are crossed.
  constexpr std::int64_t kDay = 24 * 3600 * 1000;
  std::int64_t cutoff = now_ms - policy_.return_uncollected_after_ms;
  for (int closed = 0, i = 0; i < 8; ++i) {
    const int crossed = policy_.capacity.hours.closed_days_between(cutoff, now_ms);
    if (crossed == closed) break;
    closed = crossed;
    cutoff = now_ms - policy_.return_uncollected_after_ms - closed * kDay;
  }
  return cutoff;
}

namespace {
// "3 days" (whole days, rounded down), "5 hours" under a day, "12 minutes" under an hour.
std::string waited(std::int64_t ms) {
  const auto say = [](std::int64_t n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  constexpr std::int64_t kMinute = 60 * 1000, kHour = 60 * kMinute, kDay = 24 * kHour;
  if (ms >= kDay) return say(ms / kDay, "day");
  if (ms >= kHour) return say(ms / kHour, "hour");
  return say(std::max<std::int64_t>(ms, 0) / kMinute, "minute");
}
}  // namespace

Result<void> FulfilmentOrders::return_uncollected(const std::string& id,
                                                  const CommandContext& ctx) {
  return transition<void>(
      id, OrderAction::return_uncollected, [&](FulfilmentOrder& o) -> Result<void> {
        if (!uncollected_overdue(o, ctx.now_ms)) {
          const std::string ref = o.order_ref.empty() ? o.id : o.order_ref;
          return fail(DomainErrc::illegal_transition,
                      "Order " + ref + " has waited for its customer " +
                          waited(ctx.now_ms - o.ready_at) +
                          ": it can be returned to stock only after " +
                          waited(policy_.return_uncollected_after_ms) +
                          " uncollected. Send the pickup notice again instead.");
        }
        // As for a reject after picking: the units never left the books, so releasing the
        // reservations makes them available again; put_back says what to reshelve.
        StockLedger ledger(db_);
        nlohmann::json released = nlohmann::json::array();
        nlohmann::json put_back = nlohmann::json::array();
        for (const auto& l : o.lines) {
          if (const auto n = ledger.release(o.id, l.line_no, l.quantity); n > 0)
            released.push_back({{"line_no", l.line_no}, {"sku", l.sku}, {"quantity", n}});
          if (l.picked > 0) put_back.push_back({{"sku", l.sku}, {"quantity", l.picked}});
        }
        o.reject_reason = "not_collected";
        record(o, Outcome::to, "order.returned_uncollected",
               {{"reason", o.reject_reason},
                {"ready_at", o.ready_at},
                {"pickup_notices", o.pickup_notices},
                {"released", released},
                {"put_back", put_back}},
               ctx);
        return {};
      });
}

Result<void> FulfilmentOrders::update_from_cloud(const std::string& id,
                                                 const std::optional<Address>& address,
                                                 std::optional<bool> hold,
                                                 const CommandContext& ctx) {
  if (!address && !hold)
    return fail(DomainErrc::invalid_argument, "an order update needs an address or a hold flag");
  const auto ended = [&](const FulfilmentOrder& o) -> Result<void> {
    return fail(DomainErrc::illegal_transition, "order " + id + " is " +
                                                    std::string(state_name(o.state)) +
                                                    "; it can no longer be updated");
  };
  const auto update = [&](FulfilmentOrder& o) -> Result<void> {
    nlohmann::json payload = nlohmann::json::object();
    if (address) {
      if (o.method != DeliveryMethod::ship)
        return fail(DomainErrc::invalid_argument,
                    "order " + id + " is collected in store; it has no delivery address");
      FulfilmentOrder probe = o;
      probe.address = *address;
      if (auto ok = validate_routed_order(probe); !ok) return ok;
      o.address = *address;
      payload["address_changed"] = true;
    }
    if (hold) {
      o.on_hold = *hold;
      payload["on_hold"] = *hold;
    }
    record(o, Outcome::to, "order.updated", payload, ctx);
    return {};
  };
  return transition<void>(id, OrderAction::update, update, ended);
}

Result<CancelResult> FulfilmentOrders::request_cancel(const std::string& id,
                                                      const std::string& reason,
                                                      const CommandContext& ctx) {
  if (auto ok = check_text("cancel reason", reason, 200, false); !ok) return unexpected(ok.error());
  // The cloud always gets an answer: a refusal is an event, not a transition.
  const auto refuse = [&](const FulfilmentOrder& o) -> Result<CancelResult> {
    const std::string why = o.state == OrderState::shipped     ? "already_shipped"
                            : o.state == OrderState::collected ? "already_collected"
                                                               : "already_ended";
    nlohmann::json payload = {{"order_id", o.id},
                              {"state", state_name(o.state)},
                              {"reason", why},
                              {"actor", ctx.actor.str()}};
    with_kind(payload, o);
    outbox_.append("order.cancel_refused", o.id, payload, ctx.now_ms);
    return CancelResult{CancelOutcome::refused, why};
  };
  const auto cancel = [&](FulfilmentOrder& o) -> Result<CancelResult> {
    StockLedger ledger(db_);
    nlohmann::json put_back = nlohmann::json::array();
    for (const auto& l : o.lines) {
      ledger.release(o.id, l.line_no, l.quantity);
      if (l.picked > 0) put_back.push_back({{"sku", l.sku}, {"quantity", l.picked}});
    }
    o.reject_reason = reason;
    // Picked units never left the books; the put-back list tells associates what to reshelve.
    record(o, Outcome::to, "order.cancelled", {{"reason", reason}, {"put_back", put_back}}, ctx);
    return CancelResult{CancelOutcome::cancelled, ""};
  };
  return transition<CancelResult>(id, OrderAction::cancel, cancel, refuse);
}

std::optional<FulfilmentOrder> FulfilmentOrders::find(const std::string& id) {
  return load_order(db_, id);
}

namespace {

// The queue's statement, in four forms: with or without a state (with one it walks the
// order_queue_by_state index, migration 014), with or without a search. Each reads the
// index in queue order and stops after limit + 1 rows. A line count and a unit count come
// from one subquery, packed as lines * 2^32 + units (units are at most 500 lines of
// 10000): a second subquery per order took the 100-order queue from 0.5 to 0.8 ms. When
// a pickup became ready is read from its history (as load_order does) only for the orders
// waiting on the shelf, so the rest of the queue pays nothing for it. ?9: only those
// ready since before this time (NULL: no such filter). ?10: only orders of this kind
// (customer or transfer; NULL: both).
constexpr std::string_view kQueueSelect =
    "SELECT o.id, o.order_ref, o.state, o.delivery_method, o.routed_at, o.accept_by, "
    "o.ship_by, o.customer_name, "
    "(SELECT count(*) * 4294967296 + coalesce(sum(quantity),0) FROM order_line l "
    "WHERE l.order_id=o.id), "
    "CASE WHEN o.state='ready_for_pickup' THEN (SELECT coalesce(max(at),0) FROM order_history h "
    "WHERE h.order_id=o.id AND h.to_state='ready_for_pickup' AND "
    "h.from_state<>'ready_for_pickup') ELSE 0 END AS ready_at, o.capacity_flag, o.kind, "
    "o.destination_store FROM fulfilment_order o WHERE (?2 IS NULL OR o.delivery_method=?2) "
    "AND (?10 IS NULL OR o.kind=?10) "
    "AND (?9 IS NULL OR (o.state='ready_for_pickup' AND ready_at > 0 AND ready_at < ?9)) ";
constexpr std::string_view kQueueState = "AND o.state=?1 ";
// ?4: a LIKE prefix of the text, ?5: a LIKE "contains" of the text, ?6: a LIKE "contains"
// of its digits (NULL under 4 digits), ?7: the text as a SKU, ?8: the SKU its barcode
// names (NULL when none). LIKE ignores ASCII case; the SKUs compare without case. The
// name and phone are migration 014's columns: parsing each order's customer JSON instead
// made a search of 20000 orders take 20 to 50 ms rather than 15.
constexpr std::string_view kQueueSearch =
    "AND (o.id LIKE ?4 ESCAPE '\\' OR o.order_ref LIKE ?4 ESCAPE '\\' "
    "OR o.customer_name LIKE ?5 ESCAPE '\\' OR o.phone_search LIKE ?6 "
    "OR o.id IN (SELECT order_id FROM order_line WHERE sku=?7 COLLATE NOCASE "
    "OR sku=?8 COLLATE NOCASE)) ";
constexpr std::string_view kQueueOrder = "ORDER BY o.routed_at, o.id LIMIT ?3";

}  // namespace

Result<OrderPage> FulfilmentOrders::search(const OrderQuery& query) {
  namespace st = search_text;
  const auto text = st::trimmed(query.text);
  if (const auto n = st::characters(text); n > kMaxOrderSearchText)
    return fail(DomainErrc::invalid_argument,
                "the search text is " + std::to_string(n) + " characters long; at most " +
                    std::to_string(kMaxOrderSearchText) + " are allowed");
  OrderPage page;
  if (query.limit == 0) return page;
  // Only pickups on the shelf can be overdue: the state's index narrows the walk to them.
  auto state = query.state;
  if (query.overdue_at) {
    if (state && *state != OrderState::ready_for_pickup) return page;
    state = OrderState::ready_for_pickup;
  }
  static const std::string forms[2][2] = {
      {std::string(kQueueSelect) + std::string(kQueueOrder),
       std::string(kQueueSelect) + std::string(kQueueSearch) + std::string(kQueueOrder)},
      {std::string(kQueueSelect) + std::string(kQueueState) + std::string(kQueueOrder),
       std::string(kQueueSelect) + std::string(kQueueState) + std::string(kQueueSearch) +
           std::string(kQueueOrder)}};
  // The barcode's SKU first: it reads the catalog, and a statement is not re-entrant.
  const auto barcode_sku = text.empty() ? std::nullopt : st::sku_for_barcode(db_, text);
  auto s = db_.prepare(forms[state ? 1 : 0][text.empty() ? 0 : 1]);
  if (state) s.bind(1, state_name(*state));
  if (query.method)
    s.bind(2, method_name(*query.method));
  else
    s.bind_null(2);
  // One more than asked: whether there were more is part of the answer.
  s.bind(3, static_cast<std::int64_t>(query.limit) + 1);
  if (!text.empty()) {
    s.bind(4, st::like_prefix(text));
    s.bind(5, st::like_contains(text));
    if (const auto digits = st::digits(text); digits.size() >= 4)
      s.bind(6, "%" + digits + "%");
    else
      s.bind_null(6);
    s.bind(7, text);
    s.bind_optional(8, barcode_sku);
  }
  if (query.overdue_at)
    s.bind(9, uncollected_cutoff(*query.overdue_at));
  else
    s.bind_null(9);
  if (query.kind)
    s.bind(10, order_kind_name(*query.kind));
  else
    s.bind_null(10);
  while (s.step()) {
    if (page.orders.size() == query.limit) {
      page.truncated = true;
      break;
    }
    OrderSummary o;
    o.id = s.text(0);
    o.order_ref = s.text(1);
    o.state = state_from(s.text(2)).value_or(OrderState::routed);
    o.method = method_from(s.text(3)).value_or(DeliveryMethod::ship);
    o.routed_at = s.int64(4);
    o.accept_by = s.int64(5);
    o.ship_by = s.int64(6);
    o.customer_name = s.text(7);
    o.lines = s.int64(8) >> 32;
    o.units = s.int64(8) & 0xFFFFFFFF;
    o.ready_at = s.int64(9);
    o.capacity_flag = s.text(10);
    o.kind = order_kind_from(s.text(11)).value_or(OrderKind::customer);
    o.destination_store = s.text(12);
    page.orders.push_back(std::move(o));
  }
  return page;
}

std::vector<OrderSummary> FulfilmentOrders::list(std::optional<OrderState> state,
                                                 std::size_t limit) {
  auto page = search({state, std::nullopt, "", limit});
  return page ? std::move(page->orders) : std::vector<OrderSummary>{};
}

std::optional<std::string> FulfilmentOrders::id_for_ref(const std::string& order_ref) {
  return order_id_for_ref(db_, order_ref);
}

std::optional<ParcelMatch> FulfilmentOrders::find_parcel(const std::string& code) {
  // "<order id>-<package_no>": the order id may hold '-' itself, the number never does.
  if (const auto dash = code.rfind('-'); dash != std::string::npos && dash > 0) {
    const std::string number = code.substr(dash + 1);
    if (!number.empty() && number.size() <= 6 &&
        number.find_first_not_of("0123456789") == std::string::npos) {
      auto s = db_.prepare("SELECT package_no FROM package WHERE order_id=? AND package_no=?");
      s.bind(1, code.substr(0, dash)).bind(2, std::stoi(number));
      if (s.step())
        return ParcelMatch{ParcelMatch::By::package, code.substr(0, dash),
                           static_cast<int>(s.int64(0))};
    }
  }
  if (code.empty()) return std::nullopt;
  std::string id;
  {
    auto s = db_.prepare(
        "SELECT id FROM fulfilment_order WHERE tracking=? AND tracking<>'' "
        "ORDER BY routed_at DESC, id DESC LIMIT 1");
    s.bind(1, code);
    if (!s.step()) return std::nullopt;
    id = s.text(0);
  }
  ParcelMatch match{ParcelMatch::By::tracking, id, std::nullopt};
  auto s = db_.prepare("SELECT min(package_no), count(*) FROM package WHERE order_id=?");
  s.bind(1, id);
  if (s.step() && s.int64(1) == 1) match.package_no = static_cast<int>(s.int64(0));
  return match;
}

std::map<std::string, std::int64_t> FulfilmentOrders::count_by_state() {
  // A GROUP BY over every kept order (27k at 90 days' retention) takes milliseconds. Inside
  // a transaction the count may include changes a rollback takes back: never kept then.
  const bool cacheable = !db_.in_transaction();
  const std::uint64_t version = cacheable ? db_.data_version() : 0;
  if (cacheable && state_counts_ && state_counts_->data_version == version)
    return state_counts_->by_state;
  std::map<std::string, std::int64_t> out;
  for (auto s : all_states()) out[std::string(state_name(s))] = 0;
  auto s = db_.prepare("SELECT state, count(*) FROM fulfilment_order GROUP BY state");
  while (s.step()) out[s.text(0)] = s.int64(1);
  if (cacheable) state_counts_ = StateCounts{version, out};
  return out;
}

}  // namespace fulfil::agent
