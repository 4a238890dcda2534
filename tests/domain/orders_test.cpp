// Fulfilment orders beyond the state table: stock effects, refusals that change nothing
// and say why, pickup codes, cancellation, expiry and the events the cloud receives.
#include <doctest/doctest.h>

#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;
using fulfil::test::kT0;

namespace {

struct Fixture : fulfil::test::StoreChecks<Fixture> {
  fulfil::test::TestStore t = fulfil::test::open_test_store();
  Fixture() { fulfil::test::seed_catalog(*t, 3, 5); }
  FulfilmentOrders& orders() { return t->orders(); }
  StockLevel level(const std::string& sku) { return *t->inventory().level(sku); }

  void through_picking(const std::string& id) {
    if (orders().find(id)->state == OrderState::routed)
      REQUIRE(orders().accept(id, ctx()).has_value());
    REQUIRE(orders().start_picking(id, ctx()).has_value());
    const auto routed = *orders().find(id);
    for (const auto& l : routed.lines)
      REQUIRE(orders().pick_item(id, l.sku, l.quantity, ctx()).has_value());
    REQUIRE(orders().complete_picking(id, ctx()).has_value());
  }

  void through_packing(const std::string& id) {
    through_picking(id);
    Package p{1, "BOX-S", 800, {}};
    const auto picked = *orders().find(id);
    for (const auto& l : picked.lines) p.items.push_back({l.line_no, l.picked});
    REQUIRE(orders().pack(id, {p}, ctx()).has_value());
  }
};

}  // namespace

TEST_CASE("ship from store: reserve on accept, sell on ship, one event per step") {
  Fixture f;
  auto o =
      fulfil::test::make_order("FO-1", DeliveryMethod::ship, {{"SKU-0001", 2}, {"SKU-0002", 1}});
  REQUIRE(f.orders().receive(o, ctx()).has_value());
  const auto events0 = fulfil::test::count_rows(f.t->db(), "outbox");
  REQUIRE(f.orders().accept("FO-1", ctx()).has_value());
  CHECK(f.level("SKU-0001").reserved == 2);
  CHECK(f.level("SKU-0001").available() == 3);
  auto accepted = f.last_event("order.accepted");
  CHECK(accepted["order_id"] == "FO-1");
  CHECK(accepted["from_state"] == "routed");
  CHECK(accepted["state"] == "accepted");
  CHECK(accepted["actor"] == "terminal:test");
  f.through_packing("FO-1");
  REQUIRE(f.orders().ship("FO-1", "DHL", "JD014600006", ctx()).has_value());
  CHECK(f.level("SKU-0001").on_hand == 3);
  CHECK(f.level("SKU-0001").reserved == 0);
  CHECK(f.level("SKU-0002").on_hand == 4);
  auto shipped = f.last_event("order.shipped");
  CHECK(shipped["tracking"] == "JD014600006");
  CHECK(shipped["movements"].size() == 2);
  CHECK(shipped["movements"][0]["kind"] == "sale");
  // accept, start, 2 picks, complete, pack, ship
  CHECK(fulfil::test::count_rows(f.t->db(), "outbox") - events0 == 7);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("ship: a tracking number per package; the order's is the first package's") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-2P", DeliveryMethod::ship, {{"SKU-0001", 1}, {"SKU-0002", 1}}),
      ctx()));
  f.through_picking("FO-2P");
  REQUIRE(f.orders().pack("FO-2P", {{1, "BOX", 500, {{1, 1}}}, {2, "BOX", 400, {{2, 1}}}}, ctx()));
  const auto ship = [&](std::string tracking, std::vector<PackageTracking> packages) {
    return [&f, tracking, packages] {
      return f.orders().ship("FO-2P", "DHL", tracking, packages, ctx());
    };
  };
  f.refused(ship("", {{3, "JD3"}}), DomainErrc::invalid_argument, "has no package 3");
  f.refused(ship("", {{1, "JD1"}, {1, "JD2"}}), DomainErrc::invalid_argument,
            "package 1 is given more than once");
  f.refused(ship("", {{1, ""}}), DomainErrc::invalid_argument, "tracking of package 1 is required");
  f.refused(ship("", {{1, std::string(65, '1')}}), DomainErrc::invalid_argument, "at most 64");
  f.refused(ship("JD9", {{2, "JD2"}, {1, "JD1"}}), DomainErrc::invalid_argument,
            "is not package 1's");

  REQUIRE(f.orders().ship("FO-2P", "DHL", "", {{2, "JD2"}, {1, "JD1"}}, ctx()));
  const auto o = *f.orders().find("FO-2P");
  CHECK(o.tracking == "JD1");
  REQUIRE(o.packages.size() == 2);
  CHECK(o.packages[0].tracking == "JD1");
  CHECK(o.packages[1].tracking == "JD2");
  const auto event = f.last_event("order.shipped");
  CHECK(event["tracking"] == "JD1");
  CHECK(event["packages"] ==
        nlohmann::json::parse(
            R"([{"package_no":1,"tracking":"JD1"},{"package_no":2,"tracking":"JD2"}])"));
  CHECK(f.level("SKU-0001").on_hand == 4);
}

TEST_CASE("pickup in store: a six-digit code, wrong codes counted and locking, unlock") {
  Fixture f;
  OrderPolicy policy;
  policy.pickup_code_max_attempts = 2;
  f.orders().set_policy(policy);
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-P", DeliveryMethod::pickup, {{"SKU-0003", 1}}), ctx()));
  f.through_picking("FO-P");
  auto code = f.orders().ready_for_pickup("FO-P", "", ctx());
  REQUIRE(code.has_value());
  CHECK(code->size() == 6);
  CHECK(code->find_first_not_of("0123456789") == std::string::npos);

  auto wrong = f.orders().collect("FO-P", "000000" == *code ? "111111" : "000000", ctx());
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code == DomainErrc::wrong_pickup_code);
  CHECK(wrong.error().message.find("1 attempt(s) left") != std::string::npos);
  f.t.reopen(policy);  // the count survives a restart
  CHECK(f.orders().find("FO-P")->pickup_attempts == 1);
  f.orders().set_policy(policy);
  CHECK_FALSE(f.orders().collect("FO-P", "12", ctx()).has_value());
  f.refused([&] { return f.orders().collect("FO-P", *code, ctx()); }, DomainErrc::pickup_locked,
            "manager");
  REQUIRE(f.orders().unlock_pickup("FO-P", ctx()).has_value());
  REQUIRE(f.orders().collect("FO-P", *code, ctx()).has_value());
  CHECK(f.orders().find("FO-P")->state == OrderState::collected);
  CHECK(f.level("SKU-0003").on_hand == 4);
}

TEST_CASE("a pickup code sent by the cloud is kept") {
  Fixture f;
  auto o = fulfil::test::make_order("FO-C", DeliveryMethod::pickup, {{"SKU-0001", 1}});
  o.pickup_code = "CL0UD7";
  REQUIRE(f.orders().receive(o, ctx()).has_value());
  f.through_picking("FO-C");
  CHECK(*f.orders().ready_for_pickup("FO-C", "", ctx()) == "CL0UD7");
}

TEST_CASE("pickup orders go from picked to the staging shelf without packing; stock as before") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-S", DeliveryMethod::pickup, {{"SKU-0001", 2}, {"SKU-0002", 1}}),
      ctx()));
  f.through_picking("FO-S");
  // No box and no weight: packing is for parcels.
  f.refused(
      [&] {
        return f.orders().pack("FO-S", {{1, "BOX", 500, {{1, 2}, {2, 1}}}}, ctx());
      },
      DomainErrc::illegal_transition, "it cannot be packed. Next: ready for pickup, reject.");
  for (const std::string& bad :
       std::vector<std::string>{" ", "P\x01", std::string(21, 'P'), "Regal \xC3\xA9"})
    f.refused([&] { return f.orders().ready_for_pickup("FO-S", bad, ctx()); },
              DomainErrc::invalid_argument, "1 to 20 printable ASCII characters");
  CHECK(staging_shelf("  P-03 ").value_or("") == "P-03");
  CHECK(staging_shelf(std::string(20, 'x')).has_value());

  auto code = f.orders().ready_for_pickup("FO-S", "  P-03 ", ctx());
  REQUIRE(code.has_value());
  const auto ready = *f.orders().find("FO-S");
  CHECK(ready.state == OrderState::ready_for_pickup);
  CHECK(ready.pickup_shelf == "P-03");
  CHECK(ready.packages.empty());
  const auto event = f.last_event("order.ready_for_pickup");
  CHECK(event["shelf"] == "P-03");
  CHECK(event["from_state"] == "picked");
  // The picked units stay reserved and on hand until the customer collects them.
  CHECK(f.level("SKU-0001").reserved == 2);
  CHECK(f.level("SKU-0001").on_hand == 5);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
  REQUIRE(f.orders().collect("FO-S", *code, ctx()).has_value());
  CHECK(f.level("SKU-0001").reserved == 0);
  CHECK(f.level("SKU-0001").on_hand == 3);
  CHECK(f.level("SKU-0002").on_hand == 4);
  CHECK(f.last_event("order.collected")["movements"].size() == 2);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("a pickup order packed before pickup orders skipped packing still goes on") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-OLD", DeliveryMethod::pickup, {{"SKU-0003", 1}}), ctx()));
  f.through_picking("FO-OLD");
  // As an older fulfild left it: packed, with its package.
  f.t->db().exec(
      "INSERT INTO package (order_id, package_no, box_type, weight_g) VALUES ('FO-OLD',1,'S',300);"
      "INSERT INTO package_item (order_id, package_no, line_no, quantity) VALUES ('FO-OLD',1,1,1);"
      "UPDATE fulfilment_order SET state='packed' WHERE id='FO-OLD'");
  auto code = f.orders().ready_for_pickup("FO-OLD", "", ctx());
  REQUIRE(code.has_value());
  CHECK(f.orders().find("FO-OLD")->pickup_shelf.empty());
  CHECK(f.last_event("order.ready_for_pickup")["from_state"] == "packed");
  CHECK(f.last_event("order.ready_for_pickup")["shelf"] == "");
  REQUIRE(f.orders().collect("FO-OLD", *code, ctx()).has_value());
  CHECK(f.level("SKU-0003").on_hand == 4);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("accepting more than is available is refused unless the policy allows it") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-BIG", DeliveryMethod::ship, {{"SKU-0001", 4}, {"SKU-0001", 2}}),
      ctx()));
  f.refused([&] { return f.orders().accept("FO-BIG", ctx()); }, DomainErrc::insufficient_stock,
            "SKU-0001: order FO-BIG needs 6, 5 available");
  OrderPolicy lenient;
  lenient.allow_negative_available = true;
  f.orders().set_policy(lenient);
  REQUIRE(f.orders().accept("FO-BIG", ctx()).has_value());
  CHECK(f.level("SKU-0001").raw_available() == -1);
  CHECK(f.level("SKU-0001").available() == 0);
}

TEST_CASE("picking refuses wrong items and over-picks, naming them") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-2", DeliveryMethod::ship, {{"SKU-0001", 1}}), ctx()));
  REQUIRE(f.orders().accept("FO-2", ctx()));
  REQUIRE(f.orders().start_picking("FO-2", ctx()));
  f.refused([&] { return f.orders().pick_item("FO-2", "SKU-0002", 1, ctx()); },
            DomainErrc::invalid_argument, "SKU-0002 is not on order FO-2 (wrong item)");
  f.refused([&] { return f.orders().pick_item("FO-2", "SKU-0001", 2, ctx()); },
            DomainErrc::invalid_argument, "needs 1 more; cannot pick 2");
  REQUIRE(f.orders().pick_item("FO-2", "SKU-0001", 1, ctx()));
  f.refused([&] { return f.orders().pick_item("FO-2", "SKU-0001", 1, ctx()); },
            DomainErrc::invalid_argument, "already fully picked");
  f.refused([&] { return f.orders().pack("FO-2", {}, ctx()); }, DomainErrc::illegal_transition,
            "picking");
}

TEST_CASE("short picks: damaged units become unsellable; nothing left rejects the order") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-3", DeliveryMethod::ship, {{"SKU-0001", 2}, {"SKU-0002", 1}}),
      ctx()));
  REQUIRE(f.orders().accept("FO-3", ctx()));
  f.refused([&] { return f.orders().short_pick("FO-3", 1, 1, "bored", ctx()); },
            DomainErrc::invalid_argument, "not one of: not_found, damaged");
  f.refused([&] { return f.orders().short_pick("FO-3", 9, 1, "damaged", ctx()); },
            DomainErrc::invalid_argument, "no line 9");
  REQUIRE(f.orders().short_pick("FO-3", 1, 2, "damaged", ctx()));
  CHECK(f.level("SKU-0001").unsellable == 2);
  CHECK(f.level("SKU-0001").reserved == 0);
  CHECK(f.orders().find("FO-3")->state == OrderState::accepted);
  REQUIRE(f.orders().short_pick("FO-3", 2, 1, "not_found", ctx()));
  CHECK(f.orders().find("FO-3")->state == OrderState::rejected);
  CHECK(f.orders().find("FO-3")->reject_reason == "short_pick");
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE(
    "the rejection policy: each reason's stock effect is a ledger movement; the event "
    "carries it and the router's hint") {
  Fixture f;  // 3 SKUs with 5 on hand each
  auto receive = [&](const std::string& id,
                     std::vector<std::pair<std::string, std::int64_t>> lines) {
    REQUIRE(f.orders().receive(fulfil::test::make_order(id, DeliveryMethod::ship, lines), ctx()));
  };
  SUBCASE("out_of_stock: the shelf is counted empty, what other orders were promised stays") {
    receive("FO-A", {{"SKU-0001", 2}});
    REQUIRE(f.orders().accept("FO-A", ctx()));
    receive("FO-B", {{"SKU-0001", 1}, {"SKU-0002", 1}});
    REQUIRE(f.orders().reject("FO-B", "out_of_stock", ctx()));
    CHECK(f.level("SKU-0001").on_hand == 2);  // FO-A's two units are still promised
    CHECK(f.level("SKU-0001").available() == 0);
    CHECK(f.level("SKU-0002").on_hand == 0);
    auto e = f.last_event("order.rejected");
    CHECK(e["stock_effect"] == "count_zero");
    CHECK(e["avoid_store_hours"] == 24);
    REQUIRE(e["movements"].size() == 2);
    CHECK(e["movements"][0]["kind"] == "count");
    CHECK(e["movements"][0]["delta"] == -3);
    CHECK(e["movements"][0]["reason"] == "refused: out_of_stock");
  }
  SUBCASE(
      "out_of_stock after a partial pick: the picked units go back to an otherwise empty "
      "shelf") {
    receive("FO-C", {{"SKU-0001", 3}});
    REQUIRE(f.orders().accept("FO-C", ctx()));
    REQUIRE(f.orders().start_picking("FO-C", ctx()));
    REQUIRE(f.orders().pick_item("FO-C", "SKU-0001", 1, ctx()));
    REQUIRE(f.orders().reject("FO-C", "out_of_stock", ctx()));
    CHECK(f.level("SKU-0001").on_hand == 1);
    CHECK(f.level("SKU-0001").reserved == 0);
  }
  SUBCASE("mismatch reduces on_hand by the refused units; a partial accept refuses the rest") {
    receive("FO-D", {{"SKU-0001", 3}, {"SKU-0002", 1}});
    REQUIRE(f.orders().accept("FO-D", {{1, 1}, {2, 1}}, "mismatch", ctx()));
    CHECK(f.level("SKU-0001").on_hand == 3);
    CHECK(f.level("SKU-0001").reserved == 1);
    auto e = f.last_event("order.accepted");
    CHECK(e["stock_effect"] == "reduce_on_hand");
    CHECK(e["avoid_store_hours"] == 24);
    CHECK(e["movements"][0]["delta"] == -2);
  }
  SUBCASE("damaged short picks move units to unsellable; customer_request changes no stock") {
    receive("FO-E", {{"SKU-0002", 2}});
    REQUIRE(f.orders().accept("FO-E", ctx()));
    REQUIRE(f.orders().short_pick("FO-E", 1, 1, "damaged", ctx()));
    CHECK(f.level("SKU-0002").unsellable == 1);
    CHECK(f.last_event("order.lines_short_picked")["stock_effect"] == "unsellable");
    receive("FO-F", {{"SKU-0003", 2}});
    const auto ledger_rows = fulfil::test::count_rows(f.t->db(), "ledger");
    REQUIRE(f.orders().reject("FO-F", "customer_request", ctx()));
    CHECK(fulfil::test::count_rows(f.t->db(), "ledger") == ledger_rows);
    CHECK(f.last_event("order.rejected")["stock_effect"] == "none");
    CHECK(f.last_event("order.rejected")["avoid_store_hours"] == 0);
  }
  SUBCASE("a reason with no configured effect changes no stock; a refused reject changes nothing") {
    receive("FO-G", {{"SKU-0001", 1}});
    f.refused([&] { return f.orders().reject("FO-G", "bored", ctx()); },
              DomainErrc::invalid_argument, "not one of");
    REQUIRE(f.orders().reject("FO-G", "other", ctx()));
    CHECK(f.level("SKU-0001").on_hand == 5);
  }
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("packing must account for every picked unit") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-4", DeliveryMethod::ship, {{"SKU-0001", 2}}), ctx()));
  REQUIRE(f.orders().accept("FO-4", ctx()));
  REQUIRE(f.orders().start_picking("FO-4", ctx()));
  f.refused([&] { return f.orders().complete_picking("FO-4", ctx()); },
            DomainErrc::illegal_transition,
            "line 1 (SKU SKU-0001) has 2 unit(s) neither picked nor short-picked");
  REQUIRE(f.orders().pick_item("FO-4", "SKU-0001", 2, ctx()));
  REQUIRE(f.orders().complete_picking("FO-4", ctx()));
  f.refused(
      [&] {
        return f.orders().pack("FO-4", {{1, "BOX", 500, {{1, 1}}}}, ctx());
      },
      DomainErrc::invalid_argument, "2 picked but 1 packed");
  f.refused(
      [&] {
        return f.orders().pack("FO-4", {{1, "BOX", 500, {{7, 2}}}}, ctx());
      },
      DomainErrc::invalid_argument, "line 7");
  f.refused(
      [&] {
        return f.orders().pack("FO-4", {{1, "BOX", 0, {{1, 2}}}}, ctx());
      },
      DomainErrc::invalid_argument, "weight");
  f.refused(
      [&] {
        return f.orders().pack("FO-4", {{1, "BOX", 500, {}}}, ctx());
      },
      DomainErrc::invalid_argument, "empty");
  REQUIRE(f.orders().pack("FO-4", {{1, "BOX", 500, {{1, 1}}}, {2, "BOX", 500, {{1, 1}}}}, ctx()));
  f.refused([&] { return f.orders().ship("FO-4", "", "", ctx()); }, DomainErrc::invalid_argument,
            "carrier is required");
}

TEST_CASE("cancel requests: before shipping they cancel and release, after they are refused") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-5", DeliveryMethod::ship, {{"SKU-0001", 2}}), ctx()));
  REQUIRE(f.orders().accept("FO-5", ctx()));
  REQUIRE(f.orders().start_picking("FO-5", ctx()));
  REQUIRE(f.orders().pick_item("FO-5", "SKU-0001", 1, ctx()));
  auto c = f.orders().request_cancel("FO-5", "customer cancelled", ctx());
  REQUIRE(c.has_value());
  CHECK(c->outcome == CancelOutcome::cancelled);
  CHECK(f.level("SKU-0001").reserved == 0);
  CHECK(f.level("SKU-0001").on_hand == 5);
  auto cancelled = f.last_event("order.cancelled");
  CHECK(cancelled["put_back"][0]["sku"] == "SKU-0001");
  CHECK(cancelled["put_back"][0]["quantity"] == 1);

  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-6", DeliveryMethod::ship, {{"SKU-0002", 1}}), ctx()));
  f.through_packing("FO-6");
  REQUIRE(f.orders().ship("FO-6", "UPS", "1Z", ctx()));
  const auto on_hand = f.level("SKU-0002").on_hand;
  auto refused = f.orders().request_cancel("FO-6", "too late", ctx());
  REQUIRE(refused.has_value());
  CHECK(refused->outcome == CancelOutcome::refused);
  CHECK(refused->reason == "already_shipped");
  CHECK(f.last_event("order.cancel_refused")["reason"] == "already_shipped");
  CHECK(f.level("SKU-0002").on_hand == on_hand);
  CHECK_FALSE(f.orders().request_cancel("FO-NOPE", "", ctx()).has_value());
}

TEST_CASE("routed orders expire after their accept-by deadline; accepting late is refused") {
  Fixture f;
  auto early = fulfil::test::make_order("FO-E1", DeliveryMethod::ship, {{"SKU-0001", 1}});
  early.accept_by = kT0 + 1000;
  auto late = fulfil::test::make_order("FO-E2", DeliveryMethod::ship, {{"SKU-0001", 1}});
  late.accept_by = kT0 + 60000;
  REQUIRE(f.orders().receive(early, ctx()));
  REQUIRE(f.orders().receive(late, ctx()));
  f.refused([&] { return f.orders().accept("FO-E1", ctx(kT0 + 2000)); },
            DomainErrc::illegal_transition, "accept-by deadline");
  auto expired = f.orders().expire_overdue(ctx(kT0 + 2000));
  REQUIRE(expired.has_value());
  CHECK(*expired == std::vector<std::string>{"FO-E1"});
  CHECK(f.orders().find("FO-E1")->state == OrderState::expired);
  CHECK(f.orders().find("FO-E2")->state == OrderState::routed);
  auto defaulted = fulfil::test::make_order("FO-E3", DeliveryMethod::ship, {{"SKU-0001", 1}});
  REQUIRE(f.orders().receive(defaulted, ctx()));
  CHECK(f.orders().find("FO-E3")->accept_by == kT0 + OrderPolicy{}.default_accept_sla_ms);
}

TEST_CASE("orders from the cloud are validated field by field") {
  Fixture f;
  auto base = [] {
    return fulfil::test::make_order("FO-V", DeliveryMethod::ship, {{"SKU-0001", 1}});
  };
  auto check = [&](FulfilmentOrder o, DomainErrc code, const std::string& needle) {
    f.refused([&] { return f.orders().receive(o, ctx()); }, code, needle);
  };
  auto o = base();
  o.lines[0].sku = "NOPE";
  check(o, DomainErrc::unknown_sku, "unknown SKU NOPE");
  o = base();
  o.currency = "euro";
  check(o, DomainErrc::invalid_argument, "currency");
  o = base();
  o.address = {};
  check(o, DomainErrc::invalid_argument, "address.line1 is required");
  o = base();
  o.customer.name = "Eve\x1b[31m";
  check(o, DomainErrc::invalid_argument, "customer.name contains a control character");
  // Bytes that are not UTF-8 (a stray byte, a cut character, an overlong '/', a
  // surrogate, past U+10FFFF) are refused, not thrown on when the event is written.
  for (const char* bad : {"Zo\xff", "Zo\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    o = base();
    o.address.city = bad;
    check(o, DomainErrc::invalid_argument, "address.city is not valid UTF-8 text");
  }
  o = base();
  o.id = "FO-V8";
  o.customer.name = "Zoë Ångström राजेश 😀";  // 2-, 3- and 4-byte characters are fine
  REQUIRE(f.orders().receive(o, ctx()));
  o = base();
  o.id = "FO 1; DROP";
  check(o, DomainErrc::invalid_argument, "may only contain");
  o = base();
  o.lines.clear();
  check(o, DomainErrc::invalid_argument, "1 to 500 lines");
  o = base();
  o.lines[0].quantity = 0;
  check(o, DomainErrc::invalid_argument, "quantity must be 1 to 10000");
  REQUIRE(f.orders().receive(base(), ctx()));
  check(base(), DomainErrc::duplicate, "already exists");
}

TEST_CASE("a hold from the cloud stops progress until released; addresses can change") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-H", DeliveryMethod::ship, {{"SKU-0001", 1}}), ctx()));
  REQUIRE(f.orders().update_from_cloud("FO-H", std::nullopt, true, ctx()));
  f.refused([&] { return f.orders().accept("FO-H", ctx()); }, DomainErrc::illegal_transition,
            "on hold");
  Address moved{"", "Neue Straße 5", "", "Potsdam", "", "14467", "DE"};
  REQUIRE(f.orders().update_from_cloud("FO-H", moved, false, ctx()));
  CHECK(f.orders().find("FO-H")->address.city == "Potsdam");
  REQUIRE(f.orders().accept("FO-H", ctx()));
}

namespace {

// An order of the fixture's catalog with the customer and reference a search looks at.
FulfilmentOrder searchable(const std::string& id, const std::string& ref, const std::string& name,
                           const std::string& phone, DeliveryMethod method,
                           std::vector<std::pair<std::string, std::int64_t>> lines,
                           std::int64_t routed_at) {
  auto o = fulfil::test::make_order(id, method, lines);
  o.order_ref = ref;
  o.customer = {name, "", phone};
  o.routed_at = routed_at;
  o.accept_by = routed_at + 3'600'000;
  return o;
}

std::vector<std::string> ids(const OrderPage& page) {
  std::vector<std::string> out;
  for (const auto& o : page.orders) out.push_back(o.id);
  return out;
}

using Ids = std::vector<std::string>;

}  // namespace

TEST_CASE("the queue searches order numbers, names, phones, SKUs and barcodes") {
  Fixture f;
  auto receive = [&](const FulfilmentOrder& o) {
    REQUIRE(f.orders().receive(o, ctx(o.routed_at)));
  };
  receive(searchable("FO-101", "W100001", "Ada Lovelace", "+44 (0)20 7946-0958",
                     DeliveryMethod::ship, {{"SKU-0001", 2}, {"SKU-0002", 1}}, kT0 + 1));
  receive(searchable("FO-102", "W100002", "Grace Hopper", "555 0100", DeliveryMethod::pickup,
                     {{"SKU-0002", 1}}, kT0 + 2));
  receive(searchable("FO-103", "X-20", "Lovelace & Co. 100%_off", "", DeliveryMethod::pickup,
                     {{"SKU-0003", 4}}, kT0 + 3));
  auto find = [&](const std::string& text, std::optional<OrderState> state = std::nullopt,
                  std::optional<DeliveryMethod> method = std::nullopt, std::size_t limit = 50) {
    auto page = f.orders().search({state, method, text, limit});
    REQUIRE(page.has_value());
    return *page;
  };

  const auto all = find("");
  CHECK(ids(all) == Ids{"FO-101", "FO-102", "FO-103"});  // oldest routed first
  CHECK_FALSE(all.truncated);
  CHECK(all.orders[0].customer_name == "Ada Lovelace");
  CHECK(all.orders[0].lines == 2);
  CHECK(all.orders[0].units == 3);

  // Order number and id: equal or a prefix, letter case ignored; surrounding blanks trimmed.
  CHECK(ids(find("W100001")) == Ids{"FO-101"});
  CHECK(ids(find(" w1000 ")) == Ids{"FO-101", "FO-102"});
  CHECK(ids(find("fo-10")) == Ids{"FO-101", "FO-102", "FO-103"});
  CHECK(ids(find("100001")).empty());  // inside the number, not its beginning
  // The customer's name: any part.
  CHECK(ids(find("LOVE")) == Ids{"FO-101", "FO-103"});
  CHECK(ids(find("hopp")) == Ids{"FO-102"});
  // The phone: 4 digits or more, punctuation on either side ignored.
  CHECK(ids(find("7946 0958")) == Ids{"FO-101"});
  CHECK(ids(find("(020) 79460")) == Ids{"FO-101"});
  CHECK(ids(find("5550100")) == Ids{"FO-102"});
  CHECK(ids(find("010")).empty());  // 3 digits are no phone search
  // A line's SKU exactly (letter case ignored), or its barcode.
  CHECK(ids(find("SKU-0002")) == Ids{"FO-101", "FO-102"});
  CHECK(ids(find("sku-0003")) == Ids{"FO-103"});
  CHECK(ids(find("SKU-000")).empty());
  CHECK(ids(find(fulfil::test::sample_gtin13(3))) == Ids{"FO-103"});

  // Combined with state and method; limit counts matching orders.
  CHECK(ids(find("SKU-0002", std::nullopt, DeliveryMethod::pickup)) == Ids{"FO-102"});
  CHECK(ids(find("", std::nullopt, DeliveryMethod::pickup, 1)) == Ids{"FO-102"});
  CHECK(find("", std::nullopt, DeliveryMethod::pickup, 1).truncated);
  CHECK_FALSE(find("", std::nullopt, DeliveryMethod::pickup, 2).truncated);
  REQUIRE(f.orders().accept("FO-102", ctx()));
  CHECK(ids(find("w1000", OrderState::routed)) == Ids{"FO-101"});
  CHECK(ids(find("w1000", OrderState::accepted)) == Ids{"FO-102"});

  // Hostile text is data: wildcards, quotes and backslashes match only themselves.
  CHECK(ids(find("%")) == Ids{"FO-103"});
  CHECK(ids(find("100%_")) == Ids{"FO-103"});
  CHECK(ids(find("_")) == Ids{"FO-103"});
  CHECK(ids(find("' OR 1=1 --")).empty());
  CHECK(ids(find("\\")).empty());
  CHECK(ids(find("\"; DROP TABLE fulfilment_order; --")).empty());
  CHECK(ids(find(std::string(100, 'a'))).empty());
  CHECK(ids(find(std::string(100, 'e') + "  ")).empty());  // trimmed to 100
  // Too long a text is refused, and a query changes nothing.
  const auto before = fulfil::test::fingerprint(f.t->db());
  auto too_long = f.orders().search({std::nullopt, std::nullopt, std::string(101, 'a'), 10});
  REQUIRE_FALSE(too_long.has_value());
  CHECK(too_long.error().code == DomainErrc::invalid_argument);
  CHECK(too_long.error().message.find("at most 100") != std::string::npos);
  CHECK(fulfil::test::fingerprint(f.t->db()) == before);
}

TEST_CASE("an order number names the newest order that has not ended; parcels by code") {
  Fixture f;
  REQUIRE(f.orders().receive(
      searchable("FO-A", "W7", "A", "", DeliveryMethod::ship, {{"SKU-0001", 1}}, kT0 + 1),
      ctx(kT0 + 1)));
  REQUIRE(f.orders().receive(
      searchable("FO-B", "w7", "B", "", DeliveryMethod::ship, {{"SKU-0001", 1}}, kT0 + 2),
      ctx(kT0 + 2)));
  CHECK(f.orders().id_for_ref("W7") == "FO-B");  // both open: the newest
  CHECK(f.orders().id_for_ref("nope") == std::nullopt);
  CHECK(f.orders().id_for_ref("") == std::nullopt);
  CHECK(f.orders().id_for_ref("%") == std::nullopt);
  REQUIRE(f.orders().reject("FO-B", "other", ctx()));
  CHECK(f.orders().id_for_ref("w7") == "FO-A");  // the newest has ended
  REQUIRE(f.orders().reject("FO-A", "other", ctx()));
  CHECK(f.orders().id_for_ref("W7") == "FO-B");  // all ended: the newest

  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-P-9", DeliveryMethod::ship, {{"SKU-0002", 1}}), ctx()));
  CHECK_FALSE(f.orders().find_parcel("FO-P-9-1"));  // not packed yet
  f.through_packing("FO-P-9");
  auto by_code = f.orders().find_parcel("FO-P-9-1");
  REQUIRE(by_code);
  CHECK(by_code->by == ParcelMatch::By::package);
  CHECK(by_code->order_id == "FO-P-9");
  CHECK(by_code->package_no == 1);
  CHECK_FALSE(f.orders().find_parcel("FO-P-9-2"));
  CHECK_FALSE(f.orders().find_parcel("FO-P-9-"));
  CHECK_FALSE(f.orders().find_parcel("FO-P-9-99999999999999999999"));
  CHECK_FALSE(f.orders().find_parcel("1Z999"));
  REQUIRE(f.orders().ship("FO-P-9", "UPS", "1Z999", ctx()));
  auto by_tracking = f.orders().find_parcel("1Z999");
  REQUIRE(by_tracking);
  CHECK(by_tracking->by == ParcelMatch::By::tracking);
  CHECK(by_tracking->order_id == "FO-P-9");
  CHECK(by_tracking->package_no == 1);  // the order's only package
  CHECK_FALSE(f.orders().find_parcel(""));
}

TEST_CASE("unaccept gives the reservations back and keeps the accept-by deadline") {
  Fixture f;
  auto o =
      fulfil::test::make_order("FO-U", DeliveryMethod::ship, {{"SKU-0001", 2}, {"SKU-0002", 1}});
  o.accept_by = kT0 + 60000;
  REQUIRE(f.orders().receive(o, ctx()));
  REQUIRE(f.orders().accept("FO-U", ctx()));
  REQUIRE(f.orders().short_pick("FO-U", 2, 1, "not_found", ctx()));  // line 2 already released
  CHECK(f.level("SKU-0001").reserved == 2);
  REQUIRE(f.orders().unaccept("FO-U", ctx(kT0 + 1000)));
  const auto back = *f.orders().find("FO-U");
  CHECK(back.state == OrderState::routed);
  CHECK(back.accept_by == kT0 + 60000);
  CHECK(f.level("SKU-0001").reserved == 0);
  CHECK(f.level("SKU-0001").on_hand == 5);
  CHECK(f.level("SKU-0002").reserved == 0);
  auto e = f.last_event("order.unaccepted");
  CHECK(e["from_state"] == "accepted");
  CHECK(e["state"] == "routed");
  CHECK(e["accept_by"] == kT0 + 60000);
  REQUIRE(e["released"].size() == 1);
  CHECK(e["released"][0] == nlohmann::json{{"line_no", 1}, {"sku", "SKU-0001"}, {"quantity", 2}});
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());

  // Accepted again, only the open units are reserved: the short-picked one stays rejected.
  REQUIRE(f.orders().accept("FO-U", ctx(kT0 + 2000)));
  CHECK(f.level("SKU-0001").reserved == 2);
  CHECK(f.level("SKU-0002").reserved == 0);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());

  // Once picking started it is too late; a refusal changes nothing.
  REQUIRE(f.orders().start_picking("FO-U", ctx()));
  f.refused([&] { return f.orders().unaccept("FO-U", ctx()); }, DomainErrc::illegal_transition,
            "it cannot have its acceptance undone");

  // Undone past its deadline, the expiry sweep takes it as any routed order.
  auto late = fulfil::test::make_order("FO-U2", DeliveryMethod::ship, {{"SKU-0003", 1}});
  late.accept_by = kT0 + 5000;
  REQUIRE(f.orders().receive(late, ctx()));
  REQUIRE(f.orders().accept("FO-U2", ctx()));
  REQUIRE(f.orders().unaccept("FO-U2", ctx(kT0 + 9000)));
  auto expired = f.orders().expire_overdue(ctx(kT0 + 9000));
  REQUIRE(expired.has_value());
  CHECK(*expired == std::vector<std::string>{"FO-U2"});
  CHECK(f.level("SKU-0003").reserved == 0);
}

TEST_CASE("unpack deletes the packages before shipping; the picked units stay reserved") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-P", DeliveryMethod::ship, {{"SKU-0001", 2}}), ctx()));
  f.through_packing("FO-P");
  f.t->db().exec(
      "INSERT INTO carrier_label (order_id, package_no, carrier, tracking, format, document, "
      "received_at) VALUES ('FO-P', 1, 'DHL', 'JD1', 'zpl', x'00', 0)");
  const auto stock = f.level("SKU-0001");
  REQUIRE(f.orders().unpack("FO-P", ctx()));
  const auto o = *f.orders().find("FO-P");
  CHECK(o.state == OrderState::picked);
  CHECK(o.packages.empty());
  CHECK(fulfil::test::count_rows(f.t->db(), "package") == 0);
  CHECK(fulfil::test::count_rows(f.t->db(), "package_item") == 0);
  CHECK(fulfil::test::count_rows(f.t->db(), "carrier_label") == 0);
  CHECK(f.level("SKU-0001").reserved == stock.reserved);
  CHECK(f.level("SKU-0001").on_hand == stock.on_hand);
  CHECK(f.last_event("order.unpacked")["packages_removed"] == nlohmann::json::array({1}));
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
  // Packed again, it ships as usual.
  REQUIRE(f.orders().pack("FO-P", {{1, "BOX-L", 900, {{1, 2}}}}, ctx()));
  REQUIRE(f.orders().ship("FO-P", "DHL", "JD2", ctx()));
  CHECK(f.level("SKU-0001").on_hand == 3);
  // Shipped, or not packed, there is nothing to unpack.
  f.refused([&] { return f.orders().unpack("FO-P", ctx()); }, DomainErrc::illegal_transition,
            "it cannot be unpacked");
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-P2", DeliveryMethod::ship, {{"SKU-0002", 1}}), ctx()));
  f.through_picking("FO-P2");
  f.refused([&] { return f.orders().unpack("FO-P2", ctx()); }, DomainErrc::illegal_transition,
            "it cannot be unpacked");
}

TEST_CASE("rejecting after picking started puts the picked units back on the shelf") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-R", DeliveryMethod::ship, {{"SKU-0001", 2}, {"SKU-0002", 1}}),
      ctx()));
  REQUIRE(f.orders().accept("FO-R", ctx()));
  REQUIRE(f.orders().start_picking("FO-R", ctx()));
  REQUIRE(f.orders().pick_item("FO-R", "SKU-0001", 1, ctx()));
  f.refused([&] { return f.orders().reject("FO-R", "bogus", ctx()); }, DomainErrc::invalid_argument,
            "not one of");
  // Another terminal may reject it (the claim guards picks); the claim ends.
  REQUIRE(f.orders().claims().of("FO-R").has_value());
  CommandContext other = ctx();
  other.actor = {Actor::Kind::terminal, "other"};
  REQUIRE(f.orders().reject("FO-R", "other", other));  // a reason with no stock effect
  const auto o = *f.orders().find("FO-R");
  CHECK(o.state == OrderState::rejected);
  CHECK(o.reject_reason == "other");
  CHECK_FALSE(f.orders().claims().of("FO-R").has_value());
  for (const char* sku : {"SKU-0001", "SKU-0002"}) {
    CHECK(f.level(sku).reserved == 0);
    CHECK(f.level(sku).on_hand == 5);
    CHECK(f.level(sku).available() == 5);
  }
  auto e = f.last_event("order.rejected");
  CHECK(e["from_state"] == "picking");
  CHECK(e["reason"] == "other");
  CHECK(e["lines"][0]["picked"] == 1);
  CHECK(e["lines"][1]["picked"] == 0);
  CHECK(e["put_back"] == nlohmann::json::array({{{"sku", "SKU-0001"}, {"quantity", 1}}}));
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());

  // From picked (a pickup order waiting for its shelf) too.
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-R2", DeliveryMethod::pickup, {{"SKU-0003", 2}}), ctx()));
  f.through_picking("FO-R2");
  CHECK(f.level("SKU-0003").reserved == 2);
  REQUIRE(f.orders().reject("FO-R2", "other", ctx()));
  CHECK(f.orders().find("FO-R2")->state == OrderState::rejected);
  CHECK(f.level("SKU-0003").reserved == 0);
  CHECK(f.level("SKU-0003").on_hand == 5);
  CHECK(f.last_event("order.rejected")["lines"][0]["picked"] == 2);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("accepting in part reserves the accepted units and rejects the rest with a reason") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-A", DeliveryMethod::ship,
                               {{"SKU-0001", 3}, {"SKU-0002", 2}, {"SKU-0003", 1}}),
      ctx()));
  // Refusals change nothing: unknown or repeated lines, too many units, no or a bad reason,
  // every unit rejected.
  auto part = [&](std::vector<AcceptedLine> lines, const std::string& reason) {
    return [&f, lines, reason] { return f.orders().accept("FO-A", lines, reason, ctx()); };
  };
  f.refused(part({{9, 1}}, "out_of_stock"), DomainErrc::invalid_argument, "has no line 9");
  f.refused(part({{1, 1}, {1, 2}}, "out_of_stock"), DomainErrc::invalid_argument, "more than once");
  f.refused(part({{1, 4}}, "out_of_stock"), DomainErrc::invalid_argument, "cannot accept 4");
  f.refused(part({{1, -1}}, "out_of_stock"), DomainErrc::invalid_argument, "cannot accept -1");
  f.refused(part({{1, 1}}, ""), DomainErrc::invalid_argument, "needs a reason");
  f.refused(part({{1, 1}}, "bogus"), DomainErrc::invalid_argument, "not one of");
  f.refused(part({{1, 0}, {2, 0}, {3, 0}}, "out_of_stock"), DomainErrc::invalid_argument,
            "reject the order instead");

  REQUIRE(f.orders().accept("FO-A", {{1, 1}, {3, 0}}, "out_of_stock", ctx()));
  const auto o = *f.orders().find("FO-A");
  CHECK(o.state == OrderState::accepted);
  CHECK(o.lines[0].rejected == 2);
  CHECK(o.lines[0].reject_reason == "out_of_stock");
  CHECK(o.lines[1].rejected == 0);
  CHECK(o.lines[2].rejected == 1);
  CHECK(f.level("SKU-0001").reserved == 1);
  CHECK(f.level("SKU-0002").reserved == 2);
  CHECK(f.level("SKU-0003").reserved == 0);
  auto e = f.last_event("order.accepted");
  CHECK(e["accepted"] == nlohmann::json::parse(R"([
    {"line_no": 1, "sku": "SKU-0001", "quantity": 1},
    {"line_no": 2, "sku": "SKU-0002", "quantity": 2},
    {"line_no": 3, "sku": "SKU-0003", "quantity": 0}])"));
  CHECK(e["rejected"] == nlohmann::json::parse(R"([
    {"line_no": 1, "sku": "SKU-0001", "quantity": 2, "reason": "out_of_stock"},
    {"line_no": 3, "sku": "SKU-0003", "quantity": 1, "reason": "out_of_stock"}])"));
  CHECK(e["lines"][0]["rejected"] == 2);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());

  // The rest picks as usual: line 3 has nothing open, so picking the others completes.
  REQUIRE(f.orders().start_picking("FO-A", ctx()));
  REQUIRE(f.orders().pick_item("FO-A", "SKU-0001", 1, ctx()));
  REQUIRE(f.orders().pick_item("FO-A", "SKU-0002", 2, ctx()));
  REQUIRE(f.orders().complete_picking("FO-A", ctx()));
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());

  // A plain accept (and listing every line in full) rejects nothing and needs no reason.
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-A2", DeliveryMethod::ship, {{"SKU-0002", 1}}), ctx()));
  REQUIRE(f.orders().accept("FO-A2", {{1, 1}}, "", ctx()));
  CHECK(f.last_event("order.accepted")["rejected"].empty());
  CHECK_FALSE(f.last_event("order.accepted").contains("stock_effect"));
  CHECK(f.level("SKU-0002").reserved == 3);
}

namespace {
constexpr std::int64_t kDay = std::int64_t{24} * 3600 * 1000;

// A pickup order of two units of SKU-0001, ready for pickup since `ready_at`, with
// uncollected pickups overdue after two days.
void ready_pickup(Fixture& f, const std::string& id, std::int64_t ready_at) {
  OrderPolicy policy;
  policy.return_uncollected_after_ms = 2 * kDay;
  f.orders().set_policy(policy);
  REQUIRE(f.orders().receive(
      fulfil::test::make_order(id, DeliveryMethod::pickup, {{"SKU-0001", 2}}), ctx()));
  f.through_picking(id);
  REQUIRE(f.orders().ready_for_pickup(id, "P-07", ctx(ready_at)).has_value());
}

std::vector<std::string> history_actors(Fixture& f, const std::string& id,
                                        const std::string& action) {
  std::vector<std::string> out;
  auto s = f.t->db().prepare("SELECT actor FROM order_history WHERE order_id=? AND action=?");
  s.bind(1, id).bind(2, action);
  while (s.step()) out.push_back(s.text(0));
  return out;
}
}  // namespace

TEST_CASE("the pickup notice sent again: counted, one event each, in the history with who") {
  Fixture f;
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-N", DeliveryMethod::pickup, {{"SKU-0001", 1}}), ctx()));
  f.through_picking("FO-N");
  const auto notice = [&] { return f.orders().send_pickup_notice("FO-N", ctx(kT0 + kDay)); };
  // Not yet on the shelf: refused, saying where the order is, and nothing changes.
  f.refused(notice, DomainErrc::illegal_transition,
            "Order REF-FO-N is picked: it cannot have its pickup notice sent again");
  REQUIRE(f.orders().ready_for_pickup("FO-N", "P-01", ctx(kT0 + 1000)));
  CHECK(f.orders().find("FO-N")->pickup_notices == 0);

  const auto events0 = fulfil::test::count_rows(f.t->db(), "outbox");
  REQUIRE(notice());
  REQUIRE(
      f.orders().send_pickup_notice("FO-N", {{Actor::Kind::terminal, "desk-2"}, kT0 + 2 * kDay}));
  CHECK(fulfil::test::count_rows(f.t->db(), "outbox") - events0 == 2);
  const auto o = *f.orders().find("FO-N");
  CHECK(o.state == OrderState::ready_for_pickup);
  CHECK(o.pickup_notices == 2);
  CHECK(o.ready_at == kT0 + 1000);  // a notice is not the order becoming ready again
  const auto event = f.last_event("order.pickup_notice_requested");
  CHECK(event["notices"] == 2);
  CHECK(event["ready_at"] == kT0 + 1000);
  CHECK(event["shelf"] == "P-01");
  CHECK(event["actor"] == "terminal:desk-2");
  CHECK(event["from_state"] == "ready_for_pickup");
  CHECK(event["state"] == "ready_for_pickup");
  CHECK(history_actors(f, "FO-N", "send_pickup_notice") ==
        std::vector<std::string>{"terminal:test", "terminal:desk-2"});
  CHECK(f.level("SKU-0001").reserved == 1);  // no stock moves

  // Not while the cloud holds the order, and not once it is collected.
  REQUIRE(f.orders().update_from_cloud("FO-N", std::nullopt, true, ctx()));
  f.refused(notice, DomainErrc::illegal_transition, "on hold");
  REQUIRE(f.orders().update_from_cloud("FO-N", std::nullopt, false, ctx()));
  REQUIRE(f.orders().collect("FO-N", f.orders().find("FO-N")->pickup_code, ctx()));
  f.refused(notice, DomainErrc::illegal_transition, "is collected");
  CHECK(f.orders().find("FO-N")->pickup_notices == 2);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("an uncollected pickup is overdue once it waited longer than the policy allows") {
  Fixture f;
  const std::int64_t ready = kT0 + 5000;
  ready_pickup(f, "FO-A", ready);
  auto o = *f.orders().find("FO-A");
  CHECK(o.ready_at == ready);
  CHECK_FALSE(f.orders().uncollected_overdue(o, ready + kDay));
  CHECK_FALSE(f.orders().uncollected_overdue(o, ready + 2 * kDay));
  CHECK(f.orders().uncollected_overdue(o, ready + 2 * kDay + 1));
  // Only a pickup waiting on the shelf is overdue.
  auto collected = o;
  collected.state = OrderState::collected;
  CHECK_FALSE(f.orders().uncollected_overdue(collected, ready + 10 * kDay));

  // The queue: ready_at on the shelf's rows, and a filter for the overdue ones.
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-B", DeliveryMethod::pickup, {{"SKU-0002", 1}}), ctx()));
  f.through_picking("FO-B");
  const auto overdue_at = [&](std::int64_t now, std::optional<OrderState> state = {}) {
    OrderQuery q;
    q.state = state;
    q.overdue_at = now;
    auto page = f.orders().search(q);
    REQUIRE(page.has_value());
    std::vector<std::string> ids;
    for (const auto& s : page->orders) ids.push_back(s.id);
    return ids;
  };
  CHECK(overdue_at(ready + 2 * kDay).empty());
  CHECK(overdue_at(ready + 2 * kDay + 1) == std::vector<std::string>{"FO-A"});
  CHECK(overdue_at(ready + 3 * kDay, OrderState::ready_for_pickup) ==
        std::vector<std::string>{"FO-A"});
  CHECK(overdue_at(ready + 3 * kDay, OrderState::picked).empty());
  auto all = f.orders().search({});
  REQUIRE(all.has_value());
  REQUIRE(all->orders.size() == 2);
  CHECK(all->orders[0].ready_at == ready);
  CHECK(all->orders[1].ready_at == 0);  // picked, not on the shelf
}

TEST_CASE("returning an uncollected pickup: only once overdue; the reservations go back") {
  Fixture f;
  const std::int64_t ready = kT0 + 5000;
  ready_pickup(f, "FO-R", ready);
  CHECK(f.level("SKU-0001").reserved == 2);
  const auto back = [&](std::int64_t now) {
    return [&f, now] { return f.orders().return_uncollected("FO-R", ctx(now)); };
  };
  f.refused(back(ready + kDay), DomainErrc::illegal_transition,
            "Order REF-FO-R has waited for its customer 1 day: it can be returned to stock only "
            "after 2 days uncollected");
  f.refused(back(ready + 2 * kDay), DomainErrc::illegal_transition, "only after 2 days");

  const auto on_hand = f.level("SKU-0001").on_hand;
  REQUIRE(back(ready + 3 * kDay)());
  const auto o = *f.orders().find("FO-R");
  CHECK(o.state == OrderState::cancelled);
  CHECK(o.reject_reason == "not_collected");
  // The units never left the books: released, not moved.
  CHECK(f.level("SKU-0001").reserved == 0);
  CHECK(f.level("SKU-0001").on_hand == on_hand);
  CHECK(f.level("SKU-0001").available() == on_hand);
  const auto event = f.last_event("order.returned_uncollected");
  CHECK(event["reason"] == "not_collected");
  CHECK(event["ready_at"] == ready);
  CHECK(event["from_state"] == "ready_for_pickup");
  CHECK(event["state"] == "cancelled");
  CHECK(event["released"] ==
        nlohmann::json::parse(R"([{"line_no":1,"sku":"SKU-0001","quantity":2}])"));
  CHECK(event["put_back"] == nlohmann::json::parse(R"([{"sku":"SKU-0001","quantity":2}])"));
  CHECK(history_actors(f, "FO-R", "return_uncollected") ==
        std::vector<std::string>{"terminal:test"});
  // Ended: nothing more to return, and the message says so.
  f.refused(back(ready + 4 * kDay), DomainErrc::illegal_transition, "is cancelled");
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());

  // Another order, not on the shelf yet: refused by the lifecycle, however late.
  REQUIRE(f.orders().receive(
      fulfil::test::make_order("FO-S", DeliveryMethod::pickup, {{"SKU-0002", 1}}), ctx()));
  f.refused([&] { return f.orders().return_uncollected("FO-S", ctx(kT0 + 30 * kDay)); },
            DomainErrc::illegal_transition, "cannot be returned to stock as uncollected");
}

TEST_CASE("orders per state are never older than the last commit, whoever made it") {
  Fixture f;
  auto& orders = f.orders();
  CHECK(orders.count_by_state()["routed"] == 0);
  REQUIRE(orders
              .receive(fulfil::test::make_order("FO-C1", DeliveryMethod::ship, {{"SKU-0001", 1}}),
                       ctx())
              .has_value());
  CHECK(orders.count_by_state()["routed"] == 1);
  CHECK(orders.count_by_state()["routed"] == 1);  // asked again, nothing changed
  REQUIRE(orders.accept("FO-C1", ctx()).has_value());
  auto counts = orders.count_by_state();
  CHECK(counts["routed"] == 0);
  CHECK(counts["accepted"] == 1);
  // Counted inside a transaction that is then rolled back: not kept.
  f.t->db().exec("BEGIN IMMEDIATE");
  f.t->db().exec("UPDATE fulfilment_order SET state='picking' WHERE id='FO-C1'");
  CHECK(orders.count_by_state()["picking"] == 1);
  f.t->db().exec("ROLLBACK");
  CHECK(orders.count_by_state()["picking"] == 0);
  CHECK(orders.count_by_state()["accepted"] == 1);
  // Another connection's commit (fulfilctl, a migration tool) counts too.
  {
    auto other = Database::open({f.t.db_path(), "quick", 1000});
    REQUIRE(other.has_value());
    (*other)->exec("UPDATE fulfilment_order SET state='picking' WHERE id='FO-C1'");
  }
  CHECK(orders.count_by_state()["picking"] == 1);
  CHECK(orders.count_by_state()["accepted"] == 0);
}
