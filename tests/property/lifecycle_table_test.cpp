// Walks every fulfilment-order state x every action x both delivery methods against the
// lifecycle table (domain/order_lifecycle.cpp), running the real commands: each allowed
// action succeeds with exactly one outbox event and the table's next state, each refused
// one returns illegal_transition and changes nothing; a hold blocks exactly the rows the
// table marks. The counts at the end are written out here, so a row added to or dropped
// from the table must be acknowledged in this test.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;
using fulfil::test::kT0;

namespace {

using S = OrderState;
using A = OrderAction;

// The table's outcome for the command as perform() runs it: a short pick of one unit
// leaves units to fulfil, and collect gives the right code, so both take the row's `to`.
std::optional<S> expected_result(S state, DeliveryMethod m, A action) {
  const OrderTransition* row = find_transition(state, m, action);
  if (!row) return std::nullopt;
  return row->to;
}

// Every action a command can take on an existing order: the steps and the cloud's update.
std::vector<A> actions_on_orders() {
  std::vector<A> out(all_actions().begin(), all_actions().end());
  out.push_back(A::update);
  return out;
}

bool reachable(S state, DeliveryMethod m) {
  if (state == S::shipped) return m == DeliveryMethod::ship;
  if (state == S::ready_for_pickup || state == S::collected) return m == DeliveryMethod::pickup;
  return true;
}

const std::int64_t kAcceptBy = kT0 + 3600 * 1000;
// Longer than any pickup.return_after_days: an order ready at kT0 is overdue by then.
const std::int64_t kLongAfter = std::int64_t{91} * 24 * 3600 * 1000;

void must(const Result<void>& r) {
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
}

void pick_everything(Store& s, const std::string& id) {
  auto o = s.orders().find(id);
  for (const auto& l : o->lines)
    if (l.open() > 0) REQUIRE(s.orders().pick_item(id, l.sku, l.open(), ctx()).has_value());
}

std::vector<Package> packages_for(Store& s, const std::string& id) {
  auto o = s.orders().find(id);
  Package p{1, "BOX-M", 1200, {}};
  for (const auto& l : o->lines)
    if (l.picked > 0) p.items.push_back({l.line_no, l.picked});
  if (p.items.empty()) p.items.push_back({1, 1});
  return {p};
}

// A pickup order packed by an older fulfild (pickup orders are no longer packed): its
// package and state written as that version left them.
void packed_as_before(Store& s, const std::string& id) {
  const auto p = packages_for(s, id).at(0);
  s.db().exec("INSERT INTO package (order_id, package_no, box_type, weight_g) VALUES ('" + id +
              "', 1, 'BOX-M', 1200)");
  for (const auto& i : p.items)
    s.db().exec("INSERT INTO package_item (order_id, package_no, line_no, quantity) VALUES ('" +
                id + "', 1, " + std::to_string(i.line_no) + ", " + std::to_string(i.quantity) +
                ")");
  s.db().exec("UPDATE fulfilment_order SET state='packed' WHERE id='" + id + "'");
}

void drive_to(Store& s, const std::string& id, DeliveryMethod m, S target) {
  auto order = fulfil::test::make_order(id, m, {{"SKU-0001", 2}, {"SKU-0002", 1}});
  order.accept_by = kAcceptBy;
  must(s.orders().receive(order, ctx()));
  auto& o = s.orders();
  switch (target) {
    case S::routed:
      return;
    case S::rejected:
      return must(o.reject(id, "other", ctx()));
    case S::expired: {
      auto r = o.expire_overdue(ctx(kAcceptBy + 1));
      REQUIRE(r.has_value());
      return;
    }
    case S::cancelled: {
      auto r = o.request_cancel(id, "customer", ctx());
      REQUIRE(r.has_value());
      return;
    }
    default:
      break;
  }
  must(o.accept(id, ctx()));
  if (target == S::accepted) return;
  must(o.start_picking(id, ctx()));
  if (target == S::picking) return;
  pick_everything(s, id);
  must(o.complete_picking(id, ctx()));
  if (target == S::picked) return;
  if (m == DeliveryMethod::pickup && target == S::packed) return packed_as_before(s, id);
  if (m == DeliveryMethod::ship) {
    must(o.pack(id, packages_for(s, id), ctx()));
    if (target == S::packed) return;
    return must(o.ship(id, "DHL", "JD0001", ctx()));
  }
  auto code = o.ready_for_pickup(id, "P-01", ctx());
  REQUIRE(code.has_value());
  if (target == S::ready_for_pickup) return;
  must(o.collect(id, *code, ctx()));
}

struct Outcome {
  bool ok = false;
  DomainErrc code = DomainErrc::storage;
  std::string message;
};

template <class T>
Outcome outcome_of(const Result<T>& r) {
  if (r) return {true, DomainErrc::storage, ""};
  return {false, r.error().code, r.error().message};
}

Outcome perform(Store& s, const std::string& id, A action) {
  auto& o = s.orders();
  switch (action) {
    case A::accept:
      return outcome_of(o.accept(id, ctx()));
    case A::reject:
      return outcome_of(o.reject(id, "other", ctx()));
    case A::expire: {
      auto r = o.expire_overdue(ctx(kAcceptBy + 1));
      if (!r) return outcome_of(r);
      const bool expired = std::find(r->begin(), r->end(), id) != r->end();
      return {expired, DomainErrc::illegal_transition, "not expired"};
    }
    case A::start_picking:
      return outcome_of(o.start_picking(id, ctx()));
    case A::pick_item:
      return outcome_of(o.pick_item(id, "SKU-0001", 1, ctx()));
    case A::short_pick:
      return outcome_of(o.short_pick(id, 1, 1, "not_found", ctx()));
    case A::complete_picking:
      return outcome_of(o.complete_picking(id, ctx()));
    case A::pack:
      return outcome_of(o.pack(id, packages_for(s, id), ctx()));
    case A::ship:
      return outcome_of(o.ship(id, "DHL", "JD0002", ctx()));
    case A::ready_for_pickup:
      return outcome_of(o.ready_for_pickup(id, "P-02", ctx()));
    case A::collect: {
      auto code = o.find(id)->pickup_code;
      return outcome_of(o.collect(id, code.empty() ? "000000" : code, ctx()));
    }
    case A::unlock_pickup:
      return outcome_of(o.unlock_pickup(id, ctx()));
    case A::send_pickup_notice:
      return outcome_of(o.send_pickup_notice(id, ctx()));
    case A::return_uncollected:  // once overdue: its one precondition beyond the state
      return outcome_of(o.return_uncollected(id, ctx(kT0 + kLongAfter)));
    case A::unaccept:
      return outcome_of(o.unaccept(id, ctx()));
    case A::unpack:
      return outcome_of(o.unpack(id, ctx()));
    case A::cancel: {
      auto r = o.request_cancel(id, "customer", ctx());
      if (!r) return outcome_of(r);
      return {r->outcome == CancelOutcome::cancelled, DomainErrc::illegal_transition, r->reason};
    }
    case A::update:
      return outcome_of(o.update_from_cloud(id, std::nullopt, false, ctx()));
    case A::receive:
      break;  // not an action on an existing order
  }
  return {};
}

}  // namespace

TEST_CASE("every state x every action x both methods follows the lifecycle table") {
  int allowed_checked = 0, refused_checked = 0;
  for (DeliveryMethod m : {DeliveryMethod::ship, DeliveryMethod::pickup}) {
    for (S state : all_states()) {
      if (!reachable(state, m)) continue;
      for (A action : actions_on_orders()) {
        // A fresh store per case: expiry sweeps act on every overdue order in a store.
        auto store = fulfil::test::open_test_store();
        fulfil::test::seed_catalog(*store, 2, 50);
        const std::string id = "FO-T";
        drive_to(*store, id, m, state);
        CAPTURE(method_name(m));
        CAPTURE(state_name(state));
        CAPTURE(action_name(action));
        REQUIRE(store->orders().find(id)->state == state);
        const auto expected = expected_result(state, m, action);
        CHECK(allows(state, m, action) == expected.has_value());

        // The one precondition beyond the state: completing a pick needs every unit picked.
        if (action == A::complete_picking && state == S::picking) pick_everything(*store, id);
        const std::string before = fulfil::test::fingerprint(store->db());
        const auto events_before = fulfil::test::count_rows(store->db(), "outbox");
        const Outcome out = perform(*store, id, action);
        const auto events_after = fulfil::test::count_rows(store->db(), "outbox");
        const auto after_state = store->orders().find(id)->state;
        if (expected) {
          ++allowed_checked;
          CHECK_MESSAGE(out.ok, out.message);
          CHECK(after_state == *expected);
          CHECK(events_after - events_before == 1);
        } else {
          ++refused_checked;
          CHECK_FALSE(out.ok);
          CHECK(after_state == state);
          if (action == A::cancel) {
            // A refused cancel request is answered to the cloud (one event), nothing else.
            CHECK(events_after - events_before == 1);
          } else if (action == A::expire) {
            CHECK(fulfil::test::fingerprint(store->db()) == before);
          } else {
            CHECK(out.code == DomainErrc::illegal_transition);
            // Where the order is, in words: its state's name with spaces.
            std::string words(state_name(state));
            std::replace(words.begin(), words.end(), '_', ' ');
            CHECK(out.message.find(words) != std::string::npos);
            CHECK(fulfil::test::fingerprint(store->db()) == before);
          }
        }
        CHECK(fulfil::test::invariant_violations(store->db()).empty());
      }
    }
  }
  // Reachable: 9 states shipping, 10 for pickup (packed: as older versions left pickup
  // orders); allowed cells: 20 + 5 updates shipping, 24 + 6 updates pickup (picked:
  // ready_for_pickup where shipping has pack; unpack is for parcels only; ready for
  // pickup: the notice sent again and the return of an uncollected order). The undo rows:
  // unaccept (both), reject from picking and from picked (both), unpack (shipping).
  CHECK(allowed_checked == 55);
  CHECK(refused_checked == (9 + 10) * 18 - 55);
}

TEST_CASE("a hold blocks exactly the rows the table marks, and nothing else") {
  int blocked = 0, passed = 0;
  for (const OrderTransition& row : order_transitions()) {
    if (!row.from || row.action == A::update || row.action == A::expire) continue;
    for (DeliveryMethod m : {DeliveryMethod::ship, DeliveryMethod::pickup}) {
      if ((row.only_for && *row.only_for != m) || !reachable(*row.from, m)) continue;
      auto store = fulfil::test::open_test_store();
      fulfil::test::seed_catalog(*store, 2, 50);
      drive_to(*store, "FO-H", m, *row.from);
      if (row.action == A::complete_picking) pick_everything(*store, "FO-H");
      must(store->orders().update_from_cloud("FO-H", std::nullopt, true, ctx()));
      CAPTURE(method_name(m));
      CAPTURE(state_name(*row.from));
      CAPTURE(action_name(row.action));
      const Outcome out = perform(*store, "FO-H", row.action);
      CHECK(out.ok == !row.blocked_by_hold);
      if (row.blocked_by_hold) {
        CHECK(out.message.find("on hold") != std::string::npos);
        CHECK(store->orders().find("FO-H")->state == *row.from);
      }
      ++(row.blocked_by_hold ? blocked : passed);
    }
  }
  // accept, start_picking (x2 methods each), pack, ship, ready_for_pickup (from picked and
  // from packed), collect, send_pickup_notice.
  CHECK(blocked == 10);
  CHECK(passed > 20);
}

TEST_CASE("the predicates derived from the table name the states they always named") {
  const std::set<S> terminal = {S::rejected, S::expired, S::shipped, S::collected, S::cancelled};
  const std::set<S> reserved = {S::accepted, S::picking, S::picked, S::packed, S::ready_for_pickup};
  for (S s : all_states()) {
    CAPTURE(state_name(s));
    CHECK(is_terminal(s) == (terminal.count(s) == 1));
    CHECK(holds_reservation(s) == (reserved.count(s) == 1));
    CHECK(state_from(state_name(s)) == s);
  }
  CHECK(blocked_by_hold(A::accept));
  CHECK_FALSE(blocked_by_hold(A::cancel));
  // Only receive enters the lifecycle, at routed.
  const OrderTransition* first = find_transition(std::nullopt, DeliveryMethod::ship, A::receive);
  REQUIRE(first != nullptr);
  CHECK(first->to == S::routed);
}

TEST_CASE("the database refuses an order state the lifecycle does not have") {
  auto store = fulfil::test::open_test_store();
  fulfil::test::seed_catalog(*store, 2, 50);
  drive_to(*store, "FO-C", DeliveryMethod::ship, S::routed);
  auto& db = store->db();
  for (S s : all_states()) {
    CAPTURE(state_name(s));
    CHECK_NOTHROW(db.exec("UPDATE fulfilment_order SET state='" + std::string(state_name(s)) +
                          "' WHERE id='FO-C'"));
  }
  CHECK_THROWS_AS(db.exec("UPDATE fulfilment_order SET state='lost' WHERE id='FO-C'"),
                  fulfil::agent::StorageFailure);
  CHECK(store->orders().find("FO-C")->state == S::cancelled);  // the last one that was allowed
}
