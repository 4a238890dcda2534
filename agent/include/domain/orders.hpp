#pragma once
// Fulfilment orders: one per order the cloud routes to this store. Each public command is
// one transition: it validates, then commits in one transaction the state change, its
// stock movements and reservation changes, a history row and exactly one outbox event.
// A refused command returns an error and changes nothing (the one deliberate exception: a
// wrong pickup code is counted).
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/capacity.hpp"
#include "domain/domain.hpp"
#include "domain/order_claims.hpp"
#include "domain/order_lifecycle.hpp"
#include "domain/outbox.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

struct OrderLine {
  int line_no = 0;
  std::string sku;
  std::int64_t quantity = 0;
  std::int64_t unit_price_minor = 0;  // in the order currency's minor unit (cents)
  std::int64_t picked = 0;
  std::int64_t rejected = 0;  // short-picked: the cloud reroutes these units
  std::string reject_reason;
  std::int64_t open() const { return quantity - picked - rejected; }
};

struct Customer {
  std::string name;
  std::string email;
  std::string phone;
};

struct Address {
  std::string name;  // recipient, when not the customer
  std::string line1;
  std::string line2;
  std::string city;
  std::string region;
  std::string postcode;
  std::string country;  // ISO 3166-1 alpha-2
};

struct PackageItem {
  int line_no = 0;
  std::int64_t quantity = 0;
};

struct Package {
  int package_no = 0;
  std::string box_type;
  std::int64_t weight_g = 0;
  std::vector<PackageItem> items;
  std::string tracking = {};  // the carrier's number for this parcel, given at ship; or ""
};

// A parcel's own tracking number, given when the order is shipped.
struct PackageTracking {
  int package_no = 0;
  std::string tracking;
};

// What an order is for: a customer's order (order.routed), or stock the cloud asks the
// store to send to another store (transfer.requested). A transfer goes through the same
// lifecycle, pick lists, packing, labels and reservations as a ship order; its "customer"
// is the receiving store (customer.name its name, address its address).
enum class OrderKind { customer, transfer };
std::string_view order_kind_name(OrderKind kind);
std::optional<OrderKind> order_kind_from(std::string_view name);

struct FulfilmentOrder {
  std::string id;         // the cloud's fulfilment-order id
  std::string order_ref;  // the customer's order number
  OrderState state = OrderState::routed;
  DeliveryMethod method = DeliveryMethod::ship;
  Customer customer;
  Address address;  // required for ship-from-store
  std::string currency;
  std::int64_t routed_at = 0;
  std::int64_t accept_by = 0;  // 0 on input: the configured default SLA applies
  std::int64_t ship_by = 0;    // 0: none
  std::vector<OrderLine> lines;
  std::vector<Package> packages;
  std::string reject_reason;
  std::string carrier;
  std::string tracking;
  std::string pickup_code;   // set by the cloud or generated when ready for pickup
  std::string pickup_shelf;  // where the bag waits for the customer ("P-03"), or empty
  int pickup_attempts = 0;
  bool on_hold = false;  // set by the cloud (payment review, address check): no progress
  // Why the order came beyond what the store takes (capacity.hpp): "over_capacity",
  // "paused", "closed", or "" when it was within capacity. Set when received.
  std::string capacity_flag;
  OrderKind kind = OrderKind::customer;
  std::string destination_store;  // a transfer's receiving store ("STORE-042"); else ""
  std::string notes;              // a transfer's note from the cloud for the associates
  std::int64_t updated_at = 0;
  // Read from the order's history, never written: when it was made ready for pickup (0:
  // never), and how many times the customer was sent the pickup notice again.
  std::int64_t ready_at = 0;
  int pickup_notices = 0;
};

// What refusing units for a reason says about the store's stock of their SKU, following
// what store OMSs do: an associate who rejects "out of stock" has just looked at the shelf.
enum class StockEffect {
  none,            // nothing learnt about stock (customer_request, store_closed)
  count_zero,      // the shelf is empty: on_hand drops to what is promised and unsellable
  reduce_on_hand,  // the refused units are not there (mismatch): on_hand -= quantity
  unsellable,      // the refused units are damaged: they move to unsellable
};
std::optional<StockEffect> stock_effect_from(std::string_view name);
std::string_view stock_effect_name(StockEffect effect);

struct ReasonEffect {
  std::string reason;
  StockEffect stock = StockEffect::none;
  // A hint in the reject event for the cloud's router: do not route these units back to
  // this store for this many hours (0: no hint).
  int avoid_store_hours = 0;
};

struct OrderPolicy {
  std::int64_t default_accept_sla_ms = 15 * 60 * 1000;
  std::vector<std::string> reject_reasons = {"out_of_stock", "mismatch",      "damaged_stock",
                                             "store_closed", "over_capacity", "customer_request",
                                             "other"};
  std::vector<std::string> short_pick_reasons = {"not_found", "damaged", "out_of_stock", "other"};
  std::vector<ReasonEffect> reason_effects = {
      {"out_of_stock", StockEffect::count_zero, 24},  {"mismatch", StockEffect::reduce_on_hand, 24},
      {"not_found", StockEffect::reduce_on_hand, 0},  {"damaged", StockEffect::unsellable, 0},
      {"damaged_stock", StockEffect::unsellable, 24}, {"store_closed", StockEffect::none, 12},
      {"over_capacity", StockEffect::none, 24},
  };
  // What the store takes and when it is open: an order's default accept-by clock and the
  // pickup's days before it is overdue run only while the store is open.
  CapacityPolicy capacity;
  // The effect configured for `reason`; a reason with none has no stock effect and no hint.
  ReasonEffect effect_of(const std::string& reason) const;
  int pickup_code_max_attempts = 5;
  bool allow_negative_available = false;
  // A pickup waiting longer than this is overdue: a manager may return it to stock.
  std::int64_t return_uncollected_after_ms = std::int64_t{7} * 24 * 3600 * 1000;
};

// Accepting part of a line: `quantity` of its units (0 to the line's open units); the rest
// of the line is rejected for the cloud to reroute.
struct AcceptedLine {
  int line_no = 0;
  std::int64_t quantity = 0;
};

struct PickResult {
  int line_no = 0;
  std::int64_t line_picked = 0;
  std::int64_t line_open = 0;
  bool all_lines_resolved = false;  // complete_picking may follow
};

// Where a unit picked through a pick list goes (pick_lists.hpp): named in the pick's event.
struct ToteSlot {
  std::string pick_list;  // "PL-3"
  int tote = 0;
};

enum class CancelOutcome { cancelled, refused };
struct CancelResult {
  CancelOutcome outcome = CancelOutcome::refused;
  std::string reason;  // why it was refused, e.g. "already_shipped"
};

struct OrderSummary {
  std::string id;
  std::string order_ref;
  OrderState state = OrderState::routed;
  DeliveryMethod method = DeliveryMethod::ship;
  std::int64_t routed_at = 0;
  std::int64_t accept_by = 0;
  std::int64_t ship_by = 0;
  std::string customer_name;
  std::int64_t lines = 0;
  std::int64_t units = 0;
  std::int64_t ready_at = 0;  // while ready_for_pickup: since when; otherwise 0
  std::string capacity_flag;
  OrderKind kind = OrderKind::customer;
  std::string destination_store;  // transfers: the receiving store's id
};

// A staging shelf as it is stored and printed: `text` trimmed of spaces, then 1 to 20
// printable ASCII characters ("P-03"); anything else is refused, saying why.
Result<std::string> staging_shelf(std::string_view text);

// Which orders the queue lists: every condition given must hold. `text` is what an
// associate typed or scanned; an order matches it when the text (ASCII letter case
// ignored) equals or begins the order's id or order_ref, is part of the customer's name,
// has 4 digits or more that (in order) are part of the customer's phone digits, or is
// exactly the SKU or a barcode of one of its lines.
struct OrderQuery {
  std::optional<OrderState> state;
  std::optional<DeliveryMethod> method;
  std::string text;  // surrounding whitespace ignored; blank: no search
  std::size_t limit = 200;
  // Given: only pickups uncollected and overdue at this time (ms); see uncollected_overdue.
  std::optional<std::int64_t> overdue_at = std::nullopt;
  std::optional<OrderKind> kind = std::nullopt;  // only customer orders, or only transfers
};
inline constexpr std::size_t kMaxOrderSearchText = 100;

struct OrderPage {
  std::vector<OrderSummary> orders;  // oldest routed first, then by id
  bool truncated = false;            // more orders matched than the limit
};

// What a scanned parcel code names: a package code "<order id>-<package_no>" printed on
// labels without tracking, or an order's tracking number.
struct ParcelMatch {
  enum class By { package, tracking };
  By by = By::package;
  std::string order_id;
  std::optional<int> package_no;  // for tracking: when the order has one package
};

// How a pickup was handed over (see collect()).
struct PickupProof {
  enum class Method { code, id_check };
  Method method = Method::code;
  std::string code;               // Method::code: what the customer showed
  std::string id_type;            // Method::id_check: one of kIdTypes
  std::string id_last_digits;     // Method::id_check: the ID number's last 2 to 6 characters
  std::string collected_by;       // someone collecting for the customer; "" = the customer
  std::string signature_png;      // drawn on the terminal, PNG bytes; "" = none
  std::int64_t collected_at = 0;  // as read back
  std::string actor;              // as read back
};
inline constexpr std::array<std::string_view, 4> kIdTypes = {"passport", "id_card",
                                                             "driving_licence", "other"};
inline constexpr std::size_t kMaxSignatureBytes = 32 * 1024;  // base64 fits api.max_body_bytes

class FulfilmentOrders {
 public:
  FulfilmentOrders(Database& db, Outbox& outbox, OrderPolicy policy)
      : db_(db), outbox_(outbox), policy_(std::move(policy)) {}
  void set_policy(OrderPolicy policy) { policy_ = std::move(policy); }
  const OrderPolicy& policy() const { return policy_; }
  // Who is picking which order (see order_claims.hpp): the picking commands take the claim.
  OrderClaims& claims() { return claims_; }
  // How many orders the store takes, and its pause (capacity.hpp).
  StoreCapacity& capacity() { return capacity_; }

  Result<void> receive(const FulfilmentOrder& routed, const CommandContext& ctx);
  Result<void> accept(const std::string& id, const CommandContext& ctx);
  // Accepts the listed lines in part (each at most once; lines not listed in full) and
  // rejects the rest of each listed line with `reason`, one of the reject reasons (needed
  // only when a unit is rejected): like a short pick, the cloud reroutes those units. Only
  // the accepted units are reserved. Refused when every unit would be rejected: that is
  // rejecting the order.
  Result<void> accept(const std::string& id, const std::vector<AcceptedLine>& lines,
                      const std::string& reason, const CommandContext& ctx);
  // Back to routed before picking starts: the reservations accept made are released and
  // the accept-by deadline stays what it was (past it, the expiry sweep expires the order).
  Result<void> unaccept(const std::string& id, const CommandContext& ctx);
  // From routed, accepted, picking or picked. After picking started, the picked units go
  // back to the shelf: they never left the books, so releasing the reservations is all.
  Result<void> reject(const std::string& id, const std::string& reason, const CommandContext& ctx);
  // Expires every routed order whose accept-by deadline has passed; returns their ids.
  Result<std::vector<std::string>> expire_overdue(const CommandContext& ctx);
  Result<void> start_picking(const std::string& id, const CommandContext& ctx);
  Result<PickResult> pick_item(const std::string& id, const std::string& sku, std::int64_t qty,
                               const CommandContext& ctx,
                               const std::optional<ToteSlot>& tote = std::nullopt);
  Result<void> short_pick(const std::string& id, int line_no, std::int64_t qty,
                          const std::string& reason, const CommandContext& ctx,
                          const std::optional<ToteSlot>& tote = std::nullopt);
  Result<void> complete_picking(const std::string& id, const CommandContext& ctx);
  Result<void> pack(const std::string& id, const std::vector<Package>& packages,
                    const CommandContext& ctx);
  // Back to picked before shipping (ship orders): the packages, their tracking and carrier
  // labels are deleted; what was printed stays printed. No stock moves.
  Result<void> unpack(const std::string& id, const CommandContext& ctx);
  Result<void> ship(const std::string& id, const std::string& carrier, const std::string& tracking,
                    const CommandContext& ctx);
  // With a tracking number per package (`packages`: each a package of the order, at most
  // once, 1-64 characters). The order's own tracking stays the first package's number (the
  // lowest numbered of those given): `tracking`, if also given, must be that number.
  Result<void> ship(const std::string& id, const std::string& carrier, const std::string& tracking,
                    const std::vector<PackageTracking>& packages, const CommandContext& ctx);
  // From picked (or packed, for orders packed before pickup orders skipped packing);
  // `shelf` is the staging location the bag is put on, empty for none (see staging_shelf).
  // Returns the pickup code.
  Result<std::string> ready_for_pickup(const std::string& id, const std::string& shelf,
                                       const CommandContext& ctx);
  Result<void> collect(const std::string& id, const std::string& code, const CommandContext& ctx);
  // Hands the order over with its proof: the code (wrong codes counted, as above), or an ID
  // check (for a lost code; the caller makes sure only a manager does it), with who
  // collected and the signature when given. The proof is kept and sent with the event.
  Result<void> collect(const std::string& id, const PickupProof& proof, const CommandContext& ctx);
  std::optional<PickupProof> pickup_proof(const std::string& id);
  Result<void> unlock_pickup(const std::string& id, const CommandContext& ctx);
  // Asks the cloud to tell the customer again that the order waits for them (the event
  // order.pickup_notice_requested); counted in pickup_notices.
  Result<void> send_pickup_notice(const std::string& id, const CommandContext& ctx);
  // Whether an order ready for pickup (since `ready_at`) has waited longer than the policy
  // allows at `now_ms`: pickup.return_after_days, "flagged for return to stock".
  bool uncollected_overdue(OrderState state, std::int64_t ready_at, std::int64_t now_ms) const;
  bool uncollected_overdue(const FulfilmentOrder& order, std::int64_t now_ms) const {
    return uncollected_overdue(order.state, order.ready_at, now_ms);
  }
  // Pickups made ready before this instant are overdue at `now_ms`.
  std::int64_t uncollected_cutoff(std::int64_t now_ms) const;
  // Ends an overdue pickup its customer never collected: cancelled with reason
  // "not_collected". The units never left the books, so its reservations are released and
  // the event lists what goes back on the shelf. Refused before it is overdue; the caller
  // makes sure only a manager does it.
  Result<void> return_uncollected(const std::string& id, const CommandContext& ctx);
  // The cloud changed the order: a new delivery address (until shipped) and/or a hold.
  Result<void> update_from_cloud(const std::string& id, const std::optional<Address>& address,
                                 std::optional<bool> hold, const CommandContext& ctx);
  Result<CancelResult> request_cancel(const std::string& id, const std::string& reason,
                                      const CommandContext& ctx);

  std::optional<FulfilmentOrder> find(const std::string& id);
  // The queue. Refuses (invalid_argument) a text of more than kMaxOrderSearchText
  // characters.
  Result<OrderPage> search(const OrderQuery& query);
  std::vector<OrderSummary> list(std::optional<OrderState> state, std::size_t limit);
  // The order a customer's order number names (ASCII letter case ignored): of the orders
  // sharing it, the most recently routed one that has not ended, else the most recently
  // routed one.
  std::optional<std::string> id_for_ref(const std::string& order_ref);
  std::optional<ParcelMatch> find_parcel(const std::string& code);
  // Orders per state (every state named, 0 if none). Counted once per change to the
  // database, not per call: the queue, /health and /metrics all ask.
  std::map<std::string, std::int64_t> count_by_state();

 private:
  // Runs `body` on the order in one transaction if the lifecycle table has a row for
  // `action` from its state (and no hold blocks it); `refused` answers otherwise (by
  // default: illegal_transition, naming what is allowed).
  template <class R, class F, class G>
  Result<R> transition(const std::string& id, OrderAction action, F&& body, G&& refused);
  template <class R, class F>
  Result<R> transition(const std::string& id, OrderAction action, F&& body);
  // Which of the row's outcomes the action had: its `to`, or the `or_to` its rule chose.
  enum class Outcome { to, or_to };
  // Moves the order as the current row says, with its history row and outbox event.
  void record(FulfilmentOrder& order, Outcome outcome, const std::string& type,
              nlohmann::json payload, const CommandContext& ctx);

  Database& db_;
  Outbox& outbox_;
  OrderPolicy policy_;
  OrderClaims claims_{db_};
  StoreCapacity capacity_{db_, outbox_, policy_.capacity};
  const OrderTransition* step_ = nullptr;  // the row of the transition() under way
  struct StateCounts {
    std::uint64_t data_version = 0;
    std::map<std::string, std::int64_t> by_state;
  };
  std::optional<StateCounts> state_counts_;  // as of data_version, outside transactions
};

}  // namespace fulfil::agent
