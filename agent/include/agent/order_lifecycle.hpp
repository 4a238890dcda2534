#pragma once
// The fulfilment-order state machine as data: which action each state allows. Every
// transition in FulfilmentOrders consults this one table, and the tests walk it whole.
#include <optional>
#include <span>
#include <string_view>

namespace fulfil::agent {

enum class OrderState {
  routed,
  accepted,
  rejected,
  expired,
  picking,
  picked,
  packed,
  shipped,
  ready_for_pickup,
  collected,
  cancelled,
};

enum class DeliveryMethod { ship, pickup };

enum class OrderAction {
  accept,
  reject,
  expire,
  start_picking,
  pick_item,
  short_pick,
  complete_picking,
  pack,
  ship,
  ready_for_pickup,
  collect,
  unlock_pickup,
  cancel,  // a cancel request that cancels; a refused request is not a transition
};

std::string_view state_name(OrderState s);
std::optional<OrderState> state_from(std::string_view name);
std::string_view method_name(DeliveryMethod m);
std::optional<DeliveryMethod> method_from(std::string_view name);
std::string_view action_name(OrderAction a);

std::span<const OrderState> all_states();
std::span<const OrderAction> all_actions();

// Whether `action` may be taken on an order in `state` delivered by `method`.
bool allows(OrderState state, DeliveryMethod method, OrderAction action);

// Ended orders hold no reservation and accept no further action.
bool is_terminal(OrderState s);
// Orders whose stock is reserved (between accept and ship/collect).
bool holds_reservation(OrderState s);

}  // namespace fulfil::agent
