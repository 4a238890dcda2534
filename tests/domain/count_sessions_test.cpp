// Count sessions: planned by bins or SKUs, counted blind by several associates, reviewed
// against the stock the books held when each line was counted (so what moved after a
// shelf was counted is no variance), recounted, approved into the ledger or cancelled;
// refusals change nothing; a session survives a restart.
#include <doctest/doctest.h>

#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;
using fulfil::test::kT0;

namespace {

// Bins: JKT-1 A03-1, JKT-2 A03-2, TEE-1 A04-1, CAP-1 B05-1, each 10 on hand.
struct Fixture : fulfil::test::StoreChecks<Fixture> {
  fulfil::test::TestStore t = fulfil::test::open_test_store();
  Fixture() {
    int n = 0;
    for (const auto& [sku, bin] : std::vector<std::pair<std::string, std::string>>{
             {"JKT-1", "A03-1"}, {"JKT-2", "A03-2"}, {"TEE-1", "A04-1"}, {"CAP-1", "B05-1"}}) {
      REQUIRE(
          inv().upsert({sku, "Item " + sku, bin, {fulfil::test::sample_gtin13(++n)}, 0}, ctx()));
      REQUIRE(inv().adjust({sku, AdjustmentKind::receipt, 10, "seed"}, ctx()));
    }
  }
  Inventory& inv() { return t->inventory(); }
  CountSessions& sessions() { return t->count_sessions(); }
  std::int64_t on_hand(const std::string& sku) { return inv().level(sku)->on_hand; }
  static std::string code(int n) { return fulfil::test::sample_gtin13(n); }

  CountSession session(std::int64_t id) { return *sessions().find(id); }
  CountLine line(std::int64_t id, const std::string& sku) {
    for (const auto& l : session(id).lines)
      if (l.sku == sku) return l;
    FAIL("no line " << sku);
    return {};
  }
  void no_violations() {
    CHECK(fulfil::test::invariant_violations(t->db()).empty());
    for (const auto* sku : {"JKT-1", "JKT-2", "TEE-1", "CAP-1"})
      CHECK(inv().ledger_totals(sku).on_hand == on_hand(sku));
  }
};

CommandContext associate(const std::string& id, std::int64_t at = kT0) {
  return {Actor{Actor::Kind::terminal, id}, at};
}

std::vector<std::string> skus_of(const CountSession& s) {
  std::vector<std::string> out;
  for (const auto& l : s.lines) out.push_back(l.sku);
  return out;
}

}  // namespace

TEST_CASE("the session's state table: approved and cancelled end it, counting leads to review") {
  CHECK(is_closed(CountSessionState::approved));
  CHECK(is_closed(CountSessionState::cancelled));
  CHECK_FALSE(is_closed(CountSessionState::review));
  CHECK(find_count_session_transition(std::nullopt, CountSessionAction::plan)->to ==
        CountSessionState::counting);
  CHECK(find_count_session_transition(CountSessionState::review, CountSessionAction::recount)->to ==
        CountSessionState::counting);
  CHECK_FALSE(find_count_session_transition(CountSessionState::review, CountSessionAction::scan));
  CHECK_FALSE(
      find_count_session_transition(CountSessionState::counting, CountSessionAction::approve));
  for (const auto& t : count_session_transitions()) {
    CHECK(count_session_state_from(count_session_state_name(t.to)) == t.to);
    if (t.from) CHECK_FALSE(is_closed(*t.from));
  }
  CHECK(count_session_id_from("CS-12") == 12);
  CHECK(count_session_id_from("12") == 12);
  CHECK_FALSE(count_session_id_from("CS-"));
  CHECK_FALSE(count_session_id_from("CS-0"));
  CHECK_FALSE(count_session_id_from("PL-3"));
}

TEST_CASE("a count planned by bin prefix or by SKU lists its SKUs with the stock at the start") {
  Fixture f;
  auto by_bin = f.sessions().plan({{"A03"}, {}, "aisle 3"}, ctx());
  REQUIRE(by_bin);
  CHECK(by_bin->name() == "CS-1");
  CHECK(by_bin->state == CountSessionState::counting);
  CHECK(skus_of(*by_bin) == std::vector<std::string>{"JKT-1", "JKT-2"});
  CHECK(by_bin->lines[0].bin == "A03-1");
  CHECK(by_bin->lines[0].snapshot_on_hand == 10);
  CHECK_FALSE(by_bin->lines[0].counted);
  CHECK(by_bin->plan.bins == std::vector<std::string>{"A03"});
  CHECK(by_bin->note == "aisle 3");
  auto by_sku = f.sessions().plan({{}, {"CAP-1", "TEE-1", "CAP-1"}, ""}, ctx());
  REQUIRE(by_sku);
  CHECK(skus_of(*by_sku) == std::vector<std::string>{"TEE-1", "CAP-1"});  // by bin
  auto listed = f.sessions().list(true, 10);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].name() == "CS-2");
  CHECK(listed[1].lines == 2);
  CHECK(listed[1].counted_lines == 0);
}

TEST_CASE("two associates count one session; each scan is audited with its actor") {
  Fixture f;
  auto s = f.sessions().plan({{"A03"}, {}, ""}, ctx());
  REQUIRE(s);
  REQUIRE(f.sessions().scan(s->id, Fixture::code(1), 1, associate("T-anna")));
  REQUIRE(f.sessions().scan(s->id, Fixture::code(1), 1, associate("T-ben")));
  auto multiple = f.sessions().scan(s->id, Fixture::code(1), 5, associate("T-anna"));
  REQUIRE(multiple);
  CHECK(multiple->counted == 7);
  CHECK(multiple->counted_by == "terminal:T-anna");
  // A SKU typed in counts as its barcode does.
  auto typed = f.sessions().scan(s->id, "JKT-2", 10, associate("T-ben"));
  REQUIRE(typed);
  CHECK(typed->counted == 10);
  auto scans = f.t->db().prepare(
      "SELECT actor, quantity FROM count_scan WHERE session_id=? AND sku='JKT-1' ORDER BY id");
  scans.bind(1, s->id);
  std::vector<std::pair<std::string, std::int64_t>> seen;
  while (scans.step()) seen.emplace_back(scans.text(0), scans.int64(1));
  CHECK(seen == std::vector<std::pair<std::string, std::int64_t>>{
                    {"terminal:T-anna", 1}, {"terminal:T-ben", 1}, {"terminal:T-anna", 5}});
  CHECK(f.session(s->id).counted_lines() == 2);
}

TEST_CASE("what moves before a line is counted is expected; what moves after is no variance") {
  Fixture f;
  auto s = f.sessions().plan({{"A03"}, {}, ""}, ctx());
  REQUIRE(s);
  // JKT-1: 2 sold before the shelf is counted. The shelf holds 8 and 8 are counted.
  REQUIRE(f.inv().adjust({"JKT-1", AdjustmentKind::correction, -2, "picked"}, ctx()));
  REQUIRE(f.sessions().scan(s->id, "JKT-1", 8, associate("T-anna")));
  // JKT-2: counted at 9 (one missing), then 3 picked after its count.
  REQUIRE(f.sessions().scan(s->id, "JKT-2", 9, associate("T-ben")));
  REQUIRE(f.inv().adjust({"JKT-2", AdjustmentKind::correction, -3, "picked"}, ctx()));
  // And a receipt for JKT-1 after its count: no variance either.
  REQUIRE(f.inv().adjust({"JKT-1", AdjustmentKind::receipt, 4, "delivery"}, ctx()));
  REQUIRE(f.sessions().submit(s->id, ctx()));
  auto j1 = f.line(s->id, "JKT-1");
  CHECK(j1.snapshot_on_hand == 10);
  CHECK(j1.moved_before_count == -2);
  CHECK(j1.expected() == 8);
  CHECK(j1.variance() == 0);
  CHECK(j1.moved_after_count == 4);
  CHECK(j1.on_hand_now() == 12);
  REQUIRE(j1.movements.size() == 2);
  CHECK_FALSE(j1.movements[0].after_count);
  CHECK(j1.movements[0].kind == "correction");
  CHECK(j1.movements[1].after_count);
  CHECK(j1.movements[1].delta == 4);
  auto j2 = f.line(s->id, "JKT-2");
  CHECK(j2.expected() == 10);
  CHECK(j2.variance() == -1);
  CHECK(j2.moved_after_count == -3);

  auto approved = f.sessions().approve(s->id, associate("M-1"));
  REQUIRE(approved);
  CHECK(approved->state == CountSessionState::approved);
  CHECK(approved->closed_by == "terminal:M-1");
  // Exactly the differences: JKT-1 keeps its 12, JKT-2 loses the missing one (10-3-1).
  CHECK(f.on_hand("JKT-1") == 12);
  CHECK(f.on_hand("JKT-2") == 6);
  CHECK(f.line(s->id, "JKT-1").posted_delta == 0);
  CHECK(f.line(s->id, "JKT-2").posted_delta == -1);
  // The review's movements stop where the session ended: its own posting is not one.
  CHECK(f.line(s->id, "JKT-2").movements.size() == 1);
  auto event = f.last_event("stock.counted");
  CHECK(event["count_session"] == "CS-1");
  CHECK(event["note"] == "count session CS-1");
  CHECK(event["actor"] == "terminal:M-1");
  REQUIRE(event["differences"].size() == 2);
  CHECK(event["differences"][1] ==
        nlohmann::json{{"sku", "JKT-2"}, {"on_hand_delta", -1}, {"unsellable_delta", 0}});
  REQUIRE(event["movements"].size() == 1);
  CHECK(event["movements"][0]["reason"] == "count session CS-1");
  f.no_violations();
}

TEST_CASE("a recount clears the lines sent back; only they take scans; approving posts them") {
  Fixture f;
  auto s = f.sessions().plan({{}, {"JKT-1", "TEE-1"}, "spot check"}, ctx());
  REQUIRE(s);
  REQUIRE(f.sessions().scan(s->id, "JKT-1", 3, ctx()));
  REQUIRE(f.sessions().none_found(s->id, "TEE-1", ctx()));
  REQUIRE(f.sessions().submit(s->id, ctx()));
  CHECK(f.line(s->id, "TEE-1").variance() == -10);
  auto back = f.sessions().recount(s->id, {"TEE-1"}, ctx());
  REQUIRE(back);
  CHECK(back->state == CountSessionState::counting);
  CHECK_FALSE(f.line(s->id, "TEE-1").counted);
  CHECK(f.line(s->id, "TEE-1").round == 2);
  CHECK(f.line(s->id, "JKT-1").counted == 3);
  f.refused([&] { return f.sessions().scan(s->id, "JKT-1", 1, ctx()); },
            DomainErrc::illegal_transition, "only the lines sent back");
  REQUIRE(f.sessions().scan(s->id, "TEE-1", 10, ctx()));
  REQUIRE(f.sessions().submit(s->id, ctx()));
  REQUIRE(f.sessions().approve(s->id, ctx()));
  CHECK(f.on_hand("TEE-1") == 10);
  CHECK(f.on_hand("JKT-1") == 3);
  CHECK(f.last_event("stock.counted")["note"] == "count session CS-1: spot check");
  f.no_violations();
}

TEST_CASE("refusals say why and change nothing") {
  Fixture f;
  f.refused(
      [&] {
        return f.sessions().plan({{}, {}, ""}, ctx());
      },
      DomainErrc::invalid_argument, "bins or SKUs");
  f.refused(
      [&] {
        return f.sessions().plan({{"Z9"}, {}, ""}, ctx());
      },
      DomainErrc::invalid_argument, "no SKU is in a bin starting with 'Z9'");
  f.refused(
      [&] {
        return f.sessions().plan({{}, {"NOPE"}, ""}, ctx());
      },
      DomainErrc::unknown_sku, "NOPE");
  f.refused(
      [&] {
        return f.sessions().plan({{"A0\x01"}, {}, ""}, ctx());
      },
      DomainErrc::invalid_argument, "bins");
  auto s = f.sessions().plan({{"A03"}, {}, ""}, ctx());
  REQUIRE(s);
  f.refused(
      [&] {
        return f.sessions().plan({{}, {"JKT-2"}, ""}, ctx());
      },
      DomainErrc::duplicate, "JKT-2 is already being counted in CS-1");
  f.refused([&] { return f.sessions().scan(s->id, "4006381333932", 1, ctx()); },
            DomainErrc::unknown_sku, "not in this store's catalog");
  f.refused([&] { return f.sessions().scan(s->id, "CAP-1", 1, ctx()); },
            DomainErrc::invalid_argument, "CAP-1 is not on count CS-1 (its bin is B05-1)");
  for (std::int64_t q : {0, -1, 10001})
    f.refused([&] { return f.sessions().scan(s->id, "JKT-1", q, ctx()); },
              DomainErrc::invalid_argument, "quantity must be 1 to 10000");
  f.refused([&] { return f.sessions().scan(99, "JKT-1", 1, ctx()); }, DomainErrc::not_found,
            "no count session CS-99");
  f.refused([&] { return f.sessions().approve(s->id, ctx()); }, DomainErrc::illegal_transition,
            "still being counted");
  f.refused([&] { return f.sessions().recount(s->id, {"JKT-1"}, ctx()); },
            DomainErrc::illegal_transition, "still being counted");
  REQUIRE(f.sessions().scan(s->id, "JKT-1", 2, ctx()));
  f.refused([&] { return f.sessions().submit(s->id, ctx()); }, DomainErrc::invalid_argument,
            "1 line is not counted yet: JKT-2 (A03-2)");
  f.refused([&] { return f.sessions().none_found(s->id, "JKT-1", ctx()); },
            DomainErrc::invalid_argument, "already has units counted");
  REQUIRE(f.sessions().none_found(s->id, "JKT-2", ctx()));
  REQUIRE(f.sessions().submit(s->id, ctx()));
  f.refused([&] { return f.sessions().scan(s->id, "JKT-1", 1, ctx()); },
            DomainErrc::illegal_transition, "CS-1 is in review");
  f.refused([&] { return f.sessions().submit(s->id, ctx()); }, DomainErrc::illegal_transition,
            "cannot submit");
  f.refused([&] { return f.sessions().recount(s->id, {"CAP-1"}, ctx()); },
            DomainErrc::invalid_argument, "CAP-1 is not on count CS-1");
  f.refused([&] { return f.sessions().recount(s->id, {}, ctx()); }, DomainErrc::invalid_argument,
            "at least one SKU");
  REQUIRE(f.sessions().cancel(s->id, "wrong aisle", ctx()));
  CHECK(f.session(s->id).cancel_reason == "wrong aisle");
  CHECK(f.on_hand("JKT-1") == 10);
  f.refused([&] { return f.sessions().scan(s->id, "JKT-1", 1, ctx()); },
            DomainErrc::illegal_transition, "CS-1 is cancelled");
  f.refused([&] { return f.sessions().approve(s->id, ctx()); }, DomainErrc::illegal_transition,
            "CS-1 is cancelled");
  f.refused([&] { return f.sessions().cancel(s->id, "", ctx()); }, DomainErrc::illegal_transition,
            "CS-1 is cancelled");
  // Once cancelled its SKUs may be counted again.
  CHECK(f.sessions().plan({{}, {"JKT-2"}, ""}, ctx()));
  f.no_violations();
}

TEST_CASE("a session survives a restart mid-count, with its counts and ledger positions") {
  Fixture f;
  auto s = f.sessions().plan({{"A03"}, {}, ""}, ctx());
  REQUIRE(s);
  REQUIRE(f.sessions().scan(s->id, "JKT-1", 4, associate("T-anna")));
  REQUIRE(f.inv().adjust({"JKT-1", AdjustmentKind::correction, -1, "picked"}, ctx()));
  f.t.reopen();
  auto after = f.session(s->id);
  CHECK(after.state == CountSessionState::counting);
  CHECK(f.line(s->id, "JKT-1").counted == 4);
  CHECK(f.line(s->id, "JKT-1").moved_after_count == -1);
  REQUIRE(f.sessions().scan(s->id, "JKT-2", 10, associate("T-ben")));
  REQUIRE(f.sessions().scan(s->id, "JKT-1", 5, associate("T-anna")));  // now 9, after the pick
  f.t.reopen();
  REQUIRE(f.sessions().submit(s->id, ctx()));
  CHECK(f.line(s->id, "JKT-1").expected() == 9);
  CHECK(f.line(s->id, "JKT-1").variance() == 0);
  REQUIRE(f.sessions().approve(s->id, ctx()));
  CHECK(f.on_hand("JKT-1") == 9);
  f.no_violations();
}

TEST_CASE("units found missing after later sales stop at zero; unsellable shrinks with them") {
  Fixture f;
  REQUIRE(f.inv().adjust({"JKT-1", AdjustmentKind::damage, 2, "torn"}, ctx()));
  auto s = f.sessions().plan({{}, {"JKT-1"}, ""}, ctx());
  REQUIRE(s);
  REQUIRE(f.sessions().scan(s->id, "JKT-1", 3, ctx()));  // 7 missing
  REQUIRE(f.inv().adjust({"JKT-1", AdjustmentKind::correction, -8, "sold"}, ctx()));
  REQUIRE(f.sessions().submit(s->id, ctx()));
  CHECK(f.line(s->id, "JKT-1").variance() == -7);
  REQUIRE(f.sessions().approve(s->id, ctx()));
  CHECK(f.on_hand("JKT-1") == 0);
  CHECK(f.inv().level("JKT-1")->unsellable == 0);
  CHECK(f.line(s->id, "JKT-1").posted_delta == -2);
  f.no_violations();
}
