#pragma once
// How many orders the store takes, and when it is open. The cloud's router decides where
// orders go; the store tells it what it can take (the heartbeat and store.capacity_changed)
// and still receives whatever is routed, flagging what came beyond that. Times are the
// box's local time (its time zone, /etc/localtime or TZ).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/domain.hpp"
#include "domain/outbox.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

// One opening interval a day, in minutes after local midnight: [open, close). A day
// without one is closed, as is each listed date.
struct OpeningHours {
  struct Interval {
    int open_minute = 0;
    int close_minute = 24 * 60;
  };
  std::array<std::optional<Interval>, 7> week;  // Monday first
  std::vector<std::string> closed_dates;        // "2026-12-25", local dates

  static OpeningHours always();
  // "09:00-21:00" (close may be "24:00"); "" is closed.
  static std::optional<Interval> interval_from(std::string_view text);
  bool open_at(std::int64_t ms) const;
  // The instant `open_ms` of opening time after `from` (the clock stops while closed). A
  // store never open counts all time, so that deadlines still come.
  std::int64_t after_open_time(std::int64_t from, std::int64_t open_ms) const;
  // Whole local days the store does not open, from the day of `from` to the day of `to`.
  int closed_days_between(std::int64_t from, std::int64_t to) const;
  // Local midnight starting the day of `ms`.
  static std::int64_t day_start(std::int64_t ms);
};

struct CapacityPolicy {
  std::int64_t orders_per_day = -1;  // -1: unlimited; 0: takes no orders
  OpeningHours hours = OpeningHours::always();
};

inline constexpr std::array<std::string_view, 5> kPauseReasons = {
    "closing_early", "short_staffed", "stock_take", "system_problem", "other"};

struct StorePause {
  std::string reason;  // one of kPauseReasons
  std::string note;
  std::string paused_by;
  std::int64_t paused_at = 0;
  std::int64_t paused_until = 0;  // 0: until resumed
};

struct CapacityStatus {
  std::int64_t orders_per_day = -1;
  std::int64_t routed_today = 0;  // customer orders routed today (transfers do not count)
  std::optional<std::int64_t> remaining_today;  // none: unlimited
  std::optional<StorePause> pause;              // in effect now
  bool open_now = true;
  // What an order routed now would be flagged with ("" when the store takes it).
  std::string flag_now;
  bool taking_orders() const { return flag_now.empty(); }
};
nlohmann::json capacity_json(const CapacityStatus& status);

class StoreCapacity {
 public:
  StoreCapacity(Database& db, Outbox& outbox, const CapacityPolicy& policy)
      : db_(db), outbox_(outbox), policy_(policy) {}
  CapacityStatus status(std::int64_t now_ms);
  // Pausing again replaces the pause. Each is reported (store.capacity_changed).
  Result<CapacityStatus> pause(const StorePause& pause, const CommandContext& ctx);
  Result<CapacityStatus> resume(const CommandContext& ctx);
  // A pause whose paused_until has come ends: its row is deleted and store.capacity_changed
  // (resumed, cause pause_expired) appended in one transaction, so the router hears it
  // exactly once, a restart included. Whether one ended. Called by the daemon's sweep.
  Result<bool> end_expired_pause(const CommandContext& ctx);
  // Inside the transaction that receives an order, before it is inserted: its flag, and
  // store.capacity_changed once this order fills the day.
  std::string flag_for_routed_order(const CommandContext& ctx);

 private:
  std::optional<StorePause> pause_in_effect(std::int64_t now_ms);
  void report(const CapacityStatus& status, const std::string& why, const CommandContext& ctx,
              const std::string& cause = "");
  Database& db_;
  Outbox& outbox_;
  const CapacityPolicy& policy_;
};

}  // namespace fulfil::agent
