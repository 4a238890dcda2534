#include "agent/order_lifecycle.hpp"

#include <array>

namespace fulfil::agent {
namespace {

constexpr std::array kStates = {
    OrderState::routed,           OrderState::accepted,  OrderState::rejected, OrderState::expired,
    OrderState::picking,          OrderState::picked,    OrderState::packed,   OrderState::shipped,
    OrderState::ready_for_pickup, OrderState::collected, OrderState::cancelled};
constexpr std::array<std::string_view, 11> kStateNames = {
    "routed", "accepted", "rejected",         "expired",   "picking",  "picked",
    "packed", "shipped",  "ready_for_pickup", "collected", "cancelled"};
constexpr std::array kActions = {OrderAction::accept,
                                 OrderAction::reject,
                                 OrderAction::expire,
                                 OrderAction::start_picking,
                                 OrderAction::pick_item,
                                 OrderAction::short_pick,
                                 OrderAction::complete_picking,
                                 OrderAction::pack,
                                 OrderAction::ship,
                                 OrderAction::ready_for_pickup,
                                 OrderAction::collect,
                                 OrderAction::unlock_pickup,
                                 OrderAction::cancel};
constexpr std::array<std::string_view, 13> kActionNames = {
    "accept",     "reject",           "expire", "start_picking", "pick_item",
    "short_pick", "complete_picking", "pack",   "ship",          "ready_for_pickup",
    "collect",    "unlock_pickup",    "cancel"};

}  // namespace

std::string_view state_name(OrderState s) {
  return kStateNames[static_cast<std::size_t>(s)];
}

std::optional<OrderState> state_from(std::string_view name) {
  for (auto s : kStates)
    if (state_name(s) == name) return s;
  return std::nullopt;
}

std::string_view method_name(DeliveryMethod m) {
  return m == DeliveryMethod::ship ? "ship" : "pickup";
}

std::optional<DeliveryMethod> method_from(std::string_view name) {
  if (name == "ship") return DeliveryMethod::ship;
  if (name == "pickup") return DeliveryMethod::pickup;
  return std::nullopt;
}

std::string_view action_name(OrderAction a) {
  return kActionNames[static_cast<std::size_t>(a)];
}

std::span<const OrderState> all_states() {
  return kStates;
}
std::span<const OrderAction> all_actions() {
  return kActions;
}

bool is_terminal(OrderState s) {
  switch (s) {
    case OrderState::rejected:
    case OrderState::expired:
    case OrderState::shipped:
    case OrderState::collected:
    case OrderState::cancelled:
      return true;
    default:
      return false;
  }
}

bool holds_reservation(OrderState s) {
  switch (s) {
    case OrderState::accepted:
    case OrderState::picking:
    case OrderState::picked:
    case OrderState::packed:
    case OrderState::ready_for_pickup:
      return true;
    default:
      return false;
  }
}

bool allows(OrderState state, DeliveryMethod method, OrderAction action) {
  using A = OrderAction;
  switch (state) {
    case OrderState::routed:
      return action == A::accept || action == A::reject || action == A::expire ||
             action == A::cancel;
    case OrderState::accepted:
      return action == A::reject || action == A::start_picking || action == A::short_pick ||
             action == A::cancel;
    case OrderState::picking:
      return action == A::pick_item || action == A::short_pick || action == A::complete_picking ||
             action == A::cancel;
    case OrderState::picked:
      return action == A::pack || action == A::cancel;
    case OrderState::packed:
      return action == A::cancel || (action == A::ship && method == DeliveryMethod::ship) ||
             (action == A::ready_for_pickup && method == DeliveryMethod::pickup);
    case OrderState::ready_for_pickup:
      return action == A::collect || action == A::unlock_pickup || action == A::cancel;
    default:
      return false;
  }
}

}  // namespace fulfil::agent
