// Seeded random sequences of store operations (accept in full or in part, unaccept, pick,
// short-pick, reject, pack, unpack, ship, collect, pickup notices, returning uncollected
// pickups, cancel, return, count, adjust, expire, count sessions...)
// checking after every step:
//  - on_hand and unsellable equal the ledger's sums; reserved equals open reservations;
//  - a successful command wrote exactly one outbox event, a refused one changed nothing;
//  - an accepted order never drives availability negative (unless the policy allows it).
// Set FULFIL_SEED to replay one seed; a failure prints the seed and step.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <random>

#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::kT0;

namespace {

constexpr int kSkus = 25;

struct Step {
  explicit Step(std::string n) : name(std::move(n)) {}
  std::string name;
  bool ok = false;
  DomainErrc code = DomainErrc::storage;
  std::string message;
  std::int64_t expected_events = 1;  // on success
};

template <class T>
void set_result(Step& s, const Result<T>& r) {
  s.ok = r.has_value();
  if (!r) {
    s.code = r.error().code;
    s.message = r.error().message;
  }
}

// Cheap enough to take before every step, precise enough to see any change a refused
// command might have made.
std::string state_digest(Database& db) {
  auto one = [&](const char* sql) {
    auto s = db.prepare(sql);
    s.step();
    return s.text(0);
  };
  return one("SELECT count(*)||','||total(on_hand)||','||total(reserved)||','||total(unsellable)"
             "||','||total(on_hand*rowid)||','||total(unsellable*rowid)||','||"
             "total(reserved*rowid)||','||total(safety_stock) FROM sku") +
         one("SELECT count(*)||','||total(quantity) FROM reservation") +
         one("SELECT count(*) FROM ledger") + one("SELECT count(*) FROM outbox") +
         one("SELECT count(*) FROM order_history") + one("SELECT count(*) FROM package_item") +
         one("SELECT count(*) FROM return_line") +
         one("SELECT count(*)||','||total(coalesce(counted,-1)*rowid)||','||total(open*rowid)||','"
             "||total(round*rowid) FROM count_session_line") +
         one("SELECT count(*)||','||coalesce(group_concat(state),'') FROM count_session") +
         one("SELECT count(*) FROM count_scan") +
         one("SELECT total(picked*rowid)||','||total(rejected*rowid) FROM order_line") +
         one("SELECT group_concat(id||state||pickup_attempts||reject_reason, ';') FROM "
             "(SELECT * FROM fulfilment_order ORDER BY id)");
}

class Simulation {
 public:
  Simulation(unsigned seed, OrderPolicy policy)
      : rng_(seed), store_(fulfil::test::open_test_store(policy)), policy_(policy) {
    skus_ = fulfil::test::seed_catalog(*store_, kSkus, 0);
    for (const auto& sku : skus_)
      REQUIRE(inv().adjust({sku, AdjustmentKind::receipt, 2 + pick(6), "seed"}, ctx()).has_value());
  }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      now_ += 1 + pick(20000);
      const std::string before = state_digest(db());
      const auto events_before = fulfil::test::count_rows(db(), "outbox");
      Step step = random_step();
      CAPTURE(i);
      CAPTURE(step.name);
      CAPTURE(step.message);
      const auto events_after = fulfil::test::count_rows(db(), "outbox");
      if (step.ok) {
        ++succeeded_;
        ++committed_[step.name];
        REQUIRE(events_after - events_before == step.expected_events);
      } else if (step.code == DomainErrc::wrong_pickup_code) {
        REQUIRE(events_after - events_before == 1);  // the attempt is counted and reported
      } else {
        ++refused_;
        REQUIRE(step.code != DomainErrc::storage);
        REQUIRE(state_digest(db()) == before);
      }
      const auto violations = fulfil::test::invariant_violations(db());
      CAPTURE(violations.size() ? violations.front() : std::string());
      REQUIRE(violations.empty());
    }
  }

  void reopen_and_check() {
    const std::string before = state_digest(db());
    store_.reopen(policy_);
    CHECK(state_digest(db()) == before);
    CHECK(fulfil::test::invariant_violations(db()).empty());
  }

  int succeeded_ = 0;
  int refused_ = 0;
  std::map<std::string, int> committed_;  // by operation

 private:
  std::mt19937 rng_;
  fulfil::test::TestStore store_;
  OrderPolicy policy_;
  std::vector<std::string> skus_;
  std::int64_t now_ = kT0;
  int next_order_ = 0;

  Database& db() { return store_->db(); }
  Inventory& inv() { return store_->inventory(); }
  FulfilmentOrders& orders() { return store_->orders(); }
  CommandContext ctx() const { return {{Actor::Kind::terminal, "prop"}, now_}; }
  int pick(int n) { return static_cast<int>(rng_() % static_cast<unsigned>(n)); }
  const std::string& any_sku() { return skus_[static_cast<std::size_t>(pick(kSkus))]; }

  std::optional<std::string> order_in(std::initializer_list<OrderState> states) {
    std::vector<std::string> ids;
    for (auto st : states)
      for (const auto& o : orders().list(st, 10000)) ids.push_back(o.id);
    if (ids.empty()) return std::nullopt;
    return ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))];
  }

  Step random_step() {
    switch (pick(21)) {
      case 0:
      case 1:
        return receive();
      case 2:
      case 3:
        return on({OrderState::routed}, "accept", [&](auto& id, Step& s) {
          const auto order = orders().find(id);
          set_result(s, orders().accept(id, ctx()));
          if (s.ok && !policy_.allow_negative_available)
            for (const auto& l : order->lines) REQUIRE(inv().level(l.sku)->raw_available() >= 0);
        });
      case 4:
        return on(
            {OrderState::routed, OrderState::accepted, OrderState::picking, OrderState::picked},
            "reject", [&](auto& id, Step& s) {
              set_result(s, orders().reject(id, pick(4) ? "out_of_stock" : "bogus_reason", ctx()));
            });
      case 17:
        return on({OrderState::routed}, "accept_in_part", [&](auto& id, Step& s) {
          // Some lines in part (now and then more than the line has, or none at all).
          const auto o = orders().find(id);
          std::vector<AcceptedLine> lines;
          for (const auto& l : o->lines)
            if (pick(2)) lines.push_back({l.line_no, pick(static_cast<int>(l.quantity) + 2)});
          set_result(s, orders().accept(id, lines, pick(5) ? "out_of_stock" : "", ctx()));
          if (s.ok && !policy_.allow_negative_available)
            for (const auto& l : o->lines) REQUIRE(inv().level(l.sku)->raw_available() >= 0);
        });
      case 18:
        return on({OrderState::accepted, OrderState::routed}, "unaccept",
                  [&](auto& id, Step& s) { set_result(s, orders().unaccept(id, ctx())); });
      case 19: {
        // Packed orders are soon shipped: aim at them mostly, at picked ones (refused) now
        // and then.
        auto unpack = [&](auto& id, Step& s) { set_result(s, orders().unpack(id, ctx())); };
        if (pick(4)) return on({OrderState::packed}, "unpack", unpack);
        return on({OrderState::packed, OrderState::picked}, "unpack", unpack);
      }
      case 5:
        return on({OrderState::accepted}, "start_picking",
                  [&](auto& id, Step& s) { set_result(s, orders().start_picking(id, ctx())); });
      case 6:
      case 7:
        return on({OrderState::picking}, "pick_item", [&](auto& id, Step& s) {
          const auto o = orders().find(id);
          const auto& line =
              o->lines[static_cast<std::size_t>(pick(static_cast<int>(o->lines.size())))];
          const std::string sku = pick(6) ? line.sku : any_sku();
          set_result(s, orders().pick_item(id, sku, 1 + pick(2), ctx()));
        });
      case 8:
        return on(
            {OrderState::accepted, OrderState::picking}, "short_pick", [&](auto& id, Step& s) {
              const auto o = orders().find(id);
              const auto& line =
                  o->lines[static_cast<std::size_t>(pick(static_cast<int>(o->lines.size())))];
              static const char* reasons[] = {"not_found", "damaged", "out_of_stock", "no_reason"};
              set_result(
                  s, orders().short_pick(id, line.line_no, 1 + pick(2), reasons[pick(4)], ctx()));
            });
      case 9:
        return on({OrderState::picking}, "complete_picking",
                  [&](auto& id, Step& s) { set_result(s, orders().complete_picking(id, ctx())); });
      case 10:
        return on({OrderState::picked}, "pack_or_ready", [&](auto& id, Step& s) {
          const auto o = orders().find(id);
          // Pickup orders go to a shelf unpacked (and packing one is refused).
          if (o->method == DeliveryMethod::pickup && pick(8)) {
            static const char* shelves[] = {"", "P-03", " A1 ", "no\tshelf"};
            set_result(s, orders().ready_for_pickup(id, shelves[pick(4)], ctx()));
            return;
          }
          Package p{1, "BOX", 500 + pick(5000), {}};
          for (const auto& l : o->lines)
            if (l.picked > 0) p.items.push_back({l.line_no, l.picked + (pick(10) == 0 ? 1 : 0)});
          set_result(s, orders().pack(id, {p}, ctx()));
        });
      case 11:
        return on({OrderState::packed}, "ship_or_ready", [&](auto& id, Step& s) {
          if (orders().find(id)->method == DeliveryMethod::ship)
            set_result(s, orders().ship(id, "DHL", "JD" + std::to_string(now_), ctx()));
          else
            set_result(s, orders().ready_for_pickup(id, "", ctx()));
        });
      case 12:
        // Now and then the customer is told again, or (a week on, or too early) an order
        // nobody collected goes back to stock.
        if (pick(6) == 0)
          return on(
              {OrderState::ready_for_pickup, OrderState::collected}, "pickup_notice",
              [&](auto& id, Step& s) { set_result(s, orders().send_pickup_notice(id, ctx())); });
        if (pick(8) == 0)
          return on({OrderState::ready_for_pickup}, "return_uncollected", [&](auto& id, Step& s) {
            const std::int64_t later = now_ + (pick(3) ? 8 : 1) * std::int64_t{24 * 3600 * 1000};
            set_result(s, orders().return_uncollected(id, {ctx().actor, later}));
          });
        return on({OrderState::ready_for_pickup}, "collect", [&](auto& id, Step& s) {
          const auto o = orders().find(id);
          if (o->pickup_attempts >= policy_.pickup_code_max_attempts && pick(2)) {
            set_result(s, orders().unlock_pickup(id, ctx()));
            return;
          }
          set_result(s, orders().collect(id, pick(4) ? o->pickup_code : "999999x", ctx()));
        });
      case 13:
        return on({OrderState::routed, OrderState::accepted, OrderState::picking,
                   OrderState::picked, OrderState::packed, OrderState::ready_for_pickup,
                   OrderState::shipped, OrderState::cancelled},
                  "cancel", [&](auto& id, Step& s) {
                    set_result(s, orders().request_cancel(id, "customer changed mind", ctx()));
                  });
      case 14:
        return return_goods();
      case 15:
        return adjust_or_count();
      case 20:
        return count_session();
      default: {
        Step s("expire_overdue");
        const auto routed_before = orders().list(OrderState::routed, 100000).size();
        auto r = orders().expire_overdue(ctx());
        set_result(s, r);
        if (r) {
          s.expected_events = static_cast<std::int64_t>(r->size());
          CHECK(orders().list(OrderState::routed, 100000).size() == routed_before - r->size());
        }
        return s;
      }
    }
  }

  template <class F>
  Step on(std::initializer_list<OrderState> states, const char* name, F&& body) {
    Step s(name);
    auto id = order_in(states);
    if (!id) return receive();
    body(*id, s);
    return s;
  }

  Step receive() {
    Step s("receive");
    std::vector<std::pair<std::string, std::int64_t>> lines;
    const int n = 1 + pick(3);
    for (int i = 0; i < n; ++i)
      lines.push_back({pick(30) ? any_sku() : "NO-SUCH-SKU", 1 + pick(3)});
    auto o =
        fulfil::test::make_order("FO-" + std::to_string(++next_order_),
                                 pick(3) ? DeliveryMethod::ship : DeliveryMethod::pickup, lines);
    o.accept_by = now_ + 60000 + pick(3600000);
    set_result(s, orders().receive(o, ctx()));
    return s;
  }

  Step return_goods() {
    Step s("return");
    ReturnRequest req;
    const auto id = order_in({OrderState::shipped, OrderState::collected});
    if (id && pick(3)) {
      req.order_id = *id;
      const auto o = orders().find(*id);
      const auto& line =
          o->lines[static_cast<std::size_t>(pick(static_cast<int>(o->lines.size())))];
      req.lines.push_back({line.sku, 1 + pick(2), static_cast<Disposition>(pick(3)), "too small"});
    } else {
      req.lines.push_back(
          {any_sku(), 1 + pick(3), static_cast<Disposition>(pick(3)), "no receipt"});
    }
    set_result(s, store_->returns().receive(req, ctx()));
    return s;
  }

  // A count session's step, while orders and adjustments move its SKUs: plan one (now and
  // then overlapping an open one: refused), scan into it (mostly its own SKUs), report none
  // found, submit, recount, approve (the one step with an event) or cancel.
  Step count_session() {
    auto& sessions = store_->count_sessions();
    const auto open = sessions.list(true, 10);
    const auto no_event = [](const char* name) {
      Step s(name);
      s.expected_events = 0;
      return s;
    };
    if (open.empty() || pick(8) == 0) {
      Step s = no_event("count_plan");
      CountPlan plan;
      if (pick(2))
        plan.bins = {"A01-" + std::to_string(1 + pick(4))};
      else
        plan.skus = {any_sku(), any_sku()};
      set_result(s, sessions.plan(plan, ctx()));
      return s;
    }
    const auto id = open[static_cast<std::size_t>(pick(static_cast<int>(open.size())))].id;
    const auto lines = sessions.find(id)->lines;
    // Mostly a line still to count, so sessions get to review and beyond.
    std::vector<std::string> to_count;
    for (const auto& l : lines)
      if (l.open && !l.counted) to_count.push_back(l.sku);
    const auto one_of = [&](const std::vector<std::string>& skus) {
      return skus[static_cast<std::size_t>(pick(static_cast<int>(skus.size())))];
    };
    std::string sku = any_sku();
    if (!to_count.empty() && pick(4))
      sku = one_of(to_count);
    else if (pick(3))
      sku = lines[static_cast<std::size_t>(pick(static_cast<int>(lines.size())))].sku;
    switch (pick(10)) {
      case 0:
      case 1:
      case 2: {
        Step s = no_event("count_scan");
        set_result(s, sessions.scan(id, sku, pick(6), ctx()));  // 0 is refused
        return s;
      }
      case 3:
      case 4: {
        Step s = no_event("count_none_found");
        set_result(s, sessions.none_found(id, sku, ctx()));
        return s;
      }
      case 5:
      case 6: {
        Step s = no_event("count_submit");
        set_result(s, sessions.submit(id, ctx()));
        return s;
      }
      case 7: {
        Step s = no_event("count_recount");
        set_result(s, sessions.recount(id, {sku}, ctx()));
        return s;
      }
      default: {
        if (pick(6) == 0) {
          Step s = no_event("count_cancel");
          set_result(s, sessions.cancel(id, "", ctx()));
          return s;
        }
        Step s("count_approve");
        set_result(s, sessions.approve(id, ctx()));
        return s;
      }
    }
  }

  Step adjust_or_count() {
    if (pick(4) == 0) {
      Step s("count");
      CycleCount c{{}, "aisle count"};
      for (int i = 0; i < 1 + pick(3); ++i) {
        CountEntry e{skus_[static_cast<std::size_t>(i * 7 % kSkus)], pick(8), std::nullopt};
        if (pick(3) == 0) e.unsellable = pick(static_cast<int>(e.on_hand) + 1);
        c.entries.push_back(e);
      }
      set_result(s, inv().post_count(c, ctx()));
      return s;
    }
    Step s("adjust");
    const auto kind = static_cast<AdjustmentKind>(pick(4));
    std::int64_t q = 1 + pick(4);
    if (kind == AdjustmentKind::correction && pick(2)) q = -q;
    set_result(s, inv().adjust({any_sku(), kind, q, "shelf check"}, ctx()));
    return s;
  }
};

unsigned env_seed(unsigned fallback) {
  const char* s = std::getenv("FULFIL_SEED");
  return s ? static_cast<unsigned>(std::strtoul(s, nullptr, 10)) : fallback;
}

// Under qemu-user everything is ~10x slower: fewer steps, same checks.
int steps() {
  return std::getenv("FULFIL_EMULATOR") && *std::getenv("FULFIL_EMULATOR") ? 600 : 2500;
}

}  // namespace

TEST_CASE("random operation sequences keep stock, reservations and outbox consistent") {
  std::map<std::string, int> committed;  // by operation, over every seed
  for (unsigned seed : {env_seed(1u), env_seed(2u), env_seed(3u)}) {
    CAPTURE(seed);
    Simulation sim(seed, OrderPolicy{});
    sim.run(steps());
    sim.reopen_and_check();
    MESSAGE("seed " << seed << ": " << sim.succeeded_ << " committed, " << sim.refused_
                    << " refused");
    CHECK(sim.succeeded_ > steps() / 3);
    CHECK(sim.refused_ > 0);
    for (const auto& [op, n] : sim.committed_) committed[op] += n;
  }
  // The undo operations and a waiting pickup's are reached, not only refused. Checked on
  // the full run only: under qemu a seed runs 600 steps, too few to be sure an order is
  // packed and then unpacked (the invariants above are checked there all the same).
  for (std::string op : {"accept_in_part", "unaccept", "unpack", "reject", "pickup_notice",
                         "return_uncollected", "count_recount", "count_approve", "count_cancel"}) {
    CAPTURE(op);
    MESSAGE(op << ": " << committed[op] << " committed");
    if (steps() >= 2500) CHECK(committed[op] > 0);
  }
}

TEST_CASE("with negative availability allowed, accepting past stock keeps the ledger exact") {
  OrderPolicy policy;
  policy.allow_negative_available = true;
  Simulation sim(env_seed(7u), policy);
  sim.run(steps() / 2);
  sim.reopen_and_check();
  CHECK(sim.succeeded_ > 0);
}
