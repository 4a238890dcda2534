// Power cuts at random I/O calls (issue 14). kill -9 keeps the page cache; a power cut
// does not. The store runs through a VFS that forgets whatever was not synced
// (tests/support/power_loss_vfs.hpp): a seeded random mix of the real domain commands
// (orders routed through the cloud feed's inbox, accepted, picked and short-picked,
// packed, shipped or collected, returns, adjustments, count sessions, events marked sent
// as the cloud link does), the power cut at a random write, truncate or sync, then the
// database reopened by Store::open, the normal start-up path. After every cut:
//  - integrity_check is ok; on_hand and unsellable equal the ledger, reservations the
//    open orders (test_support's invariant checks);
//  - the database is exactly as it was after the last command that returned, or as the
//    page cache held it at the cut (the command under way committed): nothing a command
//    was told is lost, nothing is applied twice; a command told "done" is never lost;
//  - every outbox event seen before the cut is there with its sequence number and id,
//    one per acknowledged transition, and the next event numbers above all of them;
//  - the store still works: one more command succeeds.
// FULFIL_POWER_CUTS sets the number of cuts, FULFIL_SEED replays one seed (printed on
// failure).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "child_process.hpp"
#include "config/clock.hpp"
#include "domain/cloud_commands.hpp"
#include "domain/order_codec.hpp"
#include "power_loss_vfs.hpp"
#include "test_support.hpp"

using namespace fulfil::agent;
using fulfil::test::PowerLossVfs;

namespace {

constexpr int kSkus = 12;
constexpr int kOpsPerRun = 30;        // a cut is chosen among the I/O calls this many make
constexpr int kCutsPerDatabase = 25;  // then a fresh database, so the checks stay cheap

struct Op {
  explicit Op(std::string n = "", std::int64_t e = 1) : name(std::move(n)), events(e) {}
  std::string name;
  bool ok = false;
  std::string message;
  std::int64_t events;   // outbox events it writes when it succeeds
  std::string order_id;  // the order it moves, if any
};

template <class T>
void set_result(Op& op, const Result<T>& r) {
  op.ok = r.has_value();
  if (!r) op.message = r.error().message;
}

struct Totals {
  int cuts = 0;
  int ops = 0;
  int in_flight_committed = 0;  // the command under way at the cut survived it
  int in_flight_told_done = 0;  // ... and had returned success (its commit was synced)
  std::size_t writes_lost = 0;
  std::map<std::string, int> cut_at;     // which call the power went at
  std::map<std::string, int> succeeded;  // commands that returned success, by name
};

std::string listed(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [name, n] : counts)
    out += (out.empty() ? "" : ", ") + name + " " + std::to_string(n);
  return out;
}

// Where two fingerprints first differ: the table, and the row on each side.
std::string first_difference(const std::string& before, const std::string& after) {
  std::istringstream a(before), b(after);
  std::string line_a, line_b, table;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(a, line_a));
    const bool more_b = static_cast<bool>(std::getline(b, line_b));
    if (!more_a && !more_b) return "no difference";
    if (!more_a) line_a = "(nothing)";
    if (!more_b) line_b = "(nothing)";
    if (line_a != line_b || !more_a || !more_b)
      return "table " + table + ": before the cut \"" + line_a + "\", after it \"" + line_b + "\"";
    if (line_a.starts_with("## ")) table = line_a.substr(3);
  }
}

class PowerCuts {
 public:
  PowerCuts(unsigned seed, PowerLossVfs& vfs, Totals& totals)
      : rng_(seed), vfs_(vfs), totals_(totals) {}

  // A fresh database: catalog, stock, and a first run without a cut that measures how
  // many I/O calls a run makes.
  void start_database() {
    store_.reset();
    if (dir_) vfs_.forget(dir_->path());
    dir_ = std::make_unique<fulfil::test::TempDir>();
    applied_commands_.clear();
    events_seen_.clear();
    order_states_.clear();
    open();
    skus_ = fulfil::test::seed_catalog(*store_, kSkus, 20);
    baseline();
    const auto before = vfs_.io_count();
    for (int i = 0; i < kOpsPerRun; ++i) after(random_op());
    writes_per_run_ = std::max<std::uint64_t>(1, vfs_.io_count() - before);
  }

  void power_cut() {
    vfs_.cut_at(vfs_.io_count() + 1 + rng_() % writes_per_run_);
    Op in_flight;
    for (int ops = 0;; ++ops) {
      REQUIRE_MESSAGE(ops < 50 * kOpsPerRun, "the cut never came");
      Op op = random_op();
      ++totals_.ops;
      if (vfs_.cut()) {
        in_flight = op;
        break;
      }
      after(op);
    }
    CAPTURE(in_flight.name);
    CAPTURE(in_flight.ok);
    CAPTURE(in_flight.message);
    const std::string cut_call = vfs_.cut_call();
    CAPTURE(cut_call);
    ++totals_.cut_at[cut_call];
    store_.reset();
    const std::string page_cache = page_cache_fingerprint();
    const auto loss = static_cast<PowerLossVfs::Loss>(rng_() % 4);
    CAPTURE(static_cast<int>(loss));
    totals_.writes_lost += vfs_.restore(loss, rng_);
    open();
    check_after_cut(in_flight, page_cache);
    ++totals_.cuts;
  }

 private:
  std::mt19937 rng_;
  PowerLossVfs& vfs_;
  Totals& totals_;
  std::unique_ptr<fulfil::test::TempDir> dir_;
  std::unique_ptr<Store> store_;
  std::vector<std::string> skus_;
  std::uint64_t writes_per_run_ = 1;
  std::int64_t now_ = fulfil::test::kT0;
  int next_order_ = 0;
  std::vector<FeedCommand> applied_commands_;
  // What the last command that returned before the cut left, all of it durable.
  std::string fingerprint_;
  std::int64_t events_ = 0;
  std::map<std::int64_t, std::string> events_seen_;  // seq -> event_id
  std::map<std::string, OrderState> order_states_;

  std::string db_path() const { return dir_->path() + "/fulfild.db"; }
  Database& db() { return store_->db(); }
  FulfilmentOrders& orders() { return store_->orders(); }
  CommandContext ctx() const { return {{Actor::Kind::terminal, "power"}, now_}; }
  std::size_t pick(std::size_t n) { return rng_() % n; }

  void open() {
    auto opened = Store::open({db_path(), "quick", 1000, vfs_.name()}, OrderPolicy{});
    REQUIRE_MESSAGE(opened.has_value(), opened.error().message);
    store_ = std::move(*opened);
  }

  // The state as the page cache held it at the cut: a copy of the files, opened with
  // SQLite's own VFS (it recovers the WAL as a restart after kill -9 would).
  std::string page_cache_fingerprint() {
    const std::string copy = dir_->path() + "/page-cache.db";
    namespace fs = std::filesystem;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(copy + suffix);
    for (const char* suffix : {"", "-wal"})
      if (fs::exists(db_path() + suffix)) fs::copy_file(db_path() + suffix, copy + suffix);
    auto opened = open_without_migrating(copy);
    REQUIRE_MESSAGE(opened.has_value(), opened.error().message);
    return fulfil::test::fingerprint(**opened);
  }

  std::vector<std::pair<std::int64_t, std::string>> events_after(std::int64_t seq) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    auto s = db().prepare("SELECT seq, event_id FROM outbox WHERE seq > ? ORDER BY seq");
    s.bind(1, seq);
    while (s.step()) out.emplace_back(s.int64(0), s.text(1));
    return out;
  }

  // Everything now in the database is durable: the checks after the next cut start here.
  void baseline() {
    fingerprint_ = fulfil::test::fingerprint(db());
    events_ = fulfil::test::count_rows(db(), "outbox");
    const std::int64_t last = events_seen_.empty() ? 0 : events_seen_.rbegin()->first;
    for (const auto& [seq, id] : events_after(last)) events_seen_[seq] = id;
  }

  // A command returned before the cut: it wrote its events, or (refused) nothing.
  void after(const Op& op) {
    CAPTURE(op.name);
    CAPTURE(op.message);
    REQUIRE_FALSE(vfs_.cut());
    const auto events = fulfil::test::count_rows(db(), "outbox");
    CHECK(events - events_ == (op.ok ? op.events : 0));
    if (op.ok) ++totals_.succeeded[op.name];
    if (op.ok && !op.order_id.empty())
      order_states_[op.order_id] = orders().find(op.order_id)->state;
    const auto violations = fulfil::test::invariant_violations(db());
    REQUIRE_MESSAGE(violations.empty(), violations.front());
    baseline();
  }

  void check_after_cut(const Op& in_flight, const std::string& page_cache) {
    auto integrity = db().prepare("PRAGMA integrity_check");
    REQUIRE(integrity.step());
    REQUIRE(integrity.text(0) == "ok");
    const auto violations = fulfil::test::invariant_violations(db());
    REQUIRE_MESSAGE(violations.empty(), violations.front());

    const std::string now = fulfil::test::fingerprint(db());
    const bool committed = now != fingerprint_;
    // The command under way committed in full or not at all; told "done", it committed.
    // Compared as booleans: the fingerprints are the whole database, too long to print.
    const bool as_cached = now == page_cache;
    if (committed)
      REQUIRE_MESSAGE(as_cached, "neither the state before the command under way nor after it: "
                                     << first_difference(fingerprint_, now));
    if (in_flight.ok) REQUIRE_MESSAGE(committed, "a command told done was lost");
    if (committed) ++totals_.in_flight_committed;
    if (in_flight.ok) ++totals_.in_flight_told_done;

    // Every event seen before the cut, under its number; at most the one command's more.
    const auto events = fulfil::test::count_rows(db(), "outbox");
    if (!committed) CHECK(events == events_);
    CHECK(events - events_ >= 0);
    CHECK(events - events_ <= 1);
    std::map<std::int64_t, std::string> present;
    for (const auto& [seq, id] : events_after(0)) present[seq] = id;
    for (const auto& seen : events_seen_) {
      CAPTURE(seen.first);
      auto it = present.find(seen.first);
      REQUIRE_MESSAGE(it != present.end(), "an acknowledged event is gone");
      REQUIRE(it->second == seen.second);
    }
    for (const auto& order : order_states_) {
      if (committed && order.first == in_flight.order_id) continue;
      CAPTURE(order.first);
      CHECK(orders().find(order.first)->state == order.second);
    }
    if (committed && !in_flight.order_id.empty())
      order_states_[in_flight.order_id] = orders().find(in_flight.order_id)->state;
    baseline();

    // The store still works, and numbers its next event above every one before.
    const std::int64_t highest = events_seen_.empty() ? 0 : events_seen_.rbegin()->first;
    Op more("adjust after the cut");
    set_result(more, store_->inventory().adjust(
                         {skus_[pick(skus_.size())], AdjustmentKind::receipt, 1, "after"}, ctx()));
    REQUIRE_MESSAGE(more.ok, more.message);
    after(more);
    REQUIRE(events_seen_.rbegin()->first > highest);
  }

  std::optional<std::string> order_in(std::initializer_list<OrderState> states) {
    std::vector<std::string> ids;
    for (auto st : states)
      for (const auto& o : orders().list(st, 10000)) ids.push_back(o.id);
    if (ids.empty()) return std::nullopt;
    return ids[pick(ids.size())];
  }

  // One command, chosen at random; a storage failure (the cut) is its answer too.
  Op random_op() {
    now_ += 1 + static_cast<std::int64_t>(pick(60000));
    try {
      return chosen_op();
    } catch (const StorageFailure& e) {
      Op op("read at the cut");
      op.message = e.what();
      return op;
    }
  }

  template <class F>
  Op on(std::initializer_list<OrderState> states, const char* name, F&& body) {
    Op op(name);
    auto id = order_in(states);
    if (!id) return route();
    op.order_id = *id;
    body(*id, op);
    return op;
  }

  Op chosen_op() {
    switch (pick(20)) {
      case 0:
      case 1:
      case 2:
        return pick(8) == 0 && !applied_commands_.empty() ? redeliver() : route();
      case 3:
      case 4:
        return on({OrderState::routed}, "accept",
                  [&](auto& id, Op& op) { set_result(op, orders().accept(id, ctx())); });
      case 5:
        return on({OrderState::accepted}, "start_picking",
                  [&](auto& id, Op& op) { set_result(op, orders().start_picking(id, ctx())); });
      case 6:
      case 7:
      case 8:
        return on({OrderState::picking}, "pick_item", [&](auto& id, Op& op) {
          const auto o = orders().find(id);
          const auto& line = o->lines[pick(o->lines.size())];
          const auto qty = std::max<std::int64_t>(1, line.open());
          set_result(op, orders().pick_item(id, line.sku, qty, ctx()));
        });
      case 9:
        return on({OrderState::picking}, "short_pick", [&](auto& id, Op& op) {
          const auto o = orders().find(id);
          const auto& line = o->lines[pick(o->lines.size())];
          set_result(op, orders().short_pick(id, line.line_no, 1, pick(2) ? "not_found" : "damaged",
                                             ctx()));
        });
      case 10:
        return on({OrderState::picking}, "complete_picking",
                  [&](auto& id, Op& op) { set_result(op, orders().complete_picking(id, ctx())); });
      case 11:
        return on({OrderState::picked}, "pack_or_shelve", [&](auto& id, Op& op) {
          const auto o = orders().find(id);
          if (o->method == DeliveryMethod::pickup) {
            set_result(op, orders().ready_for_pickup(id, "P-01", ctx()));
            return;
          }
          Package p{1, "BOX", 900, {}};
          for (const auto& l : o->lines)
            if (l.picked > 0) p.items.push_back({l.line_no, l.picked});
          set_result(op, orders().pack(id, {p}, ctx()));
        });
      case 12:
        return on({OrderState::packed}, "ship", [&](auto& id, Op& op) {
          set_result(op, orders().ship(id, "DHL", "JD" + std::to_string(now_), ctx()));
        });
      case 13:
        return on({OrderState::ready_for_pickup}, "collect", [&](auto& id, Op& op) {
          set_result(op, orders().collect(id, orders().find(id)->pickup_code, ctx()));
        });
      case 14:
        return give_back();
      case 15: {
        Op op("adjust");
        const bool receipt = pick(2);
        set_result(op, store_->inventory().adjust(
                           {skus_[pick(skus_.size())],
                            receipt ? AdjustmentKind::receipt : AdjustmentKind::correction,
                            receipt ? 1 + static_cast<std::int64_t>(pick(5)) : -1, "shelf"},
                           ctx()));
        return op;
      }
      case 16:
        return count_session();
      case 17:
        return on({OrderState::routed, OrderState::accepted}, "cancel", [&](auto& id, Op& op) {
          set_result(op, orders().request_cancel(id, "customer changed mind", ctx()));
        });
      default:
        return mark_sent();
    }
  }

  // An order routed by the cloud, applied from the feed (inbox, cursor, event at once).
  Op route() {
    std::vector<std::pair<std::string, std::int64_t>> lines;
    for (std::size_t i = 0, n = 1 + pick(3); i < n; ++i)
      lines.push_back({skus_[pick(skus_.size())], 1 + static_cast<std::int64_t>(pick(3))});
    const std::string id = "FO-" + std::to_string(++next_order_);
    auto order = fulfil::test::make_order(
        id, pick(3) ? DeliveryMethod::ship : DeliveryMethod::pickup, lines);
    order.accept_by = now_ + 3'600'000;
    FeedCommand cmd{"cmd-" + id, "order.routed", "cursor-" + id, now_, routed_order_json(order)};
    Op op("route");
    op.order_id = id;
    CloudCommands commands(*store_);
    auto r = commands.apply(cmd, now_);
    set_result(op, r);
    if (r) {
      REQUIRE(r->outcome == CommandOutcome::applied);
      applied_commands_.push_back(cmd);
    }
    return op;
  }

  // The feed delivers a command again (its page was not acknowledged): nothing happens.
  Op redeliver() {
    Op op("redeliver", 0);
    CloudCommands commands(*store_);
    auto r = commands.apply(applied_commands_[pick(applied_commands_.size())], now_);
    set_result(op, r);
    if (r) CHECK(r->outcome == CommandOutcome::duplicate);
    return op;
  }

  Op give_back() {
    Op op("return");
    const auto id = order_in({OrderState::shipped, OrderState::collected});
    if (!id) return route();
    const auto o = orders().find(*id);
    const auto& line = o->lines[pick(o->lines.size())];
    ReturnRequest req{
        *id,
        {{line.sku, 1, pick(2) ? Disposition::restock : Disposition::unsellable, "too small"}},
        ""};
    set_result(op, store_->returns().receive(req, ctx()));
    return op;
  }

  // The cloud acknowledged a batch: the link marks it sent (no event of its own).
  Op mark_sent() {
    Op op("mark_sent", 0);
    std::vector<std::string> ids;
    for (const auto& e : store_->outbox().pending(1 + pick(8))) ids.push_back(e.event_id);
    try {
      store_->outbox().mark_sent(ids, now_);
      op.ok = true;
    } catch (const StorageFailure& e) {
      op.message = e.what();
    }
    return op;
  }

  // Plan, count every line, submit, approve: one step per call, the approval the one with
  // an event.
  Op count_session() {
    auto& sessions = store_->count_sessions();
    const auto open = sessions.list(true, 10);
    if (open.empty()) {
      Op op("count_plan", 0);
      CountPlan plan;
      plan.skus = {skus_[pick(skus_.size())]};
      set_result(op, sessions.plan(plan, ctx()));
      return op;
    }
    const auto session = *sessions.find(open.front().id);
    for (const auto& line : session.lines) {
      if (line.counted) continue;
      Op op("count_scan", 0);
      set_result(
          op, sessions.scan(session.id, line.sku, 1 + static_cast<std::int64_t>(pick(20)), ctx()));
      return op;
    }
    if (session.submitted_at == 0) {
      Op op("count_submit", 0);
      set_result(op, sessions.submit(session.id, ctx()));
      return op;
    }
    Op op("count_approve");
    set_result(op, sessions.approve(session.id, ctx()));
    return op;
  }
};

// Event ids shape the outbox's index, and so how many writes a commit makes: seeded, a
// run replays exactly. Real randomness again afterwards, even when a check failed.
struct SeededUuids {
  explicit SeededUuids(unsigned seed) { fulfil::config::seed_uuids_for_testing(seed); }
  ~SeededUuids() { fulfil::config::seed_uuids_for_testing(std::nullopt); }
  SeededUuids(const SeededUuids&) = delete;
  SeededUuids& operator=(const SeededUuids&) = delete;
};

unsigned seed_for_run() {
  if (const char* s = std::getenv("FULFIL_SEED"))
    return static_cast<unsigned>(std::strtoul(s, nullptr, 10));
  return std::random_device{}();
}

// Well under a minute natively; under qemu-user and the sanitizers everything is slower,
// so fewer cuts, the same checks.
int cuts_for_run() {
  if (const char* n = std::getenv("FULFIL_POWER_CUTS")) return std::atoi(n);
#ifdef FULFIL_SANITIZED
  constexpr int kCuts = 50;
#else
  constexpr int kCuts = 150;
#endif
  return fulfil::test::emulated() ? std::max(25, kCuts / fulfil::test::slowdown()) : kCuts;
}

}  // namespace

TEST_CASE("power cuts at random I/O lose nothing acknowledged and apply nothing twice") {
  const unsigned seed = seed_for_run();
  const int cuts = cuts_for_run();
  CAPTURE(seed);
  const SeededUuids uuids(seed);
  PowerLossVfs vfs;
  Totals totals;
  PowerCuts run(seed, vfs, totals);
  const auto started = std::chrono::steady_clock::now();
  for (int cut = 0; cut < cuts; ++cut) {
    CAPTURE(cut);
    if (cut % kCutsPerDatabase == 0) run.start_database();
    run.power_cut();
  }
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  MESSAGE("seed " << seed << ": " << totals.cuts << " power cuts in " << seconds << " s, "
                  << totals.ops << " commands, " << totals.writes_lost
                  << " unsynced writes lost or torn; the command under way survived "
                  << totals.in_flight_committed << " cuts (" << totals.in_flight_told_done
                  << " of them told done)\ncut at: " << listed(totals.cut_at)
                  << "\nsucceeded: " << listed(totals.succeeded));
  CHECK(totals.cuts == cuts);
}
