#include "domain/store.hpp"

#include <optional>

namespace fulfil::agent {

Store::Store(std::unique_ptr<Database> db, OrderPolicy policy, StoreIdentity identity)
    : db_(std::move(db)),
      identity_(std::move(identity)),
      outbox_(*db_),
      inventory_(*db_, outbox_),
      orders_(*db_, outbox_, std::move(policy)),
      pick_lists_(*db_, orders_, inventory_),
      returns_(*db_, outbox_),
      terminals_(*db_),
      stations_(*db_),
      print_jobs_(*db_),
      remote_configs_(*db_, outbox_),
      receiving_(*db_, outbox_, inventory_),
      till_sales_(*db_, outbox_),
      count_sessions_(*db_, outbox_, inventory_) {}

namespace {

std::optional<std::string> meta_value(Database& db, const char* key) {
  auto s = db.prepare("SELECT value FROM meta WHERE key=?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

void set_meta(Database& db, const char* key, const std::string& value) {
  db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)").bind(1, key).bind(2, value).run();
}

Expected<StoreIdentity, OpenError> claim_identity(Database& db, const std::string& path,
                                                  const std::string& store_id) {
  try {
    Transaction tx(db);
    StoreIdentity id;
    id.database_id = meta_value(db, "database_id").value_or("");
    if (id.database_id.empty()) {
      id.database_id = "db-" + new_uuid();
      set_meta(db, "database_id", id.database_id);
    }
    id.store_id = meta_value(db, "store_id").value_or("");
    if (id.store_id.empty() && !store_id.empty()) {
      id.store_id = store_id;
      set_meta(db, "store_id", store_id);
    }
    if (!store_id.empty() && id.store_id != store_id)
      return unexpected(OpenError{
          "database " + path + " belongs to store '" + id.store_id +
          "', but this fulfild is store '" + store_id +
          "' (store.id): it will not serve another store's orders and stock. Use that store's "
          "configuration or state directory, or move the database aside to start this store "
          "afresh."});
    tx.commit();
    return id;
  } catch (const StorageFailure& e) {
    return unexpected(OpenError{"database " + path + ": cannot record whose it is: " + e.what()});
  }
}

}  // namespace

Expected<std::unique_ptr<Store>, OpenError> Store::open(const DatabaseOptions& options,
                                                        OrderPolicy policy,
                                                        const std::string& store_id) {
  auto db = Database::open(options);
  if (!db) return unexpected(db.error());
  auto identity = claim_identity(**db, options.path, store_id);
  if (!identity) return unexpected(identity.error());
  return std::unique_ptr<Store>(new Store(std::move(*db), std::move(policy), std::move(*identity)));
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
  p.reason_effects.clear();
  for (const auto& e : s.orders.reason_effects)
    p.reason_effects.push_back(
        {e.reason, stock_effect_from(e.stock).value_or(StockEffect::none), e.avoid_store_hours});
  p.capacity.orders_per_day = s.capacity.orders_per_day;
  for (std::size_t day = 0; day < 7; ++day)
    p.capacity.hours.week[day] = OpeningHours::interval_from(s.capacity.opening_hours[day]);
  p.capacity.hours.closed_dates = s.capacity.closed_dates;
  p.pickup_code_max_attempts = s.orders.pickup_code_max_attempts;
  p.allow_negative_available = s.inventory.allow_negative_available;
  p.return_uncollected_after_ms = std::int64_t{s.pickup.return_after_days} * 24 * 3600 * 1000;
  return p;
}

}  // namespace fulfil::agent
