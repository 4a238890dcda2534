#include "agent/store.hpp"

#include <chrono>

namespace fulfil::agent {

Store::Store(std::unique_ptr<Database> db, OrderPolicy policy)
    : db_(std::move(db)),
      outbox_(*db_),
      inventory_(*db_, outbox_),
      orders_(*db_, outbox_, std::move(policy)),
      returns_(*db_, outbox_),
      terminals_(*db_),
      stations_(*db_),
      print_jobs_(*db_),
      remote_configs_(*db_, outbox_) {}

Expected<std::unique_ptr<Store>, OpenError> Store::open(const DatabaseOptions& options,
                                                        OrderPolicy policy) {
  auto db = Database::open(options);
  if (!db) return unexpected(db.error());
  return std::unique_ptr<Store>(new Store(std::move(*db), std::move(policy)));
}

DatabaseOptions database_options(const config::Settings& s) {
  return {s.storage.state_dir + "/fulfild.db", s.storage.integrity_check,
          s.storage.busy_timeout_ms};
}

OrderPolicy order_policy(const config::Settings& s) {
  OrderPolicy p;
  p.default_accept_sla_ms = std::int64_t{s.orders.default_accept_sla_s} * 1000;
  p.reject_reasons = s.orders.reject_reasons;
  p.short_pick_reasons = s.orders.short_pick_reasons;
  p.pickup_code_max_attempts = s.orders.pickup_code_max_attempts;
  p.allow_negative_available = s.inventory.allow_negative_available;
  return p;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace fulfil::agent
