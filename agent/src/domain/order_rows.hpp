#pragma once
// Internal to agent/: reading and writing fulfilment orders' rows.
#include <optional>
#include <string>
#include "domain/order_codec.hpp"

#include <nlohmann/json.hpp>

#include "domain/order_codec.hpp"
#include "domain/orders.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

std::optional<FulfilmentOrder> load_order(Database& db, const std::string& id);
void insert_order(Database& db, const FulfilmentOrder& order);
// The phone as the queue's search compares it: without spaces, '+', '-' and parentheses.
std::string phone_search(const std::string& phone);
// Writes the header columns that transitions change (state, reasons, carrier, pickup...).
void update_order(Database& db, const FulfilmentOrder& order);
void update_line(Database& db, const std::string& order_id, const OrderLine& line);
void insert_packages(Database& db, const std::string& order_id,
                     const std::vector<Package>& packages);
// Deletes the order's packages, their items and the carrier labels bought for them.
void delete_packages(Database& db, const std::string& order_id);
void update_package_tracking(Database& db, const std::string& order_id, int package_no,
                             const std::string& tracking);

// The order a customer's order number names (ASCII letter case ignored): of the orders
// sharing it, the most recently routed one that has not ended, else the most recently
// routed one.
std::optional<std::string> order_id_for_ref(Database& db, const std::string& order_ref);

// customer_json and address_json are public: domain/order_codec.hpp.
Customer customer_from(const nlohmann::json& j);
Address address_from(const nlohmann::json& j);

}  // namespace fulfil::agent
