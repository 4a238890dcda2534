#include "domain/pick_lists.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <tuple>

#include "domain/transaction.hpp"

namespace fulfil::agent {
namespace {

constexpr std::string_view kListPrefix = "PL-";

// An order that is on an open list (and so cannot go on another).
std::optional<PickListPlace> open_place(Database& db, const std::string& order_id) {
  auto s = db.prepare(
      "SELECT p.pick_list_id, p.tote FROM pick_list_order p JOIN pick_list l ON "
      "l.id = p.pick_list_id WHERE p.order_id = ? AND l.state = 'open'");
  s.bind(1, order_id);
  if (!s.step()) return std::nullopt;
  return PickListPlace{s.int64(0), static_cast<int>(s.int64(1))};
}

std::vector<std::string> rule_orders(Database& db, const PickListRule& rule) {
  auto s = db.prepare(
      "SELECT o.id FROM fulfilment_order o WHERE o.state = 'accepted' AND o.on_hold = 0 "
      "AND (?1 = '' OR o.delivery_method = ?1) "
      "AND NOT EXISTS (SELECT 1 FROM pick_list_order p JOIN pick_list l ON l.id = "
      "p.pick_list_id WHERE p.order_id = o.id AND l.state = 'open') "
      "AND (?2 = 0 OR (SELECT sum(quantity - rejected) FROM order_line WHERE order_id = o.id) "
      "<= ?2) "
      "ORDER BY o.ship_by = 0, o.ship_by, o.routed_at, o.id LIMIT ?3");
  s.bind(1, rule.method ? std::string(method_name(*rule.method)) : std::string());
  s.bind(2, rule.max_units);
  s.bind(3, static_cast<std::int64_t>(rule.max_orders));
  std::vector<std::string> ids;
  while (s.step()) ids.push_back(s.text(0));
  return ids;
}

bool resolved(const FulfilmentOrder& o) {
  return std::all_of(o.lines.begin(), o.lines.end(),
                     [](const OrderLine& l) { return l.open() == 0; });
}

}  // namespace

std::string_view pick_list_state_name(PickListState s) {
  return s == PickListState::open ? "open" : "closed";
}

std::string pick_list_name(std::int64_t id) {
  return std::string(kListPrefix) + std::to_string(id);
}

std::optional<std::int64_t> pick_list_id_from(std::string_view name) {
  if (name.substr(0, kListPrefix.size()) == kListPrefix) name.remove_prefix(kListPrefix.size());
  std::int64_t id = 0;
  const auto* end = name.data() + name.size();
  auto [p, ec] = std::from_chars(name.data(), end, id);
  if (ec != std::errc() || p != end || id <= 0 || name.empty()) return std::nullopt;
  return id;
}

std::int64_t PickStop::open() const {
  std::int64_t n = 0;
  for (const auto& s : slots) n += s.open;
  return n;
}

std::int64_t PickList::open_units() const {
  std::int64_t n = 0;
  for (const auto& s : stops) n += s.open();
  return n;
}

Result<PickList> PickLists::create(const std::vector<std::string>& order_ids,
                                   const CommandContext& ctx) {
  if (order_ids.empty())
    return fail(DomainErrc::invalid_argument, "a pick list needs at least one order");
  if (order_ids.size() > kMaxPickListOrders)
    return fail(DomainErrc::invalid_argument,
                "a pick list takes at most " + std::to_string(kMaxPickListOrders) +
                    " orders (one per tote); " + std::to_string(order_ids.size()) + " were given");
  std::set<std::string> seen;
  for (const auto& id : order_ids)
    if (!seen.insert(id).second)
      return fail(DomainErrc::invalid_argument, "order " + id + " is on the list twice");
  return commit_or_rollback(db_, [&]() -> Result<PickList> {
    db_.prepare("INSERT INTO pick_list (state, created_by, created_at) VALUES ('open', ?, ?)")
        .bind(1, ctx.actor.str())
        .bind(2, ctx.now_ms)
        .run();
    const std::int64_t list = db_.last_insert_rowid();
    int tote = 0;
    for (const auto& id : order_ids) {
      auto order = orders_.find(id);
      if (!order) return fail(DomainErrc::not_found, "no fulfilment order " + id);
      if (auto place = open_place(db_, id))
        return fail(DomainErrc::invalid_argument,
                    "order " + order->order_ref + " is already on pick list " +
                        pick_list_name(place->pick_list_id) + " (tote " +
                        std::to_string(place->tote) + ")");
      // An order already being picked joins the walk if it is the picker's; anything else
      // starts picking now, which says in words why an order cannot.
      auto started = order->state == OrderState::picking ? orders_.claims().take(id, ctx)
                                                         : orders_.start_picking(id, ctx);
      if (!started) return unexpected(started.error());
      db_.prepare("INSERT INTO pick_list_order (pick_list_id, tote, order_id) VALUES (?, ?, ?)")
          .bind(1, list)
          .bind(2, ++tote)
          .bind(3, id)
          .run();
    }
    return open_list(list);
  });
}

Result<PickList> PickLists::create(const PickListRule& rule, const CommandContext& ctx) {
  if (rule.max_orders < 1 || rule.max_orders > kMaxPickListOrders)
    return fail(DomainErrc::invalid_argument,
                "a pick list takes 1 to " + std::to_string(kMaxPickListOrders) + " orders");
  auto ids = rule_orders(db_, rule);
  if (ids.empty())
    return fail(
        DomainErrc::not_found,
        std::string("no accepted ") +
            (rule.method ? std::string(method_name(*rule.method)) + " " : "") +
            "orders are waiting to be picked" +
            (rule.max_units ? " with at most " + std::to_string(rule.max_units) + " units" : ""));
  return create(ids, ctx);
}

std::optional<PickList> PickLists::find(std::int64_t id) {
  auto s = db_.prepare("SELECT state, created_by, created_at, closed_at FROM pick_list WHERE id=?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  PickList list;
  list.id = id;
  list.state = s.text(0) == "open" ? PickListState::open : PickListState::closed;
  list.created_by = s.text(1);
  list.created_at = s.int64(2);
  list.closed_at = s.is_null(3) ? 0 : s.int64(3);
  std::vector<std::pair<int, std::string>> totes;
  auto t =
      db_.prepare("SELECT tote, order_id FROM pick_list_order WHERE pick_list_id=? ORDER BY tote");
  t.bind(1, id);
  while (t.step()) totes.emplace_back(static_cast<int>(t.int64(0)), t.text(1));
  std::map<std::tuple<std::string, std::string>, PickStop> stops;  // by (bin, sku)
  for (const auto& [tote, order_id] : totes) {
    auto o = orders_.find(order_id);
    if (!o) continue;  // orders are never deleted; a damaged row is not worth a crash
    ToteOrder to{tote, o->id, o->order_ref, o->customer.name, o->state};
    const bool picking = o->state == OrderState::picking;
    for (const auto& l : o->lines) {
      to.units += l.quantity;
      to.picked += l.picked;
      to.short_units += l.rejected;
      auto level = inventory_.level(l.sku);
      const std::string bin = level ? level->bin : "";
      auto& stop = stops[{bin, l.sku}];
      stop.bin = bin;
      stop.sku = l.sku;
      stop.title = level ? level->title : "";
      stop.slots.push_back({tote, o->id, o->order_ref, l.line_no, l.quantity, l.picked, l.rejected,
                            picking ? l.open() : 0});
    }
    list.orders.push_back(std::move(to));
  }
  for (auto& [key, stop] : stops) list.stops.push_back(std::move(stop));
  return list;
}

std::vector<PickList> PickLists::open_lists() {
  std::vector<std::int64_t> ids;
  auto s = db_.prepare("SELECT id FROM pick_list WHERE state = 'open' ORDER BY id");
  while (s.step()) ids.push_back(s.int64(0));
  std::vector<PickList> out;
  for (auto id : ids)
    if (auto list = find(id)) out.push_back(std::move(*list));
  return out;
}

std::optional<PickListPlace> PickLists::place_of(const std::string& order_id) {
  return open_place(db_, order_id);
}

Result<PickList> PickLists::open_list(std::int64_t id) {
  auto list = find(id);
  if (!list) return fail(DomainErrc::not_found, "no pick list " + pick_list_name(id));
  if (list->state != PickListState::open)
    return fail(DomainErrc::illegal_transition,
                "pick list " + list->name() + " is closed: nothing more is picked on it");
  return std::move(*list);
}

Result<void> PickLists::finish_if_resolved(const std::string& order_id, const CommandContext& ctx) {
  auto o = orders_.find(order_id);
  if (!o || o->state != OrderState::picking || !resolved(*o)) return {};
  return orders_.complete_picking(order_id, ctx);
}

void PickLists::close_if_done(std::int64_t id, const CommandContext& ctx) {
  auto s = db_.prepare(
      "UPDATE pick_list SET state = 'closed', closed_at = ?1 WHERE id = ?2 AND state = 'open' "
      "AND NOT EXISTS (SELECT 1 FROM pick_list_order p JOIN fulfilment_order o ON o.id = "
      "p.order_id WHERE p.pick_list_id = ?2 AND o.state = 'picking')");
  s.bind(1, ctx.now_ms).bind(2, id).run();
}

Result<TotePick> PickLists::pick(std::int64_t id, const std::string& sku,
                                 const CommandContext& ctx) {
  return commit_or_rollback(db_, [&]() -> Result<TotePick> {
    auto list = open_list(id);
    if (!list) return unexpected(list.error());
    const PickStop::Slot* slot = nullptr;
    bool on_list = false;
    for (const auto& stop : list->stops) {
      if (stop.sku != sku) continue;
      on_list = true;
      for (const auto& s : stop.slots)
        if (s.open > 0 && (!slot || s.tote < slot->tote)) slot = &s;
    }
    if (!slot)
      return fail(DomainErrc::invalid_argument,
                  on_list
                      ? "SKU " + sku + " is already fully picked for pick list " + list->name()
                      : "SKU " + sku + " is not on pick list " + list->name() + " (wrong item)");
    auto picked =
        orders_.pick_item(slot->order_id, sku, 1, ctx, ToteSlot{list->name(), slot->tote});
    if (!picked) return unexpected(picked.error());
    TotePick out{slot->tote, slot->order_id, slot->order_ref, picked->line_no, picked->line_open};
    if (picked->all_lines_resolved) {
      if (auto done = orders_.complete_picking(slot->order_id, ctx); !done)
        return unexpected(done.error());
      out.order_picked = true;
    }
    close_if_done(id, ctx);
    out.list_closed = db_.changes() > 0;
    return out;
  });
}

Result<std::vector<ToteShort>> PickLists::short_pick(std::int64_t id, const std::string& sku,
                                                     std::int64_t quantity,
                                                     const std::string& reason,
                                                     const CommandContext& ctx) {
  if (quantity <= 0 || quantity > 10000)
    return fail(DomainErrc::invalid_argument, "short-pick quantity must be 1 to 10000");
  return commit_or_rollback(db_, [&]() -> Result<std::vector<ToteShort>> {
    auto list = open_list(id);
    if (!list) return unexpected(list.error());
    std::vector<PickStop::Slot> needing;
    for (const auto& stop : list->stops)
      if (stop.sku == sku)
        for (const auto& s : stop.slots)
          if (s.open > 0) needing.push_back(s);
    std::int64_t needed = 0;
    for (const auto& s : needing) needed += s.open;
    if (needed == 0)
      return fail(DomainErrc::invalid_argument,
                  "no order on pick list " + list->name() + " still needs SKU " + sku);
    if (quantity > needed)
      return fail(DomainErrc::invalid_argument,
                  "pick list " + list->name() + " needs " + std::to_string(needed) +
                      " more of SKU " + sku + "; cannot short-pick " + std::to_string(quantity));
    std::sort(needing.begin(), needing.end(),
              [](const auto& a, const auto& b) { return a.tote > b.tote; });
    std::vector<ToteShort> out;
    std::int64_t left = quantity;
    for (const auto& s : needing) {
      if (left == 0) break;
      const std::int64_t n = std::min(left, s.open);
      auto shorted =
          orders_.short_pick(s.order_id, s.line_no, n, reason, ctx, ToteSlot{list->name(), s.tote});
      if (!shorted) return unexpected(shorted.error());
      if (auto done = finish_if_resolved(s.order_id, ctx); !done) return unexpected(done.error());
      left -= n;
      out.push_back({s.tote, s.order_id, s.line_no, n, orders_.find(s.order_id)->state});
    }
    close_if_done(id, ctx);
    return out;
  });
}

Result<PickList> PickLists::close(std::int64_t id, const CommandContext& ctx) {
  return commit_or_rollback(db_, [&]() -> Result<PickList> {
    if (auto list = open_list(id); !list) return unexpected(list.error());
    db_.prepare("UPDATE pick_list SET state = 'closed', closed_at = ? WHERE id = ?")
        .bind(1, ctx.now_ms)
        .bind(2, id)
        .run();
    return std::move(*find(id));
  });
}

}  // namespace fulfil::agent
