#pragma once
// One store's state: the database and the domain services over it. Opened once by the
// daemon (and by tests and benchmarks the same way).
#include <memory>

#include "config/clock.hpp"
#include "config/settings.hpp"
#include "domain/count_sessions.hpp"
#include "domain/inventory.hpp"
#include "domain/orders.hpp"
#include "domain/outbox.hpp"
#include "domain/pick_lists.hpp"
#include "domain/print_jobs.hpp"
#include "domain/receiving.hpp"
#include "domain/remote_configs.hpp"
#include "domain/returns.hpp"
#include "domain/stations.hpp"
#include "domain/terminals.hpp"
#include "domain/till_sales.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

// Whose database this is. `database_id` is made once, when the database is first opened,
// and never changes: a device credential records it, so a database that was lost and
// started afresh (or swapped) is told apart from the one the cloud knows. `store_id` is
// the store it was first opened for.
struct StoreIdentity {
  std::string database_id;
  std::string store_id;
};

class Store {
 public:
  // With a `store_id`, a database that belongs to another store is refused, and a new one
  // is bound to this store (tests and tools that pass none are bound to nothing).
  static Expected<std::unique_ptr<Store>, OpenError> open(const DatabaseOptions& db,
                                                          OrderPolicy policy,
                                                          const std::string& store_id = "");
  const StoreIdentity& identity() const { return identity_; }
  Database& db() { return *db_; }
  Outbox& outbox() { return outbox_; }
  Inventory& inventory() { return inventory_; }
  FulfilmentOrders& orders() { return orders_; }
  PickLists& pick_lists() { return pick_lists_; }
  Returns& returns() { return returns_; }
  Terminals& terminals() { return terminals_; }
  StationSessions& stations() { return stations_; }
  PrintJobs& print_jobs() { return print_jobs_; }
  RemoteConfigs& remote_configs() { return remote_configs_; }
  Receiving& receiving() { return receiving_; }
  TillSales& till_sales() { return till_sales_; }
  CountSessions& count_sessions() { return count_sessions_; }

 private:
  Store(std::unique_ptr<Database> db, OrderPolicy policy, StoreIdentity identity);
  std::unique_ptr<Database> db_;
  StoreIdentity identity_;
  Outbox outbox_;
  Inventory inventory_;
  FulfilmentOrders orders_;
  PickLists pick_lists_;
  Returns returns_;
  Terminals terminals_;
  StationSessions stations_;
  PrintJobs print_jobs_;
  RemoteConfigs remote_configs_;
  Receiving receiving_;
  TillSales till_sales_;
  CountSessions count_sessions_;
};

DatabaseOptions database_options(const config::Settings& settings);
OrderPolicy order_policy(const config::Settings& settings);
using config::now_ms;

}  // namespace fulfil::agent
