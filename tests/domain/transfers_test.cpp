// Outbound transfers: the cloud asks the store to send stock to another store
// (transfer.requested). A transfer is a fulfilment order of kind transfer: accepted
// (reserving its stock), picked, packed and shipped like a ship order; its stock leaves as
// a transfer out, not a sale; its events say it is a transfer and to which store. Applied
// once; malformed requests refused naming the field; cancelled before shipping.
#include <doctest/doctest.h>

#include <functional>

#include "domain/cloud_commands.hpp"
#include "domain/order_codec.hpp"
#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;
using nlohmann::json;

namespace {

json transfer_payload(const std::string& id = "TRF-1") {
  return {
      {"transfer_id", id},
      {"destination_store",
       {{"id", "STORE-042"},
        {"name", "Riverside"},
        {"address",
         {{"name", "Goods in"},
          {"line1", "Uferstrasse 12"},
          {"city", "Kassel"},
          {"postcode", "34117"},
          {"country", "DE"}}}}},
      {"lines", {{{"sku", "SKU-0001"}, {"quantity", 3}}, {{"sku", "SKU-0002"}, {"quantity", 1}}}},
      {"ship_by", fulfil::test::kT0 + 86'400'000},
      {"notes", "for the weekend"}};
}

struct Fixture {
  fulfil::test::TestStore t;
  int commands = 0;
  explicit Fixture(OrderPolicy policy = {}) : t(fulfil::test::open_test_store(std::move(policy))) {
    fulfil::test::seed_catalog(*t, 3, 10);
  }
  FulfilmentOrders& orders() { return t->orders(); }
  StockLevel level(const std::string& sku) { return *t->inventory().level(sku); }
  CommandResult feed(const std::string& type, const json& payload, std::string id = "") {
    if (id.empty()) id = "cmd-" + std::to_string(++commands);
    auto r = CloudCommands(*t).apply({id, type, id, fulfil::test::kT0, payload}, fulfil::test::kT0);
    REQUIRE(r.has_value());
    return *r;
  }
  void request(const json& payload = transfer_payload()) {
    auto r = feed("transfer.requested", payload);
    REQUIRE_MESSAGE(r.outcome == CommandOutcome::applied, r.detail);
  }
  std::vector<json> events(const std::string& type) {
    std::vector<json> out;
    auto s = t->db().prepare("SELECT payload FROM outbox WHERE type=? ORDER BY seq");
    s.bind(1, type);
    while (s.step()) out.push_back(json::parse(s.text(0)));
    return out;
  }
  void pick_all(const std::string& id) {
    REQUIRE(orders().start_picking(id, ctx()));
    const auto order = *orders().find(id);
    for (const auto& l : order.lines) REQUIRE(orders().pick_item(id, l.sku, l.quantity, ctx()));
    REQUIRE(orders().complete_picking(id, ctx()));
  }
};

void check_is_transfer(json event) {  // a copy: a missing key reads as null
  CHECK(event["kind"] == "transfer");
  CHECK(event["destination_store"] == json{{"id", "STORE-042"}, {"name", "Riverside"}});
}

}  // namespace

TEST_CASE(
    "transfer shipped: reserved at accept, picked, packed, shipped; stock leaves as a "
    "transfer out") {
  Fixture f;
  f.request();
  auto o = *f.orders().find("TRF-1");
  CHECK(o.kind == OrderKind::transfer);
  CHECK(o.state == OrderState::routed);
  CHECK(o.method == DeliveryMethod::ship);
  CHECK(o.order_ref == "TRF-1");
  CHECK(o.destination_store == "STORE-042");
  CHECK(o.customer.name == "Riverside");
  CHECK(o.address.city == "Kassel");
  CHECK(o.currency.empty());
  CHECK(o.notes == "for the weekend");
  CHECK(o.ship_by == fulfil::test::kT0 + 86'400'000);
  REQUIRE(o.lines.size() == 2);
  CHECK(o.lines[1].line_no == 2);
  CHECK(o.lines[1].unit_price_minor == 0);
  check_is_transfer(f.events("order.received").at(0));
  CHECK(f.events("order.received").at(0)["capacity_flag"] == "");

  REQUIRE(f.orders().accept("TRF-1", ctx()));
  CHECK(f.level("SKU-0001").reserved == 3);
  CHECK(f.level("SKU-0001").available() == 7);
  check_is_transfer(f.events("order.accepted").at(0));
  f.pick_all("TRF-1");
  REQUIRE(f.orders().pack("TRF-1", {{1, "BOX-M", 2400, {{1, 3}, {2, 1}}}}, ctx()));
  REQUIRE(f.orders().ship("TRF-1", "DHL", "JD0146000042", ctx()));

  o = *f.orders().find("TRF-1");
  CHECK(o.state == OrderState::shipped);
  CHECK(o.tracking == "JD0146000042");
  CHECK(f.level("SKU-0001").on_hand == 7);
  CHECK(f.level("SKU-0001").reserved == 0);
  CHECK(f.level("SKU-0002").on_hand == 9);
  auto shipped = f.events("order.shipped").at(0);
  check_is_transfer(shipped);
  CHECK(shipped["tracking"] == "JD0146000042");
  REQUIRE(shipped["movements"].size() == 2);
  CHECK(shipped["movements"][0] == json{{"sku", "SKU-0001"},
                                        {"bucket", "on_hand"},
                                        {"delta", -3},
                                        {"kind", "transfer_out"},
                                        {"reason", "transfer out: STORE-042"}});
  // The ledger itself says so, with the transfer as the order: nothing was sold.
  auto s = f.t->db().prepare(
      "SELECT count(*), coalesce(sum(delta),0) FROM ledger WHERE kind='transfer_out' AND "
      "reason='transfer out: STORE-042' AND order_id='TRF-1'");
  REQUIRE(s.step());
  CHECK(s.int64(0) == 2);
  CHECK(s.int64(1) == -4);
  CHECK(fulfil::test::count_rows(f.t->db(), "ledger") == 3 + 2);  // seeding, then the transfer
  // Every step's event carries the kind; a customer order's events do not (as before).
  for (const char* type :
       {"order.picking_started", "order.item_picked", "order.picked", "order.packed"})
    for (const auto& e : f.events(type)) {
      CAPTURE(type);
      check_is_transfer(e);
    }
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-1", DeliveryMethod::ship, {{"SKU-0003", 1}}), ctx()));
  CHECK_FALSE(f.events("order.received").at(1).contains("kind"));
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
  // What was sent to another store is not a customer's to return here.
  const auto before = fulfil::test::fingerprint(f.t->db());
  auto back = f.t->returns().receive(
      {"TRF-1", {{"SKU-0001", 1, Disposition::restock, "damaged"}}, ""}, ctx());
  REQUIRE_FALSE(back);
  CHECK(back.error().message.find("transfer to store STORE-042") != std::string::npos);
  CHECK(fulfil::test::fingerprint(f.t->db()) == before);
}

TEST_CASE("transfers are listed apart in the queue and do not count against capacity") {
  OrderPolicy policy;
  policy.capacity.orders_per_day = 1;
  Fixture f(policy);
  f.request();
  CHECK(f.orders().capacity().status(fulfil::test::kT0).routed_today == 0);
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-1", DeliveryMethod::ship, {{"SKU-0003", 1}}), ctx()));
  CHECK(f.orders().find("FO-1")->capacity_flag == "");  // the day's one customer order
  CHECK(f.orders().capacity().status(fulfil::test::kT0).routed_today == 1);
  // The day is full for customers; a transfer is still not flagged.
  f.request(transfer_payload("TRF-2"));
  CHECK(f.orders().find("TRF-2")->capacity_flag == "");
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-2", DeliveryMethod::ship, {{"SKU-0003", 1}}), ctx()));
  CHECK(f.orders().find("FO-2")->capacity_flag == "over_capacity");

  OrderQuery transfers;
  transfers.kind = OrderKind::transfer;
  auto page = f.orders().search(transfers);
  REQUIRE(page);
  REQUIRE(page->orders.size() == 2);
  CHECK(page->orders[0].id == "TRF-1");
  CHECK(page->orders[0].kind == OrderKind::transfer);
  CHECK(page->orders[0].destination_store == "STORE-042");
  CHECK(page->orders[0].customer_name == "Riverside");
  OrderQuery customers;
  customers.kind = OrderKind::customer;
  customers.text = "FO";
  page = f.orders().search(customers);
  REQUIRE(page);
  REQUIRE(page->orders.size() == 2);
  CHECK(page->orders[0].kind == OrderKind::customer);
  CHECK(page->orders[0].destination_store.empty());
  CHECK(f.orders().search({})->orders.size() == 4);
}

TEST_CASE("transfer.cancelled before shipping releases the reservation; after, it is refused") {
  Fixture f;
  f.request();
  REQUIRE(f.orders().accept("TRF-1", ctx()));
  REQUIRE(f.orders().start_picking("TRF-1", ctx()));
  REQUIRE(f.orders().pick_item("TRF-1", "SKU-0001", 2, ctx()));
  auto r = f.feed("transfer.cancelled", {{"transfer_id", "TRF-1"}, {"reason", "sold out there"}});
  REQUIRE_MESSAGE(r.outcome == CommandOutcome::applied, r.detail);
  CHECK(f.orders().find("TRF-1")->state == OrderState::cancelled);
  CHECK(f.level("SKU-0001").reserved == 0);
  CHECK(f.level("SKU-0001").on_hand == 10);  // picked units go back to the shelf
  CHECK(f.level("SKU-0002").reserved == 0);
  auto cancelled = f.events("order.cancelled").at(0);
  check_is_transfer(cancelled);
  CHECK(cancelled["reason"] == "sold out there");
  CHECK(cancelled["put_back"] == json::parse(R"([{"sku":"SKU-0001","quantity":2}])"));

  // Once shipped, the cloud is told it is too late.
  f.request(transfer_payload("TRF-2"));
  REQUIRE(f.orders().accept("TRF-2", ctx()));
  f.pick_all("TRF-2");
  REQUIRE(f.orders().pack("TRF-2", {{1, "BOX-M", 2400, {{1, 3}, {2, 1}}}}, ctx()));
  REQUIRE(f.orders().ship("TRF-2", "DHL", "JD2", ctx()));
  r = f.feed("transfer.cancelled", {{"transfer_id", "TRF-2"}});
  CHECK(r.outcome == CommandOutcome::applied);
  CHECK(f.orders().find("TRF-2")->state == OrderState::shipped);
  auto refused = f.events("order.cancel_refused").at(0);
  CHECK(refused["reason"] == "already_shipped");
  check_is_transfer(refused);

  // Only transfers: a customer order is cancelled by order.cancel_requested.
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-1", DeliveryMethod::ship, {{"SKU-0003", 1}}), ctx()));
  const auto before = fulfil::test::fingerprint(f.t->db(), {"inbox", "sync_state", "outbox"});
  r = f.feed("transfer.cancelled", {{"transfer_id", "FO-1"}});
  CHECK(r.outcome == CommandOutcome::rejected);
  CHECK(r.detail.find("FO-1 is a customer order, not a transfer") != std::string::npos);
  r = f.feed("transfer.cancelled", {{"transfer_id", "TRF-404"}});
  CHECK(r.outcome == CommandOutcome::rejected);
  CHECK(r.detail == "no transfer TRF-404");
  r = f.feed("transfer.cancelled", {{"reason", "x"}});
  CHECK(r.detail == "payload.transfer_id: missing");
  CHECK(fulfil::test::fingerprint(f.t->db(), {"inbox", "sync_state", "outbox"}) == before);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("the same transfer.requested applied twice makes one transfer") {
  Fixture f;
  auto r = f.feed("transfer.requested", transfer_payload(), "cmd-T");
  REQUIRE(r.outcome == CommandOutcome::applied);
  // The same command again (a page delivered twice): the inbox knows it.
  r = f.feed("transfer.requested", transfer_payload(), "cmd-T");
  CHECK(r.outcome == CommandOutcome::duplicate);
  // Another command asking for the same transfer: refused, the first stands.
  auto changed = transfer_payload();
  changed["lines"][0]["quantity"] = 9;
  r = f.feed("transfer.requested", changed, "cmd-T2");
  CHECK(r.outcome == CommandOutcome::rejected);
  CHECK(r.detail == "transfer TRF-1 already exists");
  CHECK(fulfil::test::count_rows(f.t->db(), "fulfilment_order") == 1);
  CHECK(f.events("order.received").size() == 1);
  CHECK(f.orders().find("TRF-1")->lines[0].quantity == 3);
}

TEST_CASE("malformed or hostile transfer.requested commands are rejected, naming the field") {
  Fixture f;
  struct Case {
    std::function<void(json&)> spoil;
    std::string needle;
  };
  const std::string long_name(201, 'x');
  const std::vector<Case> cases{
      {[](json& p) { p = "TRF-1"; }, "payload: expected an object"},
      {[](json& p) { p.erase("transfer_id"); }, "payload.transfer_id: missing"},
      {[](json& p) { p["transfer_id"] = "TRF 1; DROP"; }, "payload.transfer_id 'TRF 1; DROP' may"},
      {[](json& p) { p["transfer_id"] = std::string(65, 'T'); },
       "payload.transfer_id must be 1 to 64"},
      {[](json& p) { p["reference"] = 42; }, "payload.reference: expected a string"},
      {[](json& p) { p.erase("destination_store"); }, "payload.destination_store: missing"},
      {[](json& p) { p["destination_store"] = "STORE-042"; },
       "payload.destination_store: expected an object"},
      {[](json& p) { p["destination_store"].erase("id"); },
       "payload.destination_store.id: missing"},
      {[](json& p) { p["destination_store"]["id"] = "<b>"; },
       "payload.destination_store.id '<b>' may only"},
      {[](json& p) { p["destination_store"]["name"] = ""; },
       "payload.destination_store.name is required"},
      {[long_name](json& p) { p["destination_store"]["name"] = long_name; },
       "payload.destination_store.name is 201 bytes long; at most 200"},
      {[](json& p) { p["destination_store"]["name"] = "River\x1bside"; },
       "payload.destination_store.name contains a control character"},
      {[](json& p) { p["destination_store"].erase("address"); },
       "payload.destination_store.address: missing"},
      {[](json& p) { p["destination_store"]["address"].erase("city"); },
       "payload.destination_store.address.city is required"},
      {[](json& p) { p["destination_store"]["address"]["country"] = "Germany"; },
       "payload.destination_store.address.country must be an ISO 3166-1"},
      {[](json& p) { p["currency"] = "euro"; }, "currency must be an ISO 4217 code"},
      {[](json& p) { p["notes"] = std::string(1001, 'n'); }, "payload.notes is 1001 bytes long"},
      {[](json& p) { p["ship_by"] = -5; }, "payload.ship_by cannot be negative"},
      {[](json& p) { p["accept_by"] = "soon"; }, "payload.accept_by: expected an integer"},
      {[](json& p) { p["lines"] = json::array(); }, "payload.lines: a transfer needs 1 to 500"},
      {[](json& p) { p["lines"][1] = 7; }, "payload.lines[1]: expected an object"},
      {[](json& p) { p["lines"][1].erase("sku"); }, "payload.lines[1].sku: missing"},
      {[](json& p) { p["lines"][1]["quantity"] = 0; }, "payload.lines[1].quantity must be 1 to"},
      {[](json& p) { p["lines"][1]["quantity"] = 10001; },
       "payload.lines[1].quantity must be 1 to 10000"},
      {[](json& p) { p["lines"][1]["quantity"] = 1.5; },
       "payload.lines[1].quantity: expected an integer"},
      {[](json& p) { p["lines"][1]["sku"] = "SKU-0001"; },
       "payload.lines[1]: SKU SKU-0001 is listed twice"},
      {[](json& p) { p["lines"][1]["sku"] = "SKU-4040"; },
       "payload.lines[1]: unknown SKU SKU-4040"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.needle);
    json p = transfer_payload();
    c.spoil(p);
    const auto before = fulfil::test::fingerprint(f.t->db(), {"inbox", "sync_state", "outbox"});
    const auto rejected_before = f.events("command.rejected").size();
    auto r = f.feed("transfer.requested", p);
    CHECK(r.outcome == CommandOutcome::rejected);
    CHECK_MESSAGE(r.detail.find(c.needle) != std::string::npos, r.detail);
    CHECK(fulfil::test::fingerprint(f.t->db(), {"inbox", "sync_state", "outbox"}) == before);
    CHECK(f.events("command.rejected").size() == rejected_before + 1);
  }
  CHECK(fulfil::test::count_rows(f.t->db(), "fulfilment_order") == 0);
}

TEST_CASE("a transfer request encodes and decodes to the same transfer") {
  FulfilmentOrder t;
  t.id = "TRF-9";
  t.order_ref = "TR-2026-0009";
  t.kind = OrderKind::transfer;
  t.destination_store = "STORE-042";
  t.customer = {"Riverside", "riverside@example.com", "+49 561 1234"};
  t.address = {"Goods in", "Uferstrasse 12", "Hof 2", "Kassel", "HE", "34117", "DE"};
  t.accept_by = 5;
  t.ship_by = 7;
  t.notes = "fragile";
  t.lines = {{1, "SKU-0001", 3, 0, 0, 0, ""}, {2, "SKU-0002", 1, 0, 0, 0, ""}};
  auto back = transfer_order_from(transfer_request_json(t));
  REQUIRE(back);
  CHECK(back->kind == OrderKind::transfer);
  CHECK(back->method == DeliveryMethod::ship);
  CHECK(back->id == t.id);
  CHECK(back->order_ref == t.order_ref);
  CHECK(back->destination_store == t.destination_store);
  CHECK(back->customer.name == t.customer.name);
  CHECK(back->customer.email == t.customer.email);
  CHECK(back->customer.phone == t.customer.phone);
  CHECK(back->address.line2 == "Hof 2");
  CHECK(back->address.region == "HE");
  CHECK(back->accept_by == 5);
  CHECK(back->ship_by == 7);
  CHECK(back->notes == "fragile");
  REQUIRE(back->lines.size() == 2);
  CHECK(back->lines[1].line_no == 2);
  CHECK(back->lines[1].sku == "SKU-0002");
  CHECK(back->lines[1].quantity == 1);
}
