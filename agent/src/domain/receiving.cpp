#include "domain/receiving.hpp"

#include <set>

#include "codes/gs1.hpp"
#include "domain/transaction.hpp"
#include "order_validation.hpp"
#include "state_names.hpp"
#include "stock_ledger.hpp"
#include "text_checks.hpp"

namespace fulfil::agent {
namespace {

constexpr std::array<std::string_view, 3> kShipmentKindNames{"purchase_order", "asn", "transfer"};
static_assert(kShipmentKindNames.size() == static_cast<std::size_t>(ShipmentKind::transfer) + 1);
constexpr std::array<std::string_view, 4> kShipmentStateNames{"expected", "receiving", "closed",
                                                              "cancelled"};
static_assert(kShipmentStateNames.size() == static_cast<std::size_t>(ShipmentState::cancelled) + 1);
constexpr std::array<std::string_view, 4> kDiscrepancyNames{"none", "short", "over", "unexpected"};
static_assert(kDiscrepancyNames.size() == static_cast<std::size_t>(Discrepancy::unexpected) + 1);

constexpr std::int64_t kMaxExpectedQuantity = 1'000'000;
constexpr std::int64_t kMaxLineReceived = 1'000'000;

// " AND state IN (...)": the states `action` may leave, from the table, for the UPDATE that
// takes it (so a row another command moved on in between is not touched).
std::string shipment_may_take(ShipmentAction action) {
  std::string list;
  for (const auto& s : kShipmentSteps)
    if (s.action == action)
      list += (list.empty() ? "'" : ",'") + std::string(shipment_state_name(s.from)) + "'";
  return list.empty() ? " AND 0" : " AND state IN (" + list + ")";
}

std::string open_shipment_states_sql() {
  std::string list;
  for (std::size_t i = 0; i < kShipmentStateNames.size(); ++i)
    if (shipment_is_open(static_cast<ShipmentState>(i)))
      list += (list.empty() ? "'" : ",'") + std::string(kShipmentStateNames[i]) + "'";
  return "(" + list + ")";
}

Result<void> check_announcement(const InboundShipment& s) {
  if (auto ok = check_id("shipment_id", s.id); !ok) return ok;
  if (auto ok = check_text("source", s.source, 200, true); !ok) return ok;
  if (s.barcodes.size() > kMaxShipmentBarcodes)
    return fail(DomainErrc::invalid_argument,
                "barcodes: at most " + std::to_string(kMaxShipmentBarcodes) + " labels allowed");
  for (std::size_t i = 0; i < s.barcodes.size(); ++i)
    if (auto ok = check_id("barcodes[" + std::to_string(i) + "]", s.barcodes[i]); !ok) return ok;
  if (s.lines.empty() || s.lines.size() > kMaxShipmentLines)
    return fail(DomainErrc::invalid_argument,
                "lines: a shipment needs 1 to " + std::to_string(kMaxShipmentLines) + " lines");
  std::set<std::string> skus;
  for (std::size_t i = 0; i < s.lines.size(); ++i) {
    const std::string where = "lines[" + std::to_string(i) + "]";
    const auto& l = s.lines[i];
    if (auto ok = check_text(where + ".sku", l.sku, 64, true); !ok) return ok;
    if (!skus.insert(l.sku).second)
      return fail(DomainErrc::invalid_argument, where + ": SKU " + l.sku + " is listed twice");
    if (l.quantity < 1 || l.quantity > kMaxExpectedQuantity)
      return fail(DomainErrc::invalid_argument, where + ".quantity must be 1 to " +
                                                    std::to_string(kMaxExpectedQuantity) +
                                                    ", got " + std::to_string(l.quantity));
  }
  if (s.expected_at && *s.expected_at < 0)
    return fail(DomainErrc::invalid_argument, "expected_at cannot be negative");
  return {};
}

std::optional<ShipmentState> shipment_state_of(Database& db, const std::string& id) {
  auto s = db.prepare("SELECT state FROM inbound_shipment WHERE id=?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return shipment_state_from(s.text(0));
}

void replace_shipment_lines(Database& db, const InboundShipment& s) {
  // A line no longer expected keeps what was received (as unexpected units) or goes.
  db.prepare("UPDATE inbound_shipment_line SET expected=0 WHERE shipment_id=? AND received>0")
      .bind(1, s.id)
      .run();
  db.prepare("DELETE FROM inbound_shipment_line WHERE shipment_id=? AND received=0")
      .bind(1, s.id)
      .run();
  for (const auto& l : s.lines)
    db.prepare(
          "INSERT INTO inbound_shipment_line (shipment_id, sku, expected) VALUES (?,?,?) "
          "ON CONFLICT(shipment_id, sku) DO UPDATE SET expected=excluded.expected")
        .bind(1, s.id)
        .bind(2, l.sku)
        .bind(3, l.quantity)
        .run();
}

nlohmann::json shipment_line_json(const ShipmentLine& l) {
  return {{"sku", l.sku},
          {"expected", l.expected},
          {"received", l.received},
          {"damaged", l.damaged},
          {"discrepancy", discrepancy_name(l.discrepancy())}};
}

// The labels a scanned code may stand for: itself and, for a GS1 SSCC scanned with its
// Application Identifier ("00" + 18 digits), the bare SSCC the cloud sends.
std::vector<std::string> shipment_label_forms(std::string_view code) {
  std::vector<std::string> forms{std::string(code)};
  auto elements = code.starts_with("(") ? drivers::parse_gs1_human_readable(code)
                                        : drivers::parse_gs1_element_string(code);
  if (elements)
    for (const auto& e : *elements)
      if (e.ai == "00") forms.push_back(e.value);
  return forms;
}

}  // namespace

std::string_view shipment_kind_name(ShipmentKind kind) {
  return name_in(kShipmentKindNames, kind);
}
std::optional<ShipmentKind> shipment_kind_from(std::string_view name) {
  return value_in<ShipmentKind>(kShipmentKindNames, name);
}
std::string_view shipment_state_name(ShipmentState state) {
  return name_in(kShipmentStateNames, state);
}
std::optional<ShipmentState> shipment_state_from(std::string_view name) {
  return value_in<ShipmentState>(kShipmentStateNames, name);
}
std::string_view discrepancy_name(Discrepancy d) {
  return name_in(kDiscrepancyNames, d);
}

std::optional<ShipmentState> shipment_step(ShipmentState from, ShipmentAction action) {
  for (const auto& s : kShipmentSteps)
    if (s.from == from && s.action == action) return s.to;
  return std::nullopt;
}

bool shipment_is_open(ShipmentState state) {
  for (const auto& s : kShipmentSteps)
    if (s.from == state) return true;
  return false;
}

Discrepancy ShipmentLine::discrepancy() const {
  if (expected == 0) return received > 0 ? Discrepancy::unexpected : Discrepancy::none;
  if (received < expected) return Discrepancy::short_units;
  return received > expected ? Discrepancy::over : Discrepancy::none;
}

ShipmentTotals Shipment::totals() const {
  ShipmentTotals t;
  for (const auto& l : lines) {
    t.expected += l.expected;
    t.received += l.received;
    t.damaged += l.damaged;
    t.open += l.open();
  }
  return t;
}

std::vector<ShipmentDiscrepancy> discrepancies_of(const Shipment& s) {
  std::vector<ShipmentDiscrepancy> out;
  for (const auto& l : s.lines) {
    switch (l.discrepancy()) {
      case Discrepancy::none:
        break;
      case Discrepancy::short_units:
        out.push_back({l.sku, "short", l.expected - l.received});
        break;
      case Discrepancy::over:
        out.push_back({l.sku, "over", l.received - l.expected});
        break;
      case Discrepancy::unexpected:
        out.push_back({l.sku, "unexpected", l.received});
        break;
    }
    if (l.damaged > 0) out.push_back({l.sku, "damaged", l.damaged});
  }
  return out;
}

Result<void> Receiving::check_barcodes_free(const InboundShipment& s) {
  for (const auto& code : s.barcodes) {
    if (auto sku = inventory_.sku_for_barcode(code))
      return fail(DomainErrc::duplicate,
                  "barcodes: '" + code + "' is the barcode of item " + *sku +
                      "; a shipment label must not be mistaken for an item when scanned");
    auto other = db_.prepare(
        "SELECT b.shipment_id FROM inbound_shipment_barcode b JOIN inbound_shipment s ON "
        "s.id=b.shipment_id WHERE b.code=? AND b.shipment_id<>? AND s.state IN " +
        open_shipment_states_sql());
    other.bind(1, code).bind(2, s.id);
    if (other.step())
      return fail(DomainErrc::duplicate,
                  "barcodes: '" + code + "' already labels open shipment " + other.text(0));
  }
  return {};
}

Result<void> Receiving::announce(const InboundShipment& s, const CommandContext& ctx) {
  if (auto ok = check_announcement(s); !ok) return ok;
  return commit_or_rollback(db_, [&]() -> Result<void> {
    for (std::size_t i = 0; i < s.lines.size(); ++i)
      if (!inventory_.level(s.lines[i].sku))
        return fail(DomainErrc::unknown_sku,
                    "lines[" + std::to_string(i) + "]: unknown SKU " + s.lines[i].sku);
    if (auto ok = check_barcodes_free(s); !ok) return ok;
    const auto state = shipment_state_of(db_, s.id);
    if (state && !shipment_step(*state, ShipmentAction::announce))
      return fail(DomainErrc::illegal_transition, "shipment " + s.id + " is " +
                                                      std::string(shipment_state_name(*state)) +
                                                      "; it can no longer be updated");
    auto row = db_.prepare(
        "INSERT INTO inbound_shipment (id, kind, source, state, expected_at, created_at, "
        "updated_at) VALUES (?1,?2,?3,'expected',?4,?5,?5) ON CONFLICT(id) DO UPDATE SET "
        "kind=excluded.kind, source=excluded.source, expected_at=excluded.expected_at, "
        "updated_at=excluded.updated_at WHERE 1" +
        shipment_may_take(ShipmentAction::announce));
    row.bind(1, s.id).bind(2, shipment_kind_name(s.kind)).bind(3, s.source).bind(5, ctx.now_ms);
    if (s.expected_at)
      row.bind(4, *s.expected_at);
    else
      row.bind_null(4);
    row.run();
    db_.prepare("DELETE FROM inbound_shipment_barcode WHERE shipment_id=?").bind(1, s.id).run();
    for (const auto& code : std::set<std::string>(s.barcodes.begin(), s.barcodes.end()))
      db_.prepare("INSERT INTO inbound_shipment_barcode (shipment_id, code) VALUES (?,?)")
          .bind(1, s.id)
          .bind(2, code)
          .run();
    replace_shipment_lines(db_, s);
    return {};
  });
}

Result<void> Receiving::cancel(const std::string& id, const std::string& reason,
                               const CommandContext& ctx) {
  if (auto ok = check_text("reason", reason, 200, false); !ok) return ok;
  return commit_or_rollback(db_, [&]() -> Result<void> {
    auto shipment = load_open(id, ShipmentAction::cancel);
    if (!shipment) return unexpected(shipment.error());
    db_.prepare(
           "UPDATE inbound_shipment SET state='cancelled', cancel_reason=?, closed_at=?, "
           "closed_by=?, updated_at=? WHERE id=?" +
           shipment_may_take(ShipmentAction::cancel))
        .bind(1, reason)
        .bind(2, ctx.now_ms)
        .bind(3, ctx.actor.str())
        .bind(4, ctx.now_ms)
        .bind(5, id)
        .run();
    return {};
  });
}

// The shipment, if `action` may be taken on it now.
Result<Shipment> Receiving::load_open(const std::string& id, ShipmentAction action) {
  auto shipment = find(id);
  if (!shipment) return fail(DomainErrc::not_found, "no inbound shipment " + id);
  if (!shipment_step(shipment->state, action)) {
    const std::string state(shipment_state_name(shipment->state));
    if (action == ShipmentAction::cancel)
      return fail(DomainErrc::illegal_transition,
                  "shipment " + id + " is " + state +
                      (shipment->state == ShipmentState::receiving
                           ? ": units were received already; it can only be closed"
                           : "; it cannot be cancelled"));
    return fail(DomainErrc::illegal_transition,
                "shipment " + id + " is " + state + ": nothing more can be received on it");
  }
  return *shipment;
}

Result<ReceivedUnits> Receiving::receive(const ShipmentReceipt& r, const CommandContext& ctx) {
  if (auto ok = check_text("barcode", r.item, 100, true); !ok) return unexpected(ok.error());
  if (r.quantity < 1 || r.quantity > kMaxReceiptQuantity)
    return fail(DomainErrc::invalid_argument, "quantity must be 1 to " +
                                                  std::to_string(kMaxReceiptQuantity) + ", got " +
                                                  std::to_string(r.quantity));
  return commit_or_rollback(db_, [&]() -> Result<ReceivedUnits> {
    auto shipment = load_open(r.shipment_id, ShipmentAction::receive);
    if (!shipment) return unexpected(shipment.error());
    auto sku = inventory_.sku_for_barcode(r.item);
    if (!sku && inventory_.level(r.item)) sku = r.item;
    if (!sku)
      return fail(DomainErrc::unknown_sku,
                  "barcode '" + r.item + "' is not in this store's catalog; its units cannot be " +
                      "received under any SKU");
    ShipmentLine line{*sku, "", 0, 0, 0};
    for (const auto& l : shipment->lines)
      if (l.sku == *sku) line = l;
    if (line.received + r.quantity > kMaxLineReceived)
      return fail(DomainErrc::invalid_argument, "quantity: SKU " + *sku +
                                                    " would reach more than " +
                                                    std::to_string(kMaxLineReceived) +
                                                    " units received on shipment " + shipment->id);
    line.received += r.quantity;
    if (r.damaged) line.damaged += r.quantity;
    db_.prepare(
           "INSERT INTO inbound_shipment_line (shipment_id, sku, expected, received, damaged) "
           "VALUES (?1,?2,0,?3,?4) ON CONFLICT(shipment_id, sku) DO UPDATE SET "
           "received=excluded.received, damaged=excluded.damaged")
        .bind(1, shipment->id)
        .bind(2, *sku)
        .bind(3, line.received)
        .bind(4, line.damaged)
        .run();
    db_.prepare("UPDATE inbound_shipment SET state='receiving', updated_at=? WHERE id=?" +
                shipment_may_take(ShipmentAction::receive))
        .bind(1, ctx.now_ms)
        .bind(2, shipment->id)
        .run();
    StockLedger ledger(db_);
    const auto moves = arrival(*sku, r.quantity, r.damaged, "receipt", "shipment " + shipment->id);
    for (const auto& m : moves)
      if (auto ok = ledger.post(m, ctx); !ok) return unexpected(ok.error());
    outbox_.append("shipment.item_received", shipment->id,
                   {{"shipment_id", shipment->id},
                    {"sku", *sku},
                    {"quantity", r.quantity},
                    {"damaged", r.damaged},
                    {"actor", ctx.actor.str()},
                    {"line", shipment_line_json(line)},
                    {"movements", movements_json(moves)}},
                   ctx.now_ms);
    return ReceivedUnits{*sku, r.quantity, r.damaged, line};
  });
}

Result<Shipment> Receiving::close(const std::string& id, const CommandContext& ctx) {
  return commit_or_rollback(db_, [&]() -> Result<Shipment> {
    auto shipment = load_open(id, ShipmentAction::close);
    if (!shipment) return unexpected(shipment.error());
    db_.prepare(
           "UPDATE inbound_shipment SET state='closed', closed_at=?, closed_by=?, updated_at=? "
           "WHERE id=?" +
           shipment_may_take(ShipmentAction::close))
        .bind(1, ctx.now_ms)
        .bind(2, ctx.actor.str())
        .bind(3, ctx.now_ms)
        .bind(4, id)
        .run();
    auto closed = find(id);
    nlohmann::json lines = nlohmann::json::array(), found = nlohmann::json::array();
    for (const auto& l : closed->lines) lines.push_back(shipment_line_json(l));
    for (const auto& d : discrepancies_of(*closed))
      found.push_back({{"sku", d.sku}, {"kind", d.kind}, {"quantity", d.quantity}});
    const auto t = closed->totals();
    outbox_.append(
        "shipment.received", id,
        {{"shipment_id", id},
         {"kind", shipment_kind_name(closed->kind)},
         {"source", closed->source},
         {"actor", ctx.actor.str()},
         {"lines", lines},
         {"discrepancies", found},
         {"totals", {{"expected", t.expected}, {"received", t.received}, {"damaged", t.damaged}}}},
        ctx.now_ms);
    return *closed;
  });
}

std::optional<Shipment> Receiving::find(const std::string& id) {
  auto s = db_.prepare(
      "SELECT id, kind, source, state, expected_at, created_at, updated_at, closed_at, "
      "coalesce(closed_by,'') FROM inbound_shipment WHERE id=?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  Shipment out;
  out.id = s.text(0);
  out.kind = shipment_kind_from(s.text(1)).value_or(ShipmentKind::purchase_order);
  out.source = s.text(2);
  out.state = shipment_state_from(s.text(3)).value_or(ShipmentState::closed);
  if (!s.is_null(4)) out.expected_at = s.int64(4);
  out.created_at = s.int64(5);
  out.updated_at = s.int64(6);
  if (!s.is_null(7)) out.closed_at = s.int64(7);
  out.closed_by = s.text(8);
  auto codes =
      db_.prepare("SELECT code FROM inbound_shipment_barcode WHERE shipment_id=? ORDER BY code");
  codes.bind(1, id);
  while (codes.step()) out.barcodes.push_back(codes.text(0));
  auto lines = db_.prepare(
      "SELECT l.sku, k.title, l.expected, l.received, l.damaged FROM inbound_shipment_line l "
      "JOIN sku k ON k.sku=l.sku WHERE l.shipment_id=? ORDER BY l.expected=0, l.sku");
  lines.bind(1, id);
  while (lines.step())
    out.lines.push_back(
        {lines.text(0), lines.text(1), lines.int64(2), lines.int64(3), lines.int64(4)});
  return out;
}

std::optional<std::string> Receiving::id_for_barcode(std::string_view code) {
  if (code.empty() || code.size() > 200) return std::nullopt;
  if (find(std::string(code))) return std::string(code);
  for (const auto& form : shipment_label_forms(code)) {
    auto s = db_.prepare(
        "SELECT b.shipment_id FROM inbound_shipment_barcode b JOIN inbound_shipment s ON "
        "s.id=b.shipment_id WHERE b.code=? ORDER BY s.state IN " +
        open_shipment_states_sql() + " DESC, s.created_at DESC, s.id LIMIT 1");
    s.bind(1, form);
    if (s.step()) return s.text(0);
  }
  return std::nullopt;
}

std::vector<Shipment> Receiving::open_shipments(std::size_t limit) {
  auto s =
      db_.prepare("SELECT id FROM inbound_shipment WHERE state IN " + open_shipment_states_sql() +
                  " ORDER BY expected_at IS NULL, expected_at, created_at, id LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(limit));
  std::vector<std::string> ids;
  while (s.step()) ids.push_back(s.text(0));
  std::vector<Shipment> out;
  for (const auto& id : ids)
    if (auto found = find(id)) out.push_back(std::move(*found));
  return out;
}

}  // namespace fulfil::agent
