#include "domain/capacity.hpp"

#include <algorithm>

#include "domain/transaction.hpp"
#include "state_names.hpp"
#include "text_checks.hpp"

namespace fulfil::agent {
namespace {

constexpr std::int64_t kMaxPauseMs = std::int64_t{7} * 24 * 3600 * 1000;

nlohmann::json pause_json(const std::optional<StorePause>& p) {
  if (!p) return nullptr;
  return {{"reason", p->reason},
          {"note", p->note},
          {"paused_by", p->paused_by},
          {"paused_at", p->paused_at},
          {"paused_until", p->paused_until}};
}

nlohmann::json optional_count(const std::optional<std::int64_t>& n) {
  return n ? nlohmann::json(*n) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json capacity_json(const CapacityStatus& s) {
  const auto per_day =
      s.orders_per_day < 0 ? std::nullopt : std::optional<std::int64_t>(s.orders_per_day);
  return {{"orders_per_day", optional_count(per_day)},
          {"routed_today", s.routed_today},
          {"remaining_today", optional_count(s.remaining_today)},
          {"paused", s.pause.has_value()},
          {"pause", pause_json(s.pause)},
          {"open_now", s.open_now},
          {"taking_orders", s.taking_orders()},
          {"flag_now", s.flag_now}};
}

std::optional<StorePause> StoreCapacity::pause_in_effect(std::int64_t now_ms) {
  auto s = db_.prepare(
      "SELECT reason, note, paused_by, paused_at, paused_until FROM store_pause WHERE id=1");
  if (!s.step()) return std::nullopt;
  StorePause p{s.text(0), s.text(1), s.text(2), s.int64(3), s.int64(4)};
  if (p.paused_until != 0 && now_ms >= p.paused_until) return std::nullopt;
  return p;
}

CapacityStatus StoreCapacity::status(std::int64_t now_ms) {
  CapacityStatus st;
  st.orders_per_day = policy_.orders_per_day;
  const std::int64_t today = OpeningHours::day_start(now_ms);
  // Customer orders only: transfers to other stores are not what capacity limits.
  auto s = db_.prepare(
      "SELECT count(*) FROM fulfilment_order WHERE routed_at >= ? AND routed_at < ? "
      "AND kind='customer'");
  s.bind(1, today).bind(2, OpeningHours::day_start(today + 36 * 3600 * 1000));
  s.step();
  st.routed_today = s.int64(0);
  if (st.orders_per_day >= 0)
    st.remaining_today = std::max<std::int64_t>(0, st.orders_per_day - st.routed_today);
  st.pause = pause_in_effect(now_ms);
  st.open_now = policy_.hours.open_at(now_ms);
  if (st.pause)
    st.flag_now = "paused";
  else if (!st.open_now)
    st.flag_now = "closed";
  else if (st.remaining_today && *st.remaining_today == 0)
    st.flag_now = "over_capacity";
  return st;
}

Result<CapacityStatus> StoreCapacity::pause(const StorePause& p, const CommandContext& ctx) {
  if (std::find(kPauseReasons.begin(), kPauseReasons.end(), p.reason) == kPauseReasons.end())
    return fail(DomainErrc::invalid_argument,
                "pause reason '" + p.reason + "' is not one of: " + joined_names(kPauseReasons));
  if (auto ok = check_text("note", p.note, 200, false); !ok) return unexpected(ok.error());
  if (p.paused_until != 0 &&
      (p.paused_until <= ctx.now_ms || p.paused_until > ctx.now_ms + kMaxPauseMs))
    return fail(DomainErrc::invalid_argument,
                "paused_until must be in the next 7 days (or 0: until resumed)");
  return commit_or_rollback(db_, [&]() -> Result<CapacityStatus> {
    db_.prepare(
           "INSERT OR REPLACE INTO store_pause (id, reason, note, paused_by, paused_at, "
           "paused_until) VALUES (1, ?, ?, ?, ?, ?)")
        .bind(1, p.reason)
        .bind(2, p.note)
        .bind(3, ctx.actor.str())
        .bind(4, ctx.now_ms)
        .bind(5, p.paused_until)
        .run();
    auto st = status(ctx.now_ms);
    report(st, "paused", ctx);
    return st;
  });
}

Result<CapacityStatus> StoreCapacity::resume(const CommandContext& ctx) {
  return commit_or_rollback(db_, [&]() -> Result<CapacityStatus> {
    if (!pause_in_effect(ctx.now_ms))
      return fail(DomainErrc::illegal_transition, "the store is not paused: it takes orders");
    db_.prepare("DELETE FROM store_pause").run();
    auto st = status(ctx.now_ms);
    report(st, "resumed", ctx);
    return st;
  });
}

Result<bool> StoreCapacity::end_expired_pause(const CommandContext& ctx) {
  return commit_or_rollback(db_, [&]() -> Result<bool> {
    auto s = db_.prepare(
        "DELETE FROM store_pause WHERE id=1 AND paused_until != 0 AND paused_until <= ? "
        "RETURNING id");
    s.bind(1, ctx.now_ms);
    const bool ended = s.step();
    while (s.step()) {
    }
    if (ended) report(status(ctx.now_ms), "resumed", ctx, "pause_expired");
    return ended;
  });
}

std::string StoreCapacity::flag_for_routed_order(const CommandContext& ctx) {
  CapacityStatus st = status(ctx.now_ms);
  if (st.taking_orders() && st.remaining_today && *st.remaining_today == 1) {
    // This order fills the day: the router hears it now, not at the next heartbeat.
    st.routed_today += 1;
    st.remaining_today = 0;
    st.flag_now = "over_capacity";
    report(st, "full", ctx);
    return "";
  }
  return st.flag_now;
}

void StoreCapacity::report(const CapacityStatus& st, const std::string& why,
                           const CommandContext& ctx, const std::string& cause) {
  nlohmann::json payload = capacity_json(st);
  payload["change"] = why;
  if (!cause.empty()) payload["cause"] = cause;
  payload["actor"] = ctx.actor.str();
  outbox_.append("store.capacity_changed", "store", payload, ctx.now_ms);
}

}  // namespace fulfil::agent
