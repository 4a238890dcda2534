#pragma once
// Internal to agent/: the single place where stock counters change. Called inside an open
// transaction by inventory, orders and returns.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/domain.hpp"
#include "domain/inventory.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

enum class Bucket { on_hand, unsellable };

struct Movement {
  std::string sku;
  Bucket bucket = Bucket::on_hand;
  std::int64_t delta = 0;
  // receipt, sale, transfer_out, return, correction, damage, disposal, count, snapshot
  std::string kind;
  std::string reason;
  std::optional<std::string> order_id;
  // Rows the cloud already accounts for (snapshot re-basing) are stamped as seen (0) instead
  // of with the sequence of the event this transaction appends.
  bool cloud_seen = false;
};

class StockLedger {
 public:
  explicit StockLedger(Database& db) : db_(db) {}
  // Refuses (returns an error, changes nothing) if a counter would go negative or
  // unsellable would exceed on_hand.
  Result<void> post(const Movement& m, const CommandContext& ctx);
  void reserve(const std::string& order_id, int line_no, const std::string& sku, std::int64_t qty);
  // Releases up to `qty` of a line's reservation; returns how much was released.
  std::int64_t release(const std::string& order_id, int line_no, std::int64_t qty);
  std::optional<StockLevel> level(const std::string& sku);
  // Removes `qty` units that left the store with a customer or carrier. The goods are gone
  // whatever the books say: if fewer are recorded, on_hand stops at zero (and unsellable
  // shrinks with it) and the shortfall is returned for the event to report. Refused only
  // for a SKU the catalog does not have.
  Result<std::int64_t> sell(const std::string& sku, std::int64_t qty, const std::string& order_id,
                            const CommandContext& ctx, std::vector<Movement>& moves);
  // The same for units sold at the till: no order; `reason` names the till transaction.
  Result<std::int64_t> sell_at_till(const std::string& sku, std::int64_t qty,
                                    const std::string& reason, const CommandContext& ctx,
                                    std::vector<Movement>& moves);
  // The same for units shipped to another store on a transfer (an order of kind transfer):
  // kind transfer_out, reason "transfer out: <destination store>". Nothing was sold.
  Result<std::int64_t> transfer_out(const std::string& sku, std::int64_t qty,
                                    const std::string& order_id,
                                    const std::string& destination_store, const CommandContext& ctx,
                                    std::vector<Movement>& moves);

 private:
  Result<std::int64_t> remove_sold(const std::string& sku, std::int64_t qty,
                                   const std::optional<std::string>& order_id,
                                   const std::string& kind, const std::string& reason,
                                   const CommandContext& ctx, std::vector<Movement>& moves);
  Database& db_;
};

// Units arriving into the store (a receipt, a return): on_hand grows, and unsellable with it
// for units that arrive unsellable (damaged); on_hand first, so unsellable <= on_hand holds
// after each.
std::vector<Movement> arrival(const std::string& sku, std::int64_t quantity, bool unsellable,
                              const std::string& kind, const std::string& reason,
                              const std::optional<std::string>& order_id = std::nullopt);

nlohmann::json movements_json(const std::vector<Movement>& movements);

}  // namespace fulfil::agent
