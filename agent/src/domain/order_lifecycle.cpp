#include "domain/order_lifecycle.hpp"

#include <array>
#include <utility>
#include <vector>

#include "state_names.hpp"

namespace fulfil::agent {
namespace {

constexpr std::array kStates = {
    OrderState::routed,           OrderState::accepted,  OrderState::rejected, OrderState::expired,
    OrderState::picking,          OrderState::picked,    OrderState::packed,   OrderState::shipped,
    OrderState::ready_for_pickup, OrderState::collected, OrderState::cancelled};
constexpr std::array<std::string_view, 11> kStateNames = {
    "routed", "accepted", "rejected",         "expired",   "picking",  "picked",
    "packed", "shipped",  "ready_for_pickup", "collected", "cancelled"};
// The steps, in the order a terminal shows them; receive and update follow in the enum.
// clang-format off
constexpr std::array kActions = {
    OrderAction::accept,             OrderAction::reject,             OrderAction::expire,
    OrderAction::start_picking,      OrderAction::pick_item,          OrderAction::short_pick,
    OrderAction::complete_picking,   OrderAction::pack,               OrderAction::ship,
    OrderAction::ready_for_pickup,   OrderAction::collect,            OrderAction::unlock_pickup,
    OrderAction::send_pickup_notice, OrderAction::return_uncollected, OrderAction::unaccept,
    OrderAction::unpack,             OrderAction::cancel};
constexpr std::array<std::string_view, 19> kActionNames = {
    "accept",             "reject",             "expire",
    "start_picking",      "pick_item",          "short_pick",
    "complete_picking",   "pack",               "ship",
    "ready_for_pickup",   "collect",            "unlock_pickup",
    "send_pickup_notice", "return_uncollected", "unaccept",
    "unpack",             "cancel",             "receive",
    "update"};
// clang-format on
static_assert(kStateNames.size() == static_cast<std::size_t>(OrderState::cancelled) + 1);
static_assert(kStates.size() == kStateNames.size());
static_assert(kActionNames.size() == static_cast<std::size_t>(OrderAction::update) + 1);
static_assert(kActions.size() + 2 == kActionNames.size());

using S = OrderState;
using A = OrderAction;
constexpr std::optional<DeliveryMethod> kAny;
constexpr std::optional<DeliveryMethod> kShipOnly = DeliveryMethod::ship;
constexpr std::optional<DeliveryMethod> kPickupOnly = DeliveryMethod::pickup;
constexpr std::optional<S> kNone;
constexpr bool kHoldBlocks = true;

// clang-format off
constexpr std::array kTransitions = std::to_array<OrderTransition>({
  // from                  action               for          to                   or_to                hold
  {kNone,                  A::receive,          kAny,        S::routed,           kNone,               false},
  {S::routed,              A::accept,           kAny,        S::accepted,         kNone,               kHoldBlocks},
  {S::routed,              A::reject,           kAny,        S::rejected,         kNone,               false},
  {S::routed,              A::expire,           kAny,        S::expired,          kNone,               false},
  {S::routed,              A::cancel,           kAny,        S::cancelled,        kNone,               false},
  {S::routed,              A::update,           kAny,        S::routed,           kNone,               false},
  {S::accepted,            A::reject,           kAny,        S::rejected,         kNone,               false},
  // Undoing accept before picking starts: the reservations go back, the accept-by deadline
  // is the one the order came with (the expiry sweep takes it if that has passed).
  {S::accepted,            A::unaccept,         kAny,        S::routed,           kNone,               false},
  {S::accepted,            A::start_picking,    kAny,        S::picking,          kNone,               kHoldBlocks},
  {S::accepted,            A::short_pick,       kAny,        S::accepted,         S::rejected,         false},
  {S::accepted,            A::cancel,           kAny,        S::cancelled,        kNone,               false},
  {S::accepted,            A::update,           kAny,        S::accepted,         kNone,               false},
  {S::picking,             A::pick_item,        kAny,        S::picking,          kNone,               false},
  {S::picking,             A::short_pick,       kAny,        S::picking,          S::rejected,         false},
  {S::picking,             A::complete_picking, kAny,        S::picked,           kNone,               false},
  // Rejecting after picking started: the picked units go back to the shelf.
  {S::picking,             A::reject,           kAny,        S::rejected,         kNone,               false},
  {S::picking,             A::cancel,           kAny,        S::cancelled,        kNone,               false},
  {S::picking,             A::update,           kAny,        S::picking,          kNone,               false},
  // A parcel is packed; a pickup order goes from the picking bench to the pickup shelf
  // in a bag, with no box or weight to record.
  {S::picked,              A::pack,             kShipOnly,   S::packed,           kNone,               kHoldBlocks},
  {S::picked,              A::ready_for_pickup, kPickupOnly, S::ready_for_pickup, kNone,               kHoldBlocks},
  {S::picked,              A::reject,           kAny,        S::rejected,         kNone,               false},
  {S::picked,              A::cancel,           kAny,        S::cancelled,        kNone,               false},
  {S::picked,              A::update,           kAny,        S::picked,           kNone,               false},
  {S::packed,              A::ship,             kShipOnly,   S::shipped,          kNone,               kHoldBlocks},
  // Pickup orders packed before they skipped packing (older databases) still go on.
  {S::packed,              A::ready_for_pickup, kPickupOnly, S::ready_for_pickup, kNone,               kHoldBlocks},
  // Undoing packing before shipping: the packages go, the picked units stay reserved.
  {S::packed,              A::unpack,           kShipOnly,   S::picked,           kNone,               false},
  {S::packed,              A::cancel,           kAny,        S::cancelled,        kNone,               false},
  {S::packed,              A::update,           kAny,        S::packed,           kNone,               false},
  {S::ready_for_pickup,    A::collect,          kAny,        S::collected,        S::ready_for_pickup, kHoldBlocks},
  {S::ready_for_pickup,    A::unlock_pickup,    kAny,        S::ready_for_pickup, kNone,               false},
  // Telling the customer again that the order waits: not while a hold stops the handover.
  {S::ready_for_pickup,    A::send_pickup_notice, kAny,      S::ready_for_pickup, kNone,               kHoldBlocks},
  // Never collected: once overdue (pickup.return_after_days) a manager ends it, and the
  // units, still on the books, are released to go back on the shelf.
  {S::ready_for_pickup,    A::return_uncollected, kAny,      S::cancelled,        kNone,               false},
  {S::ready_for_pickup,    A::cancel,           kAny,        S::cancelled,        kNone,               false},
  {S::ready_for_pickup,    A::update,           kAny,        S::ready_for_pickup, kNone,               false},
});
// clang-format on

constexpr bool leaves(S state) {
  for (const auto& t : kTransitions)
    if (t.from == state) return true;
  return false;
}

// Every state is entered by some row, and only the rows' states are ever entered.
constexpr bool every_state_entered() {
  for (auto s : kStates) {
    bool entered = false;
    for (const auto& t : kTransitions) entered = entered || t.to == s || t.or_to == s;
    if (!entered) return false;
  }
  return true;
}
static_assert(every_state_entered());
static_assert(!leaves(S::shipped) && !leaves(S::collected) && !leaves(S::cancelled));

}  // namespace

std::string_view state_name(OrderState s) {
  return name_in(kStateNames, s);
}

std::optional<OrderState> state_from(std::string_view name) {
  return value_in<OrderState>(kStateNames, name);
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
  return name_in(kActionNames, a);
}

std::span<const OrderState> all_states() {
  return kStates;
}
std::span<const OrderAction> all_actions() {
  return kActions;
}

std::span<const OrderTransition> order_transitions() {
  return kTransitions;
}

const OrderTransition* find_transition(std::optional<OrderState> from, DeliveryMethod method,
                                       OrderAction action) {
  for (const auto& t : kTransitions)
    if (t.from == from && t.action == action && (!t.only_for || *t.only_for == method)) return &t;
  return nullptr;
}

bool allows(OrderState state, DeliveryMethod method, OrderAction action) {
  return find_transition(state, method, action) != nullptr;
}

bool blocked_by_hold(OrderAction action) {
  for (const auto& t : kTransitions)
    if (t.action == action && t.blocked_by_hold) return true;
  return false;
}

bool is_terminal(OrderState s) {
  return !leaves(s);
}

bool holds_reservation(OrderState s) {
  // The states reachable from where accept leads, less the ended ones; unaccept gives the
  // reservations back, so the walk does not follow it.
  static const auto reached = [] {
    std::array<bool, kStates.size()> out{};
    std::vector<OrderState> todo;
    for (const auto& t : kTransitions)
      if (t.action == OrderAction::accept) todo.push_back(t.to);
    while (!todo.empty()) {
      const OrderState at = todo.back();
      todo.pop_back();
      if (std::exchange(out[static_cast<std::size_t>(at)], true)) continue;
      for (const auto& t : kTransitions)
        if (t.from == at && t.action != OrderAction::unaccept) {
          todo.push_back(t.to);
          if (t.or_to) todo.push_back(*t.or_to);
        }
    }
    return out;
  }();
  return reached[static_cast<std::size_t>(s)] && !is_terminal(s);
}

}  // namespace fulfil::agent
