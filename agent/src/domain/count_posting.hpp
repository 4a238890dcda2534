#pragma once
// Internal to agent/: the one way counted differences reach the books, shared by the raw
// cycle count (Inventory::post_count) and count sessions (CountSessions::approve).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/domain.hpp"
#include "domain/inventory.hpp"
#include "domain/outbox.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

// Inside the caller's transaction: each SKU's on_hand and unsellable move by their deltas
// as `count` ledger movements (reason `note`), ordered so that unsellable <= on_hand holds
// after each, and one `stock.counted` event tells the cloud, with `extra` fields added to
// its payload. Refused (a counter would go negative, an unknown SKU) with the error of the
// movement at fault; the caller's transaction then rolls back.
Result<void> post_count_differences(Database& db, Outbox& outbox,
                                    const std::vector<CountDifference>& diffs,
                                    const std::string& note, const nlohmann::json& extra,
                                    const CommandContext& ctx);

}  // namespace fulfil::agent
