#pragma once
// The fulfilment-order state machine as data: one table of (from, action, to, whether a
// hold blocks it). Every change to an order in FulfilmentOrders goes through it, the
// predicates below are derived from it, and the property test walks it whole.
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
  // A pickup waiting on its shelf: the customer is told again (the cloud messages them), or
  // an order its customer never collected goes back to stock.
  send_pickup_notice,
  return_uncollected,
  // Undoing a step where a store needs it: accepting (before picking starts) gives the
  // reservations back; packing (before shipping) deletes the packages.
  unaccept,
  unpack,
  cancel,  // a cancel request that cancels; a refused request is not a transition
  // The cloud's changes that do not move the order: the order arriving (routed), and a
  // new address or hold. Not steps an associate takes: all_actions() leaves them out.
  receive,
  update,
};

std::string_view state_name(OrderState s);
std::optional<OrderState> state_from(std::string_view name);
std::string_view method_name(DeliveryMethod m);
std::optional<DeliveryMethod> method_from(std::string_view name);
std::string_view action_name(OrderAction a);

std::span<const OrderState> all_states();
// The steps an order goes through (every action but receive and update).
std::span<const OrderAction> all_actions();

// One row of the lifecycle: `action` on an order in `from` (none: the order does not
// exist yet) moves it to `to`. Where the action's own rule decides between two outcomes,
// the other is `or_to` (a short pick of an order's last units rejects it; a wrong pickup
// code leaves it ready for pickup).
struct OrderTransition {
  std::optional<OrderState> from;
  OrderAction action;
  std::optional<DeliveryMethod> only_for;  // the action exists for this delivery method only
  OrderState to;
  std::optional<OrderState> or_to;
  // A cloud hold (payment review, address check) stops the order moving towards the
  // customer; cancelling, rejecting and expiring still work, and picking under way may be
  // finished or short-picked.
  bool blocked_by_hold = false;
};

std::span<const OrderTransition> order_transitions();
// The row for `action` on an order in `from` delivered by `method`; null if not allowed.
const OrderTransition* find_transition(std::optional<OrderState> from, DeliveryMethod method,
                                       OrderAction action);

// Whether `action` may be taken on an order in `state` delivered by `method`.
bool allows(OrderState state, DeliveryMethod method, OrderAction action);
// Whether a hold stops `action` (on any order that allows it).
bool blocked_by_hold(OrderAction action);

// Ended orders: no action leaves them, they hold no reservation.
bool is_terminal(OrderState s);
// Orders whose stock is reserved: every state an accepted order passes through before it
// ends (unaccept, which gives the reservations back, leads out of them).
bool holds_reservation(OrderState s);

}  // namespace fulfil::agent
