#pragma once
// A routed order in the cloud protocol (sync/PROTOCOL.md, order.routed): the encoder the
// cloud side uses (the simulator, the demo, tests) and the decoder the store applies, in
// one place so the two cannot drift apart (tests/domain: they round-trip).
#include <string>

#include <nlohmann/json.hpp>

#include "config/expected.hpp"
#include "domain/orders.hpp"

namespace fulfil::agent {

// A customer and an address as the cloud protocol, the terminal API and the order rows
// write them.
nlohmann::json customer_json(const Customer& customer);
nlohmann::json address_json(const Address& address);

// An order.routed command's payload.
nlohmann::json routed_order_json(const FulfilmentOrder& order);

// The order an order.routed payload describes, or what is wrong with it, naming the field
// ("payload.lines[1].quantity: expected an integer"). Only the shape is checked here; the
// order's rules are FulfilmentOrders::receive's.
Expected<FulfilmentOrder, std::string> routed_order_from(const nlohmann::json& payload);

// A transfer.requested command's payload for a transfer (an order of kind transfer): the
// cloud asks the store to ship its lines to destination_store.
nlohmann::json transfer_request_json(const FulfilmentOrder& transfer);

// The transfer (kind transfer, shipped, its lines numbered from 1 in payload order, prices
// 0) a transfer.requested payload describes, or what is wrong with its shape, naming the
// field. Its rules (ids, lengths, quantities, known SKUs) are FulfilmentOrders::receive's.
Expected<FulfilmentOrder, std::string> transfer_order_from(const nlohmann::json& payload);

}  // namespace fulfil::agent
