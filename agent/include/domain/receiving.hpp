#pragma once
// Receiving inbound shipments: a purchase order, an ASN or a transfer from another store or
// the warehouse, announced by the cloud (shipment.inbound) with the lines it should hold.
// Associates find it by scanning one of its labels, scan the items in (+1 per scan, or a
// quantity for multiples), may stop and come back later, and close it. Each receipt is one
// transaction: the line's count, a ledger movement (a 'receipt'; a damaged unit also goes to
// unsellable) and one shipment.item_received event. Closing is one transaction with one
// shipment.received event carrying every line and its discrepancy. A refusal (a closed
// shipment, an unknown barcode, a bad quantity, hostile text) changes nothing.
//
// Discrepancies are recorded, never refused: more than expected (over) and a known SKU the
// shipment did not list (unexpected, received as an extra line) are accepted; fewer than
// expected at closing is short. Only a barcode the catalog does not know is refused: its
// units cannot enter stock under any SKU.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/domain.hpp"
#include "domain/inventory.hpp"
#include "domain/outbox.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

enum class ShipmentKind { purchase_order, asn, transfer };
std::string_view shipment_kind_name(ShipmentKind kind);
std::optional<ShipmentKind> shipment_kind_from(std::string_view name);

enum class ShipmentState { expected, receiving, closed, cancelled };
std::string_view shipment_state_name(ShipmentState state);
std::optional<ShipmentState> shipment_state_from(std::string_view name);

enum class ShipmentAction {
  announce,  // the cloud sends (or sends again, updated) the shipment
  receive,   // units scanned in
  close,     // "receive and close": what did not arrive is short
  cancel,    // the cloud withdraws it before anything was received
};

// The lifecycle as a table; every predicate below is derived from it.
struct ShipmentStep {
  ShipmentState from;
  ShipmentAction action;
  ShipmentState to;
};
inline constexpr std::array kShipmentSteps{
    ShipmentStep{ShipmentState::expected, ShipmentAction::announce, ShipmentState::expected},
    ShipmentStep{ShipmentState::receiving, ShipmentAction::announce, ShipmentState::receiving},
    ShipmentStep{ShipmentState::expected, ShipmentAction::receive, ShipmentState::receiving},
    ShipmentStep{ShipmentState::receiving, ShipmentAction::receive, ShipmentState::receiving},
    ShipmentStep{ShipmentState::expected, ShipmentAction::close, ShipmentState::closed},
    ShipmentStep{ShipmentState::receiving, ShipmentAction::close, ShipmentState::closed},
    ShipmentStep{ShipmentState::expected, ShipmentAction::cancel, ShipmentState::cancelled},
};
// Where `action` leads from `from`, or nothing when the table does not allow it.
std::optional<ShipmentState> shipment_step(ShipmentState from, ShipmentAction action);
// Still to be received: some action of the table leaves the state.
bool shipment_is_open(ShipmentState state);

// How a line's received units compare with what was expected.
enum class Discrepancy { none, short_units, over, unexpected };
std::string_view discrepancy_name(Discrepancy d);  // none, short, over, unexpected

struct ExpectedLine {
  std::string sku;
  std::int64_t quantity = 0;
};

// A shipment as the cloud announces it.
struct InboundShipment {
  std::string id;
  ShipmentKind kind = ShipmentKind::purchase_order;
  std::string source;
  std::vector<std::string> barcodes;  // its labels: ASN, SSCC, PO numbers
  std::vector<ExpectedLine> lines;
  std::optional<std::int64_t> expected_at;
};

inline constexpr std::size_t kMaxShipmentLines = 1000;
inline constexpr std::size_t kMaxShipmentBarcodes = 20;
inline constexpr std::int64_t kMaxReceiptQuantity = 10000;

struct ShipmentLine {
  std::string sku;
  std::string title;
  std::int64_t expected = 0;
  std::int64_t received = 0;  // every unit that arrived, damaged ones included
  std::int64_t damaged = 0;   // of which went straight to unsellable
  Discrepancy discrepancy() const;
  std::int64_t open() const { return expected > received ? expected - received : 0; }
};

struct ShipmentTotals {
  std::int64_t expected = 0;
  std::int64_t received = 0;
  std::int64_t damaged = 0;
  std::int64_t open = 0;  // units still expected
};

struct Shipment {
  std::string id;
  ShipmentKind kind = ShipmentKind::purchase_order;
  std::string source;
  ShipmentState state = ShipmentState::expected;
  std::vector<std::string> barcodes;
  std::optional<std::int64_t> expected_at;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> closed_at;
  std::string closed_by;
  std::vector<ShipmentLine> lines;  // expected lines by SKU, then unexpected ones by SKU
  ShipmentTotals totals() const;
};

// One discrepancy for the report: short/over/unexpected units, or damaged ones.
struct ShipmentDiscrepancy {
  std::string sku;
  std::string kind;  // short, over, unexpected, damaged
  std::int64_t quantity = 0;
};
std::vector<ShipmentDiscrepancy> discrepancies_of(const Shipment& shipment);

// Units scanned in: `item` is a barcode (any GTIN form) or a SKU.
struct ShipmentReceipt {
  std::string shipment_id;
  std::string item;
  std::int64_t quantity = 1;
  bool damaged = false;
};

struct ReceivedUnits {
  std::string sku;
  std::int64_t quantity = 0;
  bool damaged = false;
  ShipmentLine line;  // the line after this receipt
};

class Receiving {
 public:
  Receiving(Database& db, Outbox& outbox, Inventory& inventory)
      : db_(db), outbox_(outbox), inventory_(inventory) {}

  // From the cloud: a new shipment, or the same id again with updated details. An update
  // replaces the labels, source and expected quantities while the shipment is open; units
  // already received stay (a line dropped from the update becomes unexpected). No event:
  // the cloud is the source of the announcement.
  Result<void> announce(const InboundShipment& shipment, const CommandContext& ctx);
  // From the cloud: withdrawn before anything was received (refused once receiving began).
  Result<void> cancel(const std::string& id, const std::string& reason, const CommandContext& ctx);

  Result<ReceivedUnits> receive(const ShipmentReceipt& receipt, const CommandContext& ctx);
  // "Receive and close": the closed shipment, whose lines say what was short.
  Result<Shipment> close(const std::string& id, const CommandContext& ctx);

  std::optional<Shipment> find(const std::string& id);
  // The shipment a scanned label names: an open one first, else the latest.
  std::optional<std::string> id_for_barcode(std::string_view code);
  std::vector<Shipment> open_shipments(std::size_t limit);  // expected soonest first

 private:
  Result<Shipment> load_open(const std::string& id, ShipmentAction action);
  Result<void> check_barcodes_free(const InboundShipment& s);
  Database& db_;
  Outbox& outbox_;
  Inventory& inventory_;
};

}  // namespace fulfil::agent
