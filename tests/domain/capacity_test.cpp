// What the store takes: capacity per day, a manager's pause, opening hours. Orders beyond
// any of them are still received (the cloud decides) and flagged; the router hears of each
// change; the default accept-by clock and the overdue pickup's days run only while open.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::ctx;

namespace {

constexpr std::int64_t kMinute = 60 * 1000, kHour = 60 * kMinute, kDay = 24 * kHour;

// The tests read opening hours in UTC, whatever zone the machine is in.
struct UtcZone {
  UtcZone() {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

// 2026-12-05 is a Saturday.
std::int64_t at(int day_of_december, int hour, int minute) {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 11;
  tm.tm_mday = day_of_december;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

// Open 09:00-17:00 Monday to Saturday, closed on Sundays and on 2026-12-08.
OpeningHours weekdays_and_saturday() {
  OpeningHours h;
  for (std::size_t d = 0; d < 6; ++d) h.week[d] = OpeningHours::interval_from("09:00-17:00");
  h.closed_dates = {"2026-12-08"};
  return h;
}

struct Fixture {
  UtcZone utc;
  fulfil::test::TestStore t;
  explicit Fixture(OrderPolicy policy) : t(fulfil::test::open_test_store(std::move(policy))) {
    fulfil::test::seed_catalog(*t, 2, 50);
  }
  StoreCapacity& capacity() { return t->orders().capacity(); }
  FulfilmentOrder receive(const std::string& id, std::int64_t now,
                          DeliveryMethod method = DeliveryMethod::ship) {
    REQUIRE(t->orders().receive(fulfil::test::make_order(id, method, {{"SKU-0001", 1}}), ctx(now)));
    return *t->orders().find(id);
  }
  std::vector<nlohmann::json> changes() {
    std::vector<nlohmann::json> out;
    auto s = t->db().prepare(
        "SELECT payload FROM outbox WHERE type='store.capacity_changed' ORDER BY seq");
    while (s.step()) out.push_back(nlohmann::json::parse(s.text(0)));
    return out;
  }
};

OrderPolicy with_capacity(std::int64_t per_day, OpeningHours hours = OpeningHours::always()) {
  OrderPolicy p;
  p.capacity.orders_per_day = per_day;
  p.capacity.hours = std::move(hours);
  return p;
}

}  // namespace

TEST_CASE("opening hours: the clock runs only while open; closed days and dates are skipped") {
  UtcZone utc;
  const OpeningHours h = weekdays_and_saturday();
  CHECK(h.open_at(at(5, 9, 0)));
  CHECK_FALSE(h.open_at(at(5, 17, 0)));
  CHECK_FALSE(h.open_at(at(6, 12, 0)));  // Sunday
  CHECK_FALSE(h.open_at(at(8, 12, 0)));  // a closed date
  // Saturday 16:50 + 15 minutes of opening time: 10 on Saturday, 5 on Monday.
  CHECK(h.after_open_time(at(5, 16, 50), 15 * kMinute) == at(7, 9, 5));
  // Monday 16:55 + 10 minutes: Tuesday is a closed date, so Wednesday.
  CHECK(h.after_open_time(at(7, 16, 55), 10 * kMinute) == at(9, 9, 5));
  CHECK(h.after_open_time(at(7, 8, 0), 30 * kMinute) == at(7, 9, 30));
  CHECK(OpeningHours::always().after_open_time(at(6, 3, 0), kHour) == at(6, 4, 0));
  CHECK(h.closed_days_between(at(5, 12, 0), at(9, 12, 0)) == 2);
  CHECK_FALSE(OpeningHours::interval_from("17:00-09:00"));
  CHECK(OpeningHours::interval_from("00:00-24:00")->close_minute == 24 * 60);
}

TEST_CASE("capacity per day: the order that fills the day is reported, those beyond flagged") {
  Fixture f(with_capacity(2));
  const std::int64_t morning = at(7, 9, 0);
  CHECK(f.receive("FO-1", morning).capacity_flag.empty());
  CHECK(f.changes().empty());
  CHECK(f.receive("FO-2", morning + kMinute).capacity_flag.empty());
  REQUIRE(f.changes().size() == 1);
  CHECK(f.changes()[0]["change"] == "full");
  CHECK(f.changes()[0]["remaining_today"] == 0);
  CHECK(f.changes()[0]["taking_orders"] == false);
  const auto beyond = f.receive("FO-3", morning + 2 * kMinute);
  CHECK(beyond.capacity_flag == "over_capacity");
  CHECK(beyond.state == OrderState::routed);  // still received: the cloud decides
  CHECK(f.changes().size() == 1);
  auto status = f.capacity().status(morning + 3 * kMinute);
  CHECK(status.routed_today == 3);
  CHECK(*status.remaining_today == 0);
  // A new day, a new count.
  status = f.capacity().status(morning + kDay);
  CHECK(status.routed_today == 0);
  CHECK(*status.remaining_today == 2);
  CHECK(f.receive("FO-4", morning + kDay).capacity_flag.empty());
}

TEST_CASE("a manager's pause: reported, flags what comes meanwhile, ends by resume or time") {
  Fixture f(with_capacity(-1));
  const std::int64_t now = at(7, 10, 0);
  fulfil::test::expect_refused(
      f.t->db(),
      [&] {
        return f.capacity().pause({"bored", "", "", 0, 0}, ctx(now));
      },
      DomainErrc::invalid_argument,
      "pause reason 'bored' is not one of: closing_early, short_staffed, stock_take, "
      "system_problem, other");
  fulfil::test::expect_refused(
      f.t->db(),
      [&] {
        return f.capacity().pause({"other", "", "", 0, now - 1}, ctx(now));
      },
      DomainErrc::invalid_argument, "paused_until must be in the next 7 days");
  fulfil::test::expect_refused(
      f.t->db(),
      [&] {
        return f.capacity().pause({"other", "bad\x01note", "", 0, 0}, ctx(now));
      },
      DomainErrc::invalid_argument, "note");
  fulfil::test::expect_refused(
      f.t->db(), [&] { return f.capacity().resume(ctx(now)); }, DomainErrc::illegal_transition,
      "not paused");
  auto paused = f.capacity().pause({"short_staffed", "two off sick", "", 0, 0}, ctx(now));
  REQUIRE(paused);
  CHECK(paused->pause->paused_by == "terminal:test");
  CHECK(f.receive("FO-1", now + kMinute).capacity_flag == "paused");
  REQUIRE(f.changes().size() == 1);
  CHECK(f.changes()[0]["change"] == "paused");
  CHECK(f.changes()[0]["pause"]["reason"] == "short_staffed");
  CHECK(f.changes()[0]["pause"]["note"] == "two off sick");
  // The pause is kept in the database: a restart keeps it.
  f.t.reopen(with_capacity(-1));
  CHECK(f.capacity().status(now + 2 * kMinute).pause.has_value());
  REQUIRE(f.capacity().resume(ctx(now + 3 * kMinute)));
  CHECK(f.changes().back()["change"] == "resumed");
  CHECK(f.receive("FO-2", now + 4 * kMinute).capacity_flag.empty());
  // Closing early: the pause ends by itself.
  REQUIRE(f.capacity().pause({"closing_early", "", "", 0, now + kHour}, ctx(now + 5 * kMinute)));
  CHECK(f.capacity().status(now + kHour - 1).flag_now == "paused");
  CHECK(f.capacity().status(now + kHour).taking_orders());
}

TEST_CASE("a pause that runs out is reported once, when it ends, and never again after a restart") {
  Fixture f(with_capacity(-1));
  const std::int64_t now = at(7, 10, 0);
  REQUIRE(f.capacity().pause({"closing_early", "", "", 0, now + kHour}, ctx(now)));
  REQUIRE(f.changes().size() == 1);
  const auto before = fulfil::test::fingerprint(f.t->db());
  auto early = f.capacity().end_expired_pause(ctx(now + kHour - 1));
  REQUIRE(early);
  CHECK_FALSE(*early);  // still paused: nothing ends, nothing is said
  CHECK(fulfil::test::fingerprint(f.t->db()) == before);

  auto ended = f.capacity().end_expired_pause(ctx(now + kHour));
  REQUIRE(ended);
  CHECK(*ended);
  REQUIRE(f.changes().size() == 2);
  const auto event = f.changes()[1];
  CHECK(event["change"] == "resumed");
  CHECK(event["cause"] == "pause_expired");
  CHECK(event["paused"] == false);
  CHECK(event["taking_orders"] == true);
  CHECK(event["actor"] == "terminal:test");
  CHECK(fulfil::test::count_rows(f.t->db(), "store_pause") == 0);
  // The pause's end and its event were one commit: after a restart there is nothing left
  // to end, and the sweep says nothing again.
  f.t.reopen(with_capacity(-1));
  auto again = f.capacity().end_expired_pause(ctx(now + 2 * kHour));
  REQUIRE(again);
  CHECK_FALSE(*again);
  CHECK(f.changes().size() == 2);

  // A pause until resumed never runs out; a manager's resume says nothing of a cause.
  REQUIRE(f.capacity().pause({"short_staffed", "", "", 0, 0}, ctx(now + 3 * kHour)));
  CHECK_FALSE(*f.capacity().end_expired_pause(ctx(now + 6 * kDay)));
  REQUIRE(f.capacity().resume(ctx(now + 6 * kDay)));
  CHECK(f.changes().back()["change"] == "resumed");
  CHECK_FALSE(f.changes().back().contains("cause"));
}

TEST_CASE("closed hours: orders are flagged, and the default accept-by clock waits for opening") {
  Fixture f(with_capacity(-1, weekdays_and_saturday()));
  const auto sunday = f.receive("FO-SUN", at(6, 12, 0));
  CHECK(sunday.capacity_flag == "closed");
  // Routed on a Sunday: the 15 minutes start at Monday's opening.
  CHECK(sunday.accept_by == at(7, 9, 15));
  const auto monday = f.receive("FO-MON", at(7, 12, 0));
  CHECK(monday.capacity_flag.empty());
  CHECK(monday.accept_by == at(7, 12, 15));
}

TEST_CASE("an uncollected pickup's days before it is overdue skip the days the store is closed") {
  OrderPolicy p = with_capacity(-1, weekdays_and_saturday());
  p.return_uncollected_after_ms = 2 * kDay;
  Fixture f(p);
  // Ready Saturday noon; Sunday and Tuesday (a closed date) do not count.
  const std::int64_t ready = at(5, 12, 0);
  CHECK_FALSE(f.t->orders().uncollected_overdue(OrderState::ready_for_pickup, ready, at(7, 12, 1)));
  CHECK_FALSE(f.t->orders().uncollected_overdue(OrderState::ready_for_pickup, ready, at(8, 12, 1)));
  CHECK(f.t->orders().uncollected_overdue(OrderState::ready_for_pickup, ready, at(9, 12, 1)));
  // Open every day: overdue two days after it was made ready.
  Fixture always(with_capacity(-1));
  OrderPolicy two_days;
  two_days.return_uncollected_after_ms = 2 * kDay;
  always.t->orders().set_policy(two_days);
  CHECK(always.t->orders().uncollected_overdue(OrderState::ready_for_pickup, ready, at(7, 12, 1)));
}
