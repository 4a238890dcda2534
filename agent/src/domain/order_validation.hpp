#pragma once
// Internal to agent/: checks on order data from the cloud and on packing input.
#include <vector>

#include "domain/orders.hpp"

namespace fulfil::agent {

// Ids from the cloud end up in URLs, file names and barcodes: a conservative alphabet.
Result<void> check_id(std::string_view field, std::string_view id);
Result<void> validate_routed_order(const FulfilmentOrder& o);
Result<void> validate_packages(const FulfilmentOrder& o, const std::vector<Package>& packages);

}  // namespace fulfil::agent
