// Receiving inbound shipments: announced by the cloud's feed (once; malformed ones refused
// naming the field), found by a label, received by scans with every kind of discrepancy,
// in part across a restart, closed with a report; every receipt a ledger row and an event.
#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "domain/cloud_commands.hpp"
#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;
using nlohmann::json;

namespace {

using fulfil::test::sample_gtin13;

json asn_payload(const std::string& id = "ASN-1") {
  return {{"shipment_id", id},
          {"kind", "asn"},
          {"source", "Central warehouse"},
          {"barcodes", {"PO-4500012345", "031234560000000015"}},
          {"lines",
           {{{"sku", "SKU-0001"}, {"quantity", 5}},
            {{"sku", "SKU-0002"}, {"quantity", 3}},
            {{"sku", "SKU-0003"}, {"quantity", 2}}}},
          {"expected_at", fulfil::test::kT0 + 3'600'000}};
}

struct Fixture : fulfil::test::StoreChecks<Fixture> {
  fulfil::test::TestStore t = fulfil::test::open_test_store();
  int commands = 0;
  Fixture() { fulfil::test::seed_catalog(*t, 5, 10); }
  Receiving& rx() { return t->receiving(); }
  CommandResult feed(const std::string& type, const json& payload, std::string id = "") {
    if (id.empty()) id = "cmd-" + std::to_string(++commands);
    auto r = CloudCommands(*t).apply({id, type, id, fulfil::test::kT0, payload}, fulfil::test::kT0);
    REQUIRE(r.has_value());
    return *r;
  }
  void announce(const json& payload = asn_payload()) {
    auto r = feed("shipment.inbound", payload);
    REQUIRE_MESSAGE(r.outcome == CommandOutcome::applied, r.detail);
  }
  Result<ReceivedUnits> receive(const std::string& item, std::int64_t qty = 1, bool damaged = false,
                                const std::string& id = "ASN-1") {
    return rx().receive({id, item, qty, damaged}, ctx());
  }
  StockLevel level(const std::string& sku) { return *t->inventory().level(sku); }
  const ShipmentLine& line(const Shipment& s, const std::string& sku) {
    for (const auto& l : s.lines)
      if (l.sku == sku) return l;
    FAIL("no line for " << sku);
    return s.lines.front();
  }
  std::vector<json> events(const std::string& type) {
    std::vector<json> out;
    for (const auto& e : t->outbox().pending(10000))
      if (e.type == type) out.push_back(json::parse(e.payload));
    return out;
  }
  // Independent of the domain: each line's received units are the ledger's receipts for
  // the shipment, and the counters are the ledger's sums.
  void check_books(const std::string& id = "ASN-1") {
    CHECK(fulfil::test::invariant_violations(t->db()).empty());
    auto s = t->db().prepare(
        "SELECT l.sku, l.received, l.damaged, "
        "(SELECT coalesce(sum(delta),0) FROM ledger WHERE sku=l.sku AND kind='receipt' AND "
        " bucket='on_hand' AND reason='shipment ' || l.shipment_id), "
        "(SELECT coalesce(sum(delta),0) FROM ledger WHERE sku=l.sku AND kind='receipt' AND "
        " bucket='unsellable' AND reason='shipment ' || l.shipment_id) "
        "FROM inbound_shipment_line l WHERE l.shipment_id=?");
    s.bind(1, id);
    while (s.step()) {
      CAPTURE(s.text(0));
      CHECK(s.int64(1) == s.int64(3));
      CHECK(s.int64(2) == s.int64(4));
    }
  }
};

}  // namespace

TEST_CASE("the shipment lifecycle is a table; the predicates follow from it") {
  for (auto st : {ShipmentState::expected, ShipmentState::receiving, ShipmentState::closed,
                  ShipmentState::cancelled}) {
    CHECK(shipment_state_from(shipment_state_name(st)) == st);
    bool leaves = false;
    for (auto a : {ShipmentAction::announce, ShipmentAction::receive, ShipmentAction::close,
                   ShipmentAction::cancel})
      leaves |= shipment_step(st, a).has_value();
    CHECK(shipment_is_open(st) == leaves);
  }
  CHECK(shipment_is_open(ShipmentState::receiving));
  CHECK_FALSE(shipment_is_open(ShipmentState::closed));
  CHECK_FALSE(shipment_step(ShipmentState::receiving, ShipmentAction::cancel));
  CHECK(shipment_step(ShipmentState::expected, ShipmentAction::receive) ==
        ShipmentState::receiving);
  for (auto k : {ShipmentKind::purchase_order, ShipmentKind::asn, ShipmentKind::transfer})
    CHECK(shipment_kind_from(shipment_kind_name(k)) == k);
  CHECK(discrepancy_name(Discrepancy::short_units) == "short");
}

TEST_CASE("an announced shipment is found by its id and by each of its labels") {
  Fixture f;
  f.announce();
  auto s = f.rx().find("ASN-1");
  REQUIRE(s);
  CHECK(s->state == ShipmentState::expected);
  CHECK(s->kind == ShipmentKind::asn);
  CHECK(s->source == "Central warehouse");
  CHECK(s->expected_at == fulfil::test::kT0 + 3'600'000);
  CHECK(s->lines.size() == 3);
  CHECK(s->totals().expected == 10);
  CHECK(s->totals().open == 10);
  CHECK(f.rx().id_for_barcode("ASN-1") == std::optional<std::string>("ASN-1"));
  CHECK(f.rx().id_for_barcode("PO-4500012345") == std::optional<std::string>("ASN-1"));
  CHECK(f.rx().id_for_barcode("031234560000000015") == std::optional<std::string>("ASN-1"));
  // The SSCC scanned from a GS1-128 label, with its Application Identifier.
  CHECK(f.rx().id_for_barcode("00031234560000000015") == std::optional<std::string>("ASN-1"));
  CHECK(f.rx().id_for_barcode("(00)031234560000000015") == std::optional<std::string>("ASN-1"));
  CHECK_FALSE(f.rx().id_for_barcode("PO-4500099999"));
  CHECK_FALSE(f.rx().id_for_barcode(sample_gtin13(1)));
  CHECK(f.rx().open_shipments(10).size() == 1);
  CHECK(fulfil::test::count_rows(f.t->db(), "ledger") == 5);  // only the seeded stock
}

TEST_CASE("every discrepancy kind is received, recorded and reported when closing") {
  Fixture f;
  f.announce();
  const auto before = [&] {
    std::map<std::string, StockLevel> m;
    for (int i = 1; i <= 5; ++i) {
      const std::string sku = "SKU-000" + std::to_string(i);
      m[sku] = f.level(sku);
    }
    return m;
  }();
  // SKU-0001: exactly as expected, one scan per unit, by barcode.
  for (int i = 0; i < 5; ++i) REQUIRE(f.receive(sample_gtin13(1)));
  // SKU-0002: short (2 of 3), one scan with a quantity, by SKU.
  auto two = f.receive("SKU-0002", 2);
  REQUIRE(two);
  CHECK(two->line.discrepancy() == Discrepancy::short_units);
  // SKU-0003: over (3 of 2), one of them damaged.
  REQUIRE(f.receive(sample_gtin13(3), 2));
  auto damaged = f.receive(sample_gtin13(3), 1, true);
  REQUIRE(damaged);
  CHECK(damaged->line.received == 3);
  CHECK(damaged->line.damaged == 1);
  CHECK(damaged->line.discrepancy() == Discrepancy::over);
  // SKU-0004: not on the shipment, a known SKU: an extra line.
  auto extra = f.receive(sample_gtin13(4));
  REQUIRE(extra);
  CHECK(extra->line.expected == 0);
  CHECK(extra->line.discrepancy() == Discrepancy::unexpected);

  auto s = *f.rx().find("ASN-1");
  CHECK(s.state == ShipmentState::receiving);
  CHECK(s.lines.back().sku == "SKU-0004");  // unexpected lines after the expected ones
  CHECK(s.totals().received == 11);
  CHECK(s.totals().damaged == 1);
  CHECK(s.totals().open == 1);
  CHECK(f.level("SKU-0001").on_hand == before.at("SKU-0001").on_hand + 5);
  CHECK(f.level("SKU-0002").on_hand == before.at("SKU-0002").on_hand + 2);
  CHECK(f.level("SKU-0003").on_hand == before.at("SKU-0003").on_hand + 3);
  CHECK(f.level("SKU-0003").unsellable == before.at("SKU-0003").unsellable + 1);
  CHECK(f.level("SKU-0004").on_hand == before.at("SKU-0004").on_hand + 1);
  CHECK(f.level("SKU-0005").on_hand == before.at("SKU-0005").on_hand);
  f.check_books();

  // One event per receipt, with its movements.
  const auto received = f.events("shipment.item_received");
  REQUIRE(received.size() == 9);
  CHECK(received[7]["sku"] == "SKU-0003");
  CHECK(received[7]["damaged"] == true);
  CHECK(received[7]["movements"].size() == 2);
  CHECK(received[7]["movements"][1]["bucket"] == "unsellable");
  CHECK(received[7]["line"]["received"] == 3);
  CHECK(received[7]["actor"] == ctx().actor.str());

  auto closed = f.rx().close("ASN-1", ctx());
  REQUIRE(closed);
  CHECK(closed->state == ShipmentState::closed);
  CHECK(f.line(*closed, "SKU-0002").discrepancy() == Discrepancy::short_units);
  const auto report = f.events("shipment.received");
  REQUIRE(report.size() == 1);
  const json& r = report[0];
  CHECK(r["shipment_id"] == "ASN-1");
  CHECK(r["lines"].size() == 4);
  std::map<std::string, std::string> kinds;
  for (const auto& l : r["lines"]) kinds[l["sku"]] = l["discrepancy"];
  CHECK(kinds == std::map<std::string, std::string>{{"SKU-0001", "none"},
                                                    {"SKU-0002", "short"},
                                                    {"SKU-0003", "over"},
                                                    {"SKU-0004", "unexpected"}});
  CHECK(r["discrepancies"] ==
        json::array({{{"sku", "SKU-0002"}, {"kind", "short"}, {"quantity", 1}},
                     {{"sku", "SKU-0003"}, {"kind", "over"}, {"quantity", 1}},
                     {{"sku", "SKU-0003"}, {"kind", "damaged"}, {"quantity", 1}},
                     {{"sku", "SKU-0004"}, {"kind", "unexpected"}, {"quantity", 1}}}));
  CHECK(r["totals"] == json{{"expected", 10}, {"received", 11}, {"damaged", 1}});
  CHECK(f.rx().open_shipments(10).empty());
  f.check_books();
}

TEST_CASE("a shipment received in part survives a restart and is finished afterwards") {
  Fixture f;
  f.announce();
  REQUIRE(f.receive(sample_gtin13(1), 3));
  REQUIRE(f.receive(sample_gtin13(2), 1, true));
  f.t.reopen();
  auto s = f.rx().find("ASN-1");
  REQUIRE(s);
  CHECK(s->state == ShipmentState::receiving);
  CHECK(f.line(*s, "SKU-0001").received == 3);
  CHECK(f.line(*s, "SKU-0002").damaged == 1);
  CHECK(f.rx().id_for_barcode("PO-4500012345") == std::optional<std::string>("ASN-1"));
  REQUIRE(f.receive(sample_gtin13(1), 2));
  REQUIRE(f.receive(sample_gtin13(2), 2));
  REQUIRE(f.receive(sample_gtin13(3), 2));
  auto closed = f.rx().close("ASN-1", ctx());
  REQUIRE(closed);
  CHECK(discrepancies_of(*closed).size() == 1);  // only the damaged unit
  CHECK(closed->totals().received == closed->totals().expected);
  f.check_books();
}

TEST_CASE("refused receipts and closings change nothing") {
  Fixture f;
  f.announce();
  REQUIRE(f.receive("SKU-0001"));
  auto& db = f.t->db();
  f.refused([&] { return f.receive("4006381333931"); }, DomainErrc::unknown_sku,
            "barcode '4006381333931' is not in this store's catalog");
  f.refused([&] { return f.receive("SKU-9999"); }, DomainErrc::unknown_sku, "SKU-9999");
  f.refused([&] { return f.receive("SKU-0001", 0); }, DomainErrc::invalid_argument,
            "quantity must be 1 to 10000, got 0");
  f.refused([&] { return f.receive("SKU-0001", -3); }, DomainErrc::invalid_argument, "got -3");
  f.refused([&] { return f.receive("SKU-0001", 10001); }, DomainErrc::invalid_argument,
            "got 10001");
  f.refused([&] { return f.receive("SKU-\x1b[2J"); }, DomainErrc::invalid_argument,
            "barcode contains a control character");
  f.refused([&] { return f.receive("\xff\xfe"); }, DomainErrc::invalid_argument, "not valid UTF-8");
  f.refused([&] { return f.receive(""); }, DomainErrc::invalid_argument, "barcode is required");
  f.refused([&] { return f.receive("SKU-0001", 1, false, "ASN-404"); }, DomainErrc::not_found,
            "no inbound shipment ASN-404");
  f.refused([&] { return f.rx().close("ASN-404", ctx()); }, DomainErrc::not_found, "ASN-404");
  f.refused([&] { return f.rx().cancel("ASN-1", "changed our mind", ctx()); },
            DomainErrc::illegal_transition, "units were received already");
  REQUIRE(f.rx().close("ASN-1", ctx()));
  f.refused([&] { return f.receive("SKU-0001"); }, DomainErrc::illegal_transition,
            "shipment ASN-1 is closed: nothing more can be received on it");
  f.refused([&] { return f.rx().close("ASN-1", ctx()); }, DomainErrc::illegal_transition,
            "is closed");
  CHECK(fulfil::test::invariant_violations(db).empty());
}

TEST_CASE("shipment.inbound is applied once; an update replaces what is still expected") {
  Fixture f;
  const auto first = f.feed("shipment.inbound", asn_payload(), "cmd-A");
  CHECK(first.outcome == CommandOutcome::applied);
  REQUIRE(f.receive("SKU-0003", 1));
  const auto before = fulfil::test::fingerprint(f.t->db(), {"inbox", "sync_state"});
  // The same command again (a page delivered twice): recorded once, applied once.
  CHECK(f.feed("shipment.inbound", asn_payload(), "cmd-A").outcome == CommandOutcome::duplicate);
  CHECK(fulfil::test::fingerprint(f.t->db(), {"inbox", "sync_state"}) == before);
  CHECK(CloudCommands(*f.t).applied_count() == 1);

  // The cloud corrects the ASN: SKU-0003 is no longer on it (its received unit stays, now
  // unexpected), SKU-0002 has 4, SKU-0005 is new, and it has one label only.
  json update = asn_payload();
  update["kind"] = "transfer";
  update["source"] = "Store Köln";
  update["barcodes"] = {"TR-77"};
  update["lines"] = {{{"sku", "SKU-0002"}, {"quantity", 4}},
                     {{"sku", "SKU-0005"}, {"quantity", 1}}};
  update.erase("expected_at");
  f.announce(update);
  auto s = *f.rx().find("ASN-1");
  CHECK(s.kind == ShipmentKind::transfer);
  CHECK(s.source == "Store Köln");
  CHECK_FALSE(s.expected_at);
  CHECK(s.barcodes == std::vector<std::string>{"TR-77"});
  CHECK_FALSE(f.rx().id_for_barcode("PO-4500012345"));
  REQUIRE(s.lines.size() == 3);
  CHECK(f.line(s, "SKU-0002").expected == 4);
  CHECK(f.line(s, "SKU-0003").discrepancy() == Discrepancy::unexpected);
  CHECK(f.line(s, "SKU-0005").expected == 1);
  f.check_books();

  REQUIRE(f.rx().close("ASN-1", ctx()));
  auto late = f.feed("shipment.inbound", asn_payload());
  CHECK(late.outcome == CommandOutcome::rejected);
  CHECK(late.detail.find("shipment ASN-1 is closed; it can no longer be updated") !=
        std::string::npos);
}

TEST_CASE("malformed or hostile shipment.inbound commands are rejected, naming the field") {
  Fixture f;
  struct Case {
    std::function<void(json&)> spoil;
    std::string needle;
  };
  const std::vector<Case> cases{
      {[](json& p) { p = json::array(); }, "payload: expected an object"},
      {[](json& p) { p.erase("shipment_id"); }, "payload.shipment_id: missing"},
      {[](json& p) { p["shipment_id"] = "ASN 1; DROP"; }, "payload.shipment_id 'ASN 1; DROP' may"},
      {[](json& p) { p["kind"] = "gift"; }, "payload.kind: expected purchase_order, asn or"},
      {[](json& p) { p["source"] = 7; }, "payload.source: expected a string"},
      {[](json& p) { p["source"] = ""; }, "payload.source is required"},
      {[](json& p) { p["source"] = "Ware\x07house"; }, "payload.source contains a control"},
      {[](json& p) { p["barcodes"] = "PO-1"; }, "payload.barcodes: expected an array"},
      {[](json& p) { p["barcodes"][1] = 12; }, "payload.barcodes[1]: expected a string"},
      {[](json& p) { p["barcodes"][0] = "<script>"; }, "payload.barcodes[0] '<script>' may"},
      {[](json& p) { p["barcodes"][0] = sample_gtin13(2); },
       "payload.barcodes: '" + sample_gtin13(2) + "' is the barcode of item SKU-0002"},
      {[](json& p) { p.erase("lines"); }, "payload.lines: missing"},
      {[](json& p) { p["lines"] = json::array(); }, "payload.lines: a shipment needs 1 to"},
      {[](json& p) { p["lines"][1]["quantity"] = "3"; },
       "payload.lines[1].quantity: expected an integer"},
      {[](json& p) { p["lines"][1]["quantity"] = 0; }, "payload.lines[1].quantity must be 1 to"},
      {[](json& p) { p["lines"][2]["sku"] = "SKU-0001"; },
       "payload.lines[2]: SKU SKU-0001 is listed twice"},
      {[](json& p) { p["lines"][2]["sku"] = "SKU-4040"; },
       "payload.lines[2]: unknown SKU SKU-4040"},
      {[](json& p) { p["expected_at"] = "tomorrow"; }, "payload.expected_at: expected an integer"},
      {[](json& p) { p["expected_at"] = -1; }, "payload.expected_at cannot be negative"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.needle);
    json p = asn_payload();
    c.spoil(p);
    const auto before = fulfil::test::fingerprint(f.t->db(), {"inbox", "sync_state", "outbox"});
    const auto rejected_before = f.events("command.rejected").size();
    auto r = f.feed("shipment.inbound", p);
    CHECK(r.outcome == CommandOutcome::rejected);
    CHECK_MESSAGE(r.detail.find(c.needle) != std::string::npos, r.detail);
    CHECK(fulfil::test::fingerprint(f.t->db(), {"inbox", "sync_state", "outbox"}) == before);
    CHECK(f.events("command.rejected").size() == rejected_before + 1);
  }
  CHECK(fulfil::test::count_rows(f.t->db(), "inbound_shipment") == 0);
  // A label another open shipment holds is refused too.
  f.announce();
  auto clash = asn_payload("ASN-2");
  clash["barcodes"] = {"PO-4500012345"};
  auto r = f.feed("shipment.inbound", clash);
  CHECK(r.outcome == CommandOutcome::rejected);
  CHECK(r.detail.find("'PO-4500012345' already labels open shipment ASN-1") != std::string::npos);
}

TEST_CASE("shipment.cancelled withdraws a shipment nothing was received on") {
  Fixture f;
  f.announce();
  auto second = asn_payload("ASN-2");
  second["barcodes"] = {"PO-2"};
  f.announce(second);
  REQUIRE(f.receive("SKU-0001", 1, false, "ASN-2"));
  auto cancelled =
      f.feed("shipment.cancelled", {{"shipment_id", "ASN-1"}, {"reason", "supplier cancelled"}});
  CHECK(cancelled.outcome == CommandOutcome::applied);
  CHECK(f.rx().find("ASN-1")->state == ShipmentState::cancelled);
  CHECK(f.rx().find("ASN-1")->closed_by == "cloud:feed");
  f.refused([&] { return f.receive("SKU-0001"); }, DomainErrc::illegal_transition,
            "shipment ASN-1 is cancelled");
  // Its labels may name a new shipment now.
  f.announce(asn_payload("ASN-3"));
  CHECK(f.rx().id_for_barcode("PO-4500012345") == std::optional<std::string>("ASN-3"));
  auto late = f.feed("shipment.cancelled", {{"shipment_id", "ASN-2"}});
  CHECK(late.outcome == CommandOutcome::rejected);
  CHECK(late.detail.find("units were received already") != std::string::npos);
  CHECK(f.rx().find("ASN-2")->state == ShipmentState::receiving);
  auto missing = f.feed("shipment.cancelled", {{"reason", "x"}});
  CHECK(missing.detail == "payload.shipment_id: missing");
  auto unknown = f.feed("shipment.cancelled", {{"shipment_id", "ASN-9"}});
  CHECK(unknown.detail == "no inbound shipment ASN-9");
  CHECK(f.rx().open_shipments(10).size() == 2);
  f.check_books("ASN-2");
}
