// Pick lists (waves): several orders picked in one walk, each into its own tote; shortages
// on the right orders; refusals that change nothing; the rule that gathers a wave.
#include <doctest/doctest.h>

#include <algorithm>

#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;
using fulfil::test::kT0;

namespace {

struct Fixture : fulfil::test::StoreChecks<Fixture> {
  fulfil::test::TestStore t = fulfil::test::open_test_store();
  // Bins: SKU-0001 A01-2, SKU-0002 A01-3, SKU-0003 A01-4, SKU-0004 A01-1.
  Fixture() { fulfil::test::seed_catalog(*t, 4, 20); }
  FulfilmentOrders& orders() { return t->orders(); }
  PickLists& lists() { return t->pick_lists(); }

  void accepted(const std::string& id,
                const std::vector<std::pair<std::string, std::int64_t>>& lines,
                DeliveryMethod method = DeliveryMethod::ship, std::int64_t ship_by = 0) {
    auto o = fulfil::test::make_order(id, method, lines);
    o.ship_by = ship_by;
    REQUIRE(orders().receive(o, ctx()));
    REQUIRE(orders().accept(id, ctx()));
  }
  OrderState state(const std::string& id) { return orders().find(id)->state; }
};

CommandContext other_terminal() {
  return {Actor{Actor::Kind::terminal, "T-other"}, kT0};
}

}  // namespace

TEST_CASE("a pick list starts its orders, walks the bins once and fills each tote in turn") {
  Fixture f;
  f.accepted("FO-1", {{"SKU-0001", 1}, {"SKU-0002", 1}});
  f.accepted("FO-2", {{"SKU-0001", 2}});
  f.accepted("FO-3", {{"SKU-0004", 1}});
  auto list = f.lists().create({"FO-1", "FO-2", "FO-3"}, ctx());
  REQUIRE(list);
  CHECK(list->name() == "PL-1");
  REQUIRE(list->orders.size() == 3);
  CHECK(list->orders[1].tote == 2);
  CHECK(list->orders[1].order_id == "FO-2");
  for (const auto* id : {"FO-1", "FO-2", "FO-3"}) {
    CHECK(f.state(id) == OrderState::picking);
    CHECK(f.orders().claims().of(id)->holder == "terminal:test");
  }
  // The walk: bin A01-1 first, then A01-2 with both totes that need SKU-0001.
  REQUIRE(list->stops.size() == 3);
  CHECK(list->stops[0].bin == "A01-1");
  CHECK(list->stops[1].sku == "SKU-0001");
  CHECK(list->stops[1].open() == 3);
  CHECK(list->stops[1].slots.size() == 2);
  CHECK(list->open_units() == 5);
  CHECK(f.lists().place_of("FO-2")->tote == 2);

  auto first = f.lists().pick(list->id, "SKU-0001", ctx());
  REQUIRE(first);
  CHECK(first->tote == 1);
  CHECK_FALSE(first->order_picked);
  auto second = f.lists().pick(list->id, "SKU-0001", ctx());
  REQUIRE(second);
  CHECK(second->tote == 2);
  CHECK(second->order_id == "FO-2");
  CHECK(second->line_open == 1);
  auto picked = f.last_event("order.item_picked");
  CHECK(picked["pick_list"] == "PL-1");
  CHECK(picked["tote"] == 2);
  CHECK(picked["actor"] == "terminal:test");

  auto finishes_one = f.lists().pick(list->id, "SKU-0002", ctx());
  REQUIRE(finishes_one);
  CHECK(finishes_one->order_picked);
  CHECK(f.state("FO-1") == OrderState::picked);
  CHECK_FALSE(f.orders().claims().of("FO-1"));
  REQUIRE(f.lists().pick(list->id, "SKU-0001", ctx()));
  auto last = f.lists().pick(list->id, "SKU-0004", ctx());
  REQUIRE(last);
  CHECK(last->list_closed);
  CHECK(f.lists().find(list->id)->state == PickListState::closed);
  CHECK_FALSE(f.lists().place_of("FO-3"));
  for (const auto* id : {"FO-1", "FO-2", "FO-3"}) CHECK(f.state(id) == OrderState::picked);
  f.refused([&] { return f.lists().pick(list->id, "SKU-0001", ctx()); },
            DomainErrc::illegal_transition, "PL-1 is closed");
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("pick list refusals say why and change nothing") {
  Fixture f;
  f.accepted("FO-1", {{"SKU-0001", 1}});
  f.accepted("FO-2", {{"SKU-0002", 1}});
  auto routed = fulfil::test::make_order("FO-R", DeliveryMethod::ship, {{"SKU-0001", 1}});
  REQUIRE(f.orders().receive(routed, ctx()));
  f.refused([&] { return f.lists().create(std::vector<std::string>{}, ctx()); },
            DomainErrc::invalid_argument, "at least one order");
  f.refused([&] { return f.lists().create(std::vector<std::string>(21, "FO-1"), ctx()); },
            DomainErrc::invalid_argument, "at most 20 orders");
  f.refused(
      [&] {
        return f.lists().create({"FO-1", "FO-1"}, ctx());
      },
      DomainErrc::invalid_argument, "FO-1 is on the list twice");
  f.refused(
      [&] {
        return f.lists().create({"FO-1", "FO-nope"}, ctx());
      },
      DomainErrc::not_found, "FO-nope");
  // FO-1 would start picking, but FO-R cannot: neither does.
  f.refused(
      [&] {
        return f.lists().create({"FO-1", "FO-R"}, ctx());
      },
      DomainErrc::illegal_transition, "routed, waiting to be accepted");
  CHECK(f.state("FO-1") == OrderState::accepted);

  auto list = f.lists().create({"FO-1"}, ctx());
  REQUIRE(list);
  f.refused(
      [&] {
        return f.lists().create({"FO-2", "FO-1"}, ctx());
      },
      DomainErrc::invalid_argument, "FO-1 is already on pick list PL-1 (tote 1)");
  f.refused([&] { return f.lists().pick(list->id, "SKU-0002", ctx()); },
            DomainErrc::invalid_argument, "SKU-0002 is not on pick list PL-1 (wrong item)");
  // Another terminal cannot pick into a list whose orders the picker holds.
  f.refused([&] { return f.lists().pick(list->id, "SKU-0001", other_terminal()); },
            DomainErrc::claimed, "being picked on terminal:test");
  f.refused([&] { return f.lists().short_pick(list->id, "SKU-0001", 2, "not_found", ctx()); },
            DomainErrc::invalid_argument, "needs 1 more of SKU SKU-0001; cannot short-pick 2");
  f.refused([&] { return f.lists().short_pick(list->id, "SKU-0001", 1, "lost", ctx()); },
            DomainErrc::invalid_argument, "reason 'lost'");
  f.refused([&] { return f.lists().pick(99, "SKU-0001", ctx()); }, DomainErrc::not_found,
            "no pick list PL-99");

  // Closing early leaves the order being picked, claimed, to be finished on its own.
  REQUIRE(f.lists().close(list->id, ctx()));
  CHECK(f.state("FO-1") == OrderState::picking);
  CHECK_FALSE(f.lists().place_of("FO-1"));
  REQUIRE(f.orders().pick_item("FO-1", "SKU-0001", 1, ctx()));
  // An order being picked by the caller joins a new list; another terminal's does not.
  REQUIRE(f.orders().start_picking("FO-2", other_terminal()));
  f.refused([&] { return f.lists().create({"FO-2"}, ctx()); }, DomainErrc::claimed,
            "terminal:T-other");
}

TEST_CASE("a shortage in a wave is short-picked on the last totes first") {
  Fixture f;
  f.accepted("FO-1", {{"SKU-0001", 2}, {"SKU-0002", 1}});
  f.accepted("FO-2", {{"SKU-0001", 1}, {"SKU-0003", 1}});
  f.accepted("FO-3", {{"SKU-0001", 1}});
  auto list = f.lists().create({"FO-1", "FO-2", "FO-3"}, ctx());
  REQUIRE(list);
  REQUIRE(f.lists().pick(list->id, "SKU-0003", ctx()));
  REQUIRE(f.lists().pick(list->id, "SKU-0001", ctx()));  // tote 1
  // Two of the three still needed are not on the shelf: tote 3 loses its only line (the
  // order is rejected for the cloud to reroute), tote 2 its SKU-0001 (it moves on).
  auto shorts = f.lists().short_pick(list->id, "SKU-0001", 2, "not_found", ctx());
  REQUIRE(shorts);
  REQUIRE(shorts->size() == 2);
  CHECK((*shorts)[0].tote == 3);
  CHECK((*shorts)[0].state == OrderState::rejected);
  CHECK((*shorts)[1].tote == 2);
  CHECK((*shorts)[1].state == OrderState::picked);
  CHECK(f.state("FO-1") == OrderState::picking);
  // The walk shows each tote's shortfall; the rejected order's slot has nothing open.
  const auto walk = *f.lists().find(list->id);
  const auto& stop = *std::find_if(walk.stops.begin(), walk.stops.end(),
                                   [](const PickStop& s) { return s.sku == "SKU-0001"; });
  REQUIRE(stop.slots.size() == 3);
  CHECK(stop.slots[2].short_units == 1);
  CHECK(stop.slots[2].open == 0);
  CHECK(stop.slots[1].short_units == 1);
  CHECK(stop.open() == 1);
  auto event = f.last_event("order.lines_short_picked");
  CHECK(event["tote"] == 2);
  CHECK(event["pick_list"] == "PL-1");
  CHECK(f.t->inventory().level("SKU-0001")->reserved == 2);  // FO-1's two
  REQUIRE(f.lists().pick(list->id, "SKU-0001", ctx()));
  auto last = f.lists().pick(list->id, "SKU-0002", ctx());
  REQUIRE(last);
  CHECK(last->order_picked);
  CHECK(last->list_closed);
  CHECK(fulfil::test::invariant_violations(f.t->db()).empty());
}

TEST_CASE("a rule gathers the most urgent accepted orders that fit it") {
  Fixture f;
  f.accepted("FO-late", {{"SKU-0001", 1}}, DeliveryMethod::ship, kT0 + 5 * 3600'000);
  f.accepted("FO-none", {{"SKU-0001", 1}});
  f.accepted("FO-soon", {{"SKU-0002", 1}}, DeliveryMethod::ship, kT0 + 3600'000);
  f.accepted("FO-big", {{"SKU-0003", 4}}, DeliveryMethod::ship, kT0 + 600'000);
  f.accepted("FO-pickup", {{"SKU-0004", 1}}, DeliveryMethod::pickup, kT0 + 60'000);
  f.refused(
      [&] {
        return f.lists().create(PickListRule{DeliveryMethod::ship, 0, 0}, ctx());
      },
      DomainErrc::invalid_argument, "1 to 20 orders");
  auto small_ships = f.lists().create(PickListRule{DeliveryMethod::ship, 2, 3}, ctx());
  REQUIRE(small_ships);
  REQUIRE(small_ships->orders.size() == 2);
  CHECK(small_ships->orders[0].order_id == "FO-soon");
  CHECK(small_ships->orders[1].order_id == "FO-late");
  // Orders on an open list are not gathered again; without a ship-by they come last.
  auto rest = f.lists().create(PickListRule{std::nullopt, 5, 0}, ctx());
  REQUIRE(rest);
  REQUIRE(rest->orders.size() == 3);
  CHECK(rest->orders[0].order_id == "FO-pickup");
  CHECK(rest->orders[1].order_id == "FO-big");
  CHECK(rest->orders[2].order_id == "FO-none");
  f.refused(
      [&] {
        return f.lists().create(PickListRule{DeliveryMethod::pickup, 5, 0}, ctx());
      },
      DomainErrc::not_found, "no accepted pickup orders are waiting to be picked");
}
