#pragma once
// Internal to agent/: what refusing units for a reason does to the store's stock (the
// rejection policy, OrderPolicy::reason_effects). Called inside the refusing transaction,
// after its reservations have changed, so "promised" already means what is still promised.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/orders.hpp"
#include "stock_ledger.hpp"

namespace fulfil::agent {

struct RefusedUnits {
  std::string sku;
  std::int64_t quantity = 0;
  // Units of the SKU this refusal puts back on the shelf (picked for an order now rejected):
  // an empty shelf still holds them.
  std::int64_t put_back = 0;
};

// Posts the movements `effect` implies for `units` (never below what is promised or
// unsellable) and appends them to `moves`.
Result<void> apply_stock_effect(StockLedger& ledger, const ReasonEffect& effect,
                                const RefusedUnits& units, const std::string& order_id,
                                const CommandContext& ctx, std::vector<Movement>& moves);

// The refusal's event fields: its movements and the router's hint.
void describe_effect(nlohmann::json& payload, const ReasonEffect& effect,
                     const std::vector<Movement>& moves);

}  // namespace fulfil::agent
