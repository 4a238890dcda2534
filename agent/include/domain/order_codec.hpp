#pragma once
// A routed order in the cloud protocol (sync/PROTOCOL.md, order.routed): the encoder the
// cloud side uses (the simulator, the demo, tests) and the decoder the store applies, in
// one place so the two cannot drift apart (tests/domain: they round-trip).
#include <string>

#include <nlohmann/json.hpp>

#include "config/expected.hpp"
#include "domain/orders.hpp"

namespace fulfil::agent {

// An order.routed command's payload.
nlohmann::json routed_order_json(const FulfilmentOrder& order);

// The order an order.routed payload describes, or what is wrong with it, naming the field
// ("payload.lines[1].quantity: expected an integer"). Only the shape is checked here; the
// order's rules are FulfilmentOrders::receive's.
Expected<FulfilmentOrder, std::string> routed_order_from(const nlohmann::json& payload);

}  // namespace fulfil::agent
