#pragma once
// Pick lists (waves): several accepted orders picked in one walk of the store. The picker
// takes one tote per order (tote N is the order's place on the list), walks the bins once
// in bin order, and scans each item; the list says which tote it goes into. Every pick,
// short pick and completed order is the order's own transition (FulfilmentOrders), so the
// ledger, the history and the cloud see the same events as for an order picked alone, with
// the pick list and tote added. Putting an order on a list starts picking it, which claims
// it for the picker (order_claims.hpp). A list closes by itself when none of its orders is
// being picked any more; closing it early leaves the unfinished orders being picked, each
// to be finished on its own.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/domain.hpp"
#include "domain/inventory.hpp"
#include "domain/orders.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

inline constexpr std::size_t kMaxPickListOrders = 20;  // totes a picking trolley carries

enum class PickListState { open, closed };
std::string_view pick_list_state_name(PickListState s);

// "PL-42" or "42" -> 42.
std::optional<std::int64_t> pick_list_id_from(std::string_view name);
std::string pick_list_name(std::int64_t id);

// Which accepted orders a rule gathers: the most urgent first (the earliest ship-by, orders
// without one after those, then the oldest routed), at most `max_orders`, none on hold or
// on another open list.
struct PickListRule {
  std::optional<DeliveryMethod> method;
  std::size_t max_orders = 5;
  std::int64_t max_units = 0;  // an order of at most this many units (small orders); 0: any
};

struct ToteOrder {
  int tote = 0;
  std::string order_id;
  std::string order_ref;
  std::string customer_name;
  OrderState state = OrderState::picking;
  std::int64_t units = 0;   // ordered
  std::int64_t picked = 0;  // into the tote
  std::int64_t short_units = 0;
};

// One stop of the walk: a SKU at its bin and the totes its units go into.
struct PickStop {
  std::string bin;
  std::string sku;
  std::string title;
  struct Slot {
    int tote = 0;
    std::string order_id;
    std::string order_ref;
    int line_no = 0;
    std::int64_t quantity = 0;
    std::int64_t picked = 0;
    std::int64_t short_units = 0;
    std::int64_t open = 0;  // 0 also once the order is no longer being picked
  };
  std::vector<Slot> slots;  // by tote
  std::int64_t open() const;
};

struct PickList {
  std::int64_t id = 0;
  PickListState state = PickListState::open;
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t closed_at = 0;
  std::vector<ToteOrder> orders;  // by tote
  std::vector<PickStop> stops;    // the walk: by bin, then SKU
  std::string name() const { return pick_list_name(id); }
  std::int64_t open_units() const;
};

// Where a scanned unit went.
struct TotePick {
  int tote = 0;
  std::string order_id;
  std::string order_ref;
  int line_no = 0;
  std::int64_t line_open = 0;
  bool order_picked = false;  // the order's last line resolved: it moved on to picked
  bool list_closed = false;   // nothing left to pick on the list
};

struct ToteShort {
  int tote = 0;
  std::string order_id;
  int line_no = 0;
  std::int64_t quantity = 0;
  OrderState state = OrderState::picking;  // where the order went (picked, rejected)
};

// Where an order stands on an open list.
struct PickListPlace {
  std::int64_t pick_list_id = 0;
  int tote = 0;
};

class PickLists {
 public:
  PickLists(Database& db, FulfilmentOrders& orders, Inventory& inventory)
      : db_(db), orders_(orders), inventory_(inventory) {}

  // The orders, in tote order (1 to kMaxPickListOrders, each once), each accepted or being
  // picked by the caller and on no other open list; all start picking, or none does.
  Result<PickList> create(const std::vector<std::string>& order_ids, const CommandContext& ctx);
  Result<PickList> create(const PickListRule& rule, const CommandContext& ctx);

  std::optional<PickList> find(std::int64_t id);
  std::vector<PickList> open_lists();  // oldest first, with their orders and walk
  std::optional<PickListPlace> place_of(const std::string& order_id);

  // One scanned SKU into the first tote (by number) whose order still needs it; the order
  // is moved on to picked once its last line is resolved.
  Result<TotePick> pick(std::int64_t id, const std::string& sku, const CommandContext& ctx);
  // Units of a SKU the picker could not find: short-picked on the orders that still need
  // them, the last tote first (the first totes are the most urgent orders).
  Result<std::vector<ToteShort>> short_pick(std::int64_t id, const std::string& sku,
                                            std::int64_t quantity, const std::string& reason,
                                            const CommandContext& ctx);
  // Ends the walk; orders still being picked stay so (and claimed).
  Result<PickList> close(std::int64_t id, const CommandContext& ctx);

 private:
  Result<PickList> open_list(std::int64_t id);
  void close_if_done(std::int64_t id, const CommandContext& ctx);
  Result<void> finish_if_resolved(const std::string& order_id, const CommandContext& ctx);

  Database& db_;
  FulfilmentOrders& orders_;
  Inventory& inventory_;
};

}  // namespace fulfil::agent
