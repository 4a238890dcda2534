// Year benchmark: ages a store through a simulated year of a busy store's traffic, driven
// through the real domain services with a simulated clock, and measures the real fulfild
// daemon on copies of its database at day 1, 180 and 365 of the same run. Prints one
// table, each figure's day-365/day-1 ratio against the 1.5x goal, the database size along
// the year, and the row counts of every table (what grows without bound).
//   bench_year WORK_DIR [ORDERS_PER_DAY]
// The traffic (per simulated day, 100k SKUs in the catalog): ORDERS_PER_DAY orders routed
// through the cloud inbox (70 % shipped, 30 % collected), accepted, picked an hour later
// (ship orders on one pick list per hour, 3 % of lines of multi-line orders short-picked),
// packed and shipped or made ready and collected 1-3 days later; 4 % returned 1-3 weeks
// later; a third as many till sales; a 20-SKU count session; deliveries that replenish
// what sold; damage found. The cloud acknowledges every event within the hour. Retention
// runs as the daemon runs it: every 4 simulated hours, batches until done, then free pages
// handed back. Each simulated hour is one outer transaction (the commands nest as
// savepoints), so the year's rows are the rows real commands make without paying an fsync
// per command; the figures measured on the copies use the real, per-command path.
// The aging connection runs with synchronous=OFF (same rows, no fsync per hour) and a
// 256 MB page cache.
// BENCH_YEAR_KEEP=1 keeps WORK_DIR/bench-year (the copies of day 1, 180 and 365).
// Exit 1 when the generated traffic was refused by the domain (a bench defect).
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api_client.hpp"
#include "bench_support.hpp"
#include "child_process.hpp"
#include "domain/cloud_commands.hpp"
#include "domain/order_codec.hpp"
#include "domain/retention.hpp"
#include "domain/store.hpp"

using namespace fulfil;
using namespace fulfil::agent;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr int kSkus = 100'000;
constexpr int kPopular = 2'000;        // 70 % of what is sold comes from these SKUs
constexpr int kReservedFrom = 99'000;  // never sold in the year: the measurements' orders
constexpr int kStartStock = 50;
constexpr int kReplenishAt = 20;  // units sold since the last delivery of a SKU
constexpr int kAcceptOrders = 300;
constexpr int kQueueOrders = 100;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

template <class R>
void must(const R& r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
}

std::string sku_name(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "Y-%06d", i);
  return b;
}

long file_bytes(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<long>(n);
}

struct Tally {
  long routed = 0, shipped = 0, collected = 0, rejected = 0, short_picks = 0, returns = 0,
       till_sales = 0, count_sessions = 0, deliveries = 0, pick_lists = 0, retention_rows = 0,
       retention_batches = 0;
  double longest_batch_ms = 0;
};

// A year of one store's traffic through the domain services, an hour at a time.
class YearOfTraffic {
 public:
  YearOfTraffic(Store& store, int orders_per_day, std::int64_t t0)
      : s_(store),
        feed_(store),
        per_day_(orders_per_day),
        t0_(t0),
        retention_(store.db(), RetentionPolicy{}),
        sold_(kSkus + 1, 0) {}

  void seed_catalog() {
    const CommandContext ctx{{Actor::Kind::cloud, "catalog"}, t0_ - kDay};
    Transaction tx(s_.db());
    InventorySnapshot snapshot;
    for (int i = 1; i <= kSkus; ++i) {
      const std::string sku = sku_name(i);
      must(s_.inventory().upsert({sku,
                                  "Item " + std::to_string(i),
                                  "A" + std::to_string(i % 40 + 10) + "-" + std::to_string(i % 7),
                                  {},
                                  0},
                                 ctx),
           "upsert " + sku);
      snapshot.items.push_back({sku, kStartStock, 0});
    }
    must(s_.inventory().apply_snapshot(snapshot, ctx), "stock snapshot");
    acknowledge(ctx.now_ms);
    tx.commit();
  }

  // Hour `hour` (0-23) of day `day` (0-based), then a retention pass every 4 hours.
  void run_hour(int day, int hour) {
    const std::int64_t now = t0_ + day * kDay + hour * kHour;
    {
      Transaction tx(s_.db());
      pick_and_dispatch(now + 5 * kMinute);
      due_collections(now);
      due_returns(now);
      if (hour == 6) deliveries(now);
      if (hour == 7) count_some(now);
      if (hour >= 8 && hour < 20) {
        route_and_accept(hour, now);
        till_sales(hour, now);
      }
      if (hour == 12 && day % 7 == 3) damage_found(now);
      acknowledge(now + 59 * kMinute);
      tx.commit();
    }
    if (hour % 4 == 3) retention_pass(now + 59 * kMinute);
  }

  const Tally& tally() const { return tally_; }

 private:
  struct Due {
    std::int64_t at;
    std::string order_id;
    std::string what;  // the pickup code, or the SKU returned
  };

  CommandContext ctx(std::int64_t at, const char* who = "associate-1") const {
    return {{Actor::Kind::terminal, who}, at};
  }

  int pick_sku() {
    if (std::uniform_int_distribution<int>(0, 9)(rng_) < 7)
      return std::uniform_int_distribution<int>(1, kPopular)(rng_);
    return std::uniform_int_distribution<int>(kPopular + 1, kReservedFrom - 1)(rng_);
  }

  void route_and_accept(int hour, std::int64_t now) {
    const int n = per_day_ / 12 + (hour - 8 < per_day_ % 12 ? 1 : 0);
    for (int k = 0; k < n; ++k) {
      const std::int64_t at = now + k * (kHour / (n + 1));
      FulfilmentOrder o;
      o.id = "FO-" + std::to_string(++order_no_);
      o.order_ref = "R" + std::to_string(100000 + order_no_);
      o.method = rng_() % 10 < 7 ? DeliveryMethod::ship : DeliveryMethod::pickup;
      o.customer = {"Customer " + std::to_string(order_no_ % 5000), "c@example.com",
                    "+49 30 " + std::to_string(1000000 + order_no_ % 5000)};
      o.address = {
          "",  "Hauptstrasse " + std::to_string(order_no_ % 200 + 1), "", "Berlin", "", "10115",
          "DE"};
      o.currency = "EUR";
      o.routed_at = at;
      o.accept_by = at + kHour;
      const int lines =
          1 + static_cast<int>(rng_() % 100 < 40) + static_cast<int>(rng_() % 100 < 15);
      std::vector<int> skus;
      for (int l = 1; l <= lines; ++l) {
        int sku = pick_sku();
        while (std::find(skus.begin(), skus.end(), sku) != skus.end()) sku = pick_sku();
        skus.push_back(sku);
        const int qty = rng_() % 10 == 0 ? 2 : 1;
        sold_[static_cast<std::size_t>(sku)] += qty;
        o.lines.push_back({l, sku_name(sku), qty, 1999, 0, 0, ""});
      }
      FeedCommand cmd{"cmd-" + std::to_string(order_no_), "order.routed",
                      "c" + std::to_string(order_no_), at, routed_order_json(o)};
      auto applied = feed_.apply(cmd, at);
      must(applied, "route " + o.id);
      if (applied->outcome != CommandOutcome::applied)
        throw std::runtime_error("order.routed not applied: " + applied->detail);
      ++tally_.routed;
      const auto accept_at = ctx(at + 2 * kMinute);
      if (rng_() % 100 == 0) {  // the customer changed their mind
        must(s_.orders().reject(o.id, "customer_request", accept_at), "reject " + o.id);
        ++tally_.rejected;
        continue;
      }
      if (!s_.orders().accept(o.id, accept_at)) {
        must(s_.orders().reject(o.id, "out_of_stock", accept_at), "reject " + o.id);
        ++tally_.rejected;
        continue;
      }
      accepted_.push_back({o.id, o.method == DeliveryMethod::pickup});
    }
  }

  // Last hour's accepted orders: ship orders on one pick list, pickups one by one.
  void pick_and_dispatch(std::int64_t at) {
    std::vector<std::pair<std::string, bool>> batch;
    batch.swap(accepted_);
    std::vector<std::string> wave;
    for (const auto& [id, pickup] : batch) {
      if (pickup) {
        pick_alone(id, at);
        at += kMinute;
      } else {
        wave.push_back(id);
      }
    }
    for (std::size_t from = 0; from < wave.size(); from += kMaxPickListOrders) {
      std::vector<std::string> ids(
          wave.begin() + static_cast<long>(from),
          wave.begin() + static_cast<long>(std::min(wave.size(), from + kMaxPickListOrders)));
      at = pick_wave(ids, at);
    }
  }

  bool short_this(const FulfilmentOrder& o) { return o.lines.size() > 1 && rng_() % 100 < 3; }

  void pick_alone(const std::string& id, std::int64_t at) {
    const auto c = ctx(at, "picker-1");
    must(s_.orders().start_picking(id, c), "start picking " + id);
    const auto o = *s_.orders().find(id);
    const bool short_one = short_this(o);
    for (const auto& line : o.lines) {
      if (short_one && line.line_no == 1) {
        must(s_.orders().short_pick(id, 1, line.quantity, "not_found", c), "short " + id);
        ++tally_.short_picks;
      } else {
        must(s_.orders().pick_item(id, line.sku, line.quantity, c), "pick " + id);
      }
    }
    must(s_.orders().complete_picking(id, c), "complete " + id);
    auto code = s_.orders().ready_for_pickup(id, "P-" + std::to_string(rng_() % 30 + 1), c);
    must(code, "ready " + id);
    const std::int64_t days = 1 + static_cast<std::int64_t>(rng_() % 3);
    collections_.push_back({at + days * kDay, id, *code});
  }

  std::int64_t pick_wave(const std::vector<std::string>& ids, std::int64_t at) {
    const auto c = ctx(at, "picker-2");
    auto list = s_.pick_lists().create(ids, c);
    must(list, "pick list");
    ++tally_.pick_lists;
    std::vector<FulfilmentOrder> orders;
    std::map<std::string, int> on_list;  // a short pick of a SKU two totes need may hit either
    for (const auto& id : ids) {
      orders.push_back(*s_.orders().find(id));
      for (const auto& line : orders.back().lines) ++on_list[line.sku];
    }
    for (const auto& o : orders) {
      const auto& id = o.id;
      const bool short_one = short_this(o) && on_list[o.lines[0].sku] == 1;
      for (const auto& line : o.lines) {
        if (short_one && line.line_no == 1) {
          must(s_.pick_lists().short_pick(list->id, line.sku, line.quantity, "not_found", c),
               "short on list");
          ++tally_.short_picks;
          continue;
        }
        for (std::int64_t u = 0; u < line.quantity; ++u)
          must(s_.pick_lists().pick(list->id, line.sku, c), "pick on list " + id);
      }
    }
    at += 10 * kMinute;
    for (const auto& id : ids) {
      const auto o = *s_.orders().find(id);
      Package p{1, "M", 800, {}};
      for (const auto& line : o.lines)
        if (line.picked > 0) p.items.push_back({line.line_no, line.picked});
      must(s_.orders().pack(id, {p}, ctx(at, "packer-1")), "pack " + id);
      must(s_.orders().ship(id, "DHL", "JD0146" + std::to_string(order_no_hash(id)),
                            ctx(at + kMinute, "packer-1")),
           "ship " + id);
      ++tally_.shipped;
      maybe_returned(id, o, at);
      at += kMinute;
    }
    return at;
  }

  static std::int64_t order_no_hash(const std::string& id) {
    return 10'000'000 + std::stoll(id.substr(3));
  }

  void maybe_returned(const std::string& id, const FulfilmentOrder& o, std::int64_t at) {
    if (rng_() % 100 >= 4) return;
    for (const auto& line : o.lines)
      if (line.picked > 0) {
        const std::int64_t days = 7 + static_cast<std::int64_t>(rng_() % 14);
        returns_.push_back({at + days * kDay, id, line.sku});
        return;
      }
  }

  void due_collections(std::int64_t now) {
    std::sort(collections_.begin(), collections_.end(),
              [](const Due& a, const Due& b) { return a.at < b.at; });
    while (!collections_.empty() && collections_.front().at <= now) {
      const Due d = collections_.front();
      collections_.pop_front();
      must(s_.orders().collect(d.order_id, d.what, ctx(now + 20 * kMinute, "counter-1")),
           "collect " + d.order_id);
      ++tally_.collected;
      maybe_returned(d.order_id, *s_.orders().find(d.order_id), now);
    }
  }

  void due_returns(std::int64_t now) {
    std::sort(returns_.begin(), returns_.end(),
              [](const Due& a, const Due& b) { return a.at < b.at; });
    while (!returns_.empty() && returns_.front().at <= now) {
      const Due d = returns_.front();
      returns_.pop_front();
      ReturnRequest r{d.order_id, {{d.what, 1, Disposition::restock, "did not fit"}}, ""};
      must(s_.returns().receive(r, ctx(now + 30 * kMinute, "counter-1")), "return");
      ++tally_.returns;
    }
  }

  void till_sales(int hour, std::int64_t now) {
    const int n = per_day_ / 3 / 12 + (hour - 8 < per_day_ / 3 % 12 ? 1 : 0);
    for (int k = 0; k < n; ++k) {
      TillTransaction t;
      t.till_id = "till-1";
      t.transaction_id = "T" + std::to_string(++till_no_);
      t.occurred_at = now + k * (kHour / (n + 1));
      const int lines = 1 + static_cast<int>(rng_() % 3 == 0);
      for (int l = 0; l < lines; ++l) {
        const int sku = pick_sku();
        if (l == 1 && sku_name(sku) == t.lines[0].code) continue;
        ++sold_[static_cast<std::size_t>(sku)];
        t.lines.push_back({sku_name(sku), TillCode::sku, 1});
      }
      must(s_.till_sales().apply(t, ctx(*t.occurred_at, "till-1")), "till sale");
      ++tally_.till_sales;
    }
  }

  // The delivery replenishes every SKU that sold kReplenishAt units since its last one.
  void deliveries(std::int64_t now) {
    const auto c = ctx(now + 10 * kMinute, "receiving-1");
    for (std::size_t i = 1; i < sold_.size(); ++i)
      if (sold_[i] >= kReplenishAt) {
        must(s_.inventory().adjust(
                 {sku_name(static_cast<int>(i)), AdjustmentKind::receipt, sold_[i], "delivery"}, c),
             "delivery");
        sold_[i] = 0;
        ++tally_.deliveries;
      }
  }

  void count_some(std::int64_t now) {
    const auto c = ctx(now, "counter-2");
    CountPlan plan;
    for (int k = 0; k < 20; ++k) {
      const std::string sku = sku_name(pick_sku());
      if (std::find(plan.skus.begin(), plan.skus.end(), sku) == plan.skus.end())
        plan.skus.push_back(sku);
    }
    auto session = s_.count_sessions().plan(plan, c);
    must(session, "count plan");
    for (const auto& sku : plan.skus) {
      std::int64_t counted = s_.inventory().level(sku)->on_hand;
      if (counted > 0 && rng_() % 10 == 0) --counted;  // one gone missing
      if (counted > 0)
        must(s_.count_sessions().scan(session->id, sku, counted, c), "count scan");
      else
        must(s_.count_sessions().none_found(session->id, sku, c), "count none");
    }
    must(s_.count_sessions().submit(session->id, c), "count submit");
    must(s_.count_sessions().approve(session->id, ctx(now + 30 * kMinute, "manager-1")),
         "count approve");
    ++tally_.count_sessions;
  }

  void damage_found(std::int64_t now) {
    for (int k = 0; k < 5; ++k)
      must(s_.inventory().adjust({sku_name(pick_sku()), AdjustmentKind::damage, 1, "crushed"},
                                 ctx(now)),
           "damage");
  }

  // The cloud acknowledges everything sent so far.
  void acknowledge(std::int64_t at) {
    for (;;) {
      const auto events = s_.outbox().pending(2000);
      if (events.empty()) return;
      std::vector<std::string> ids;
      ids.reserve(events.size());
      for (const auto& e : events) ids.push_back(e.event_id);
      s_.outbox().mark_sent(ids, at);
    }
  }

  // As RetentionRunner: batches until nothing is old enough, then free pages back.
  void retention_pass(std::int64_t now) {
    for (;;) {
      const auto t = Clock::now();
      auto batch = retention_.run_batch(now);
      must(batch, "retention");
      if (!batch->more) break;
      tally_.longest_batch_ms = std::max(tally_.longest_batch_ms, seconds_since(t) * 1000);
      tally_.retention_rows += batch->removed;
      ++tally_.retention_batches;
    }
    std::int64_t left = -1;
    for (;;) {
      const auto now_left = retention_.return_free_pages(256);
      if (now_left == 0 || (left >= 0 && now_left >= left)) break;
      left = now_left;
    }
  }

  Store& s_;
  CloudCommands feed_;
  int per_day_;
  std::int64_t t0_;
  Retention retention_;
  std::mt19937 rng_{2026};
  std::vector<std::int64_t> sold_;
  long order_no_ = 0, till_no_ = 0;
  std::vector<std::pair<std::string, bool>> accepted_;  // id, pickup
  std::deque<Due> collections_;
  std::deque<Due> returns_;
  Tally tally_;
};

// ---------------------------------------------------------------------------------------
// Measurements on a copy of the aged database.

struct Figures {
  int day = 0;
  long db_bytes = 0, wal_bytes = 0;
  double quick_check_s = 0, ready_s = 0, ready_quick_s = 0, background_check_s = 0;
  double queue_p99_ms = 0, queue_rps = 0;
  double accept_per_s = 0, accept_vs_raw = 0;
  long rss_kb = 0;
};

double quick_check_seconds(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    throw std::runtime_error("cannot open " + path);
  const auto t0 = Clock::now();
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, nullptr);
  std::string result;
  if (sqlite3_step(st) == SQLITE_ROW)
    result = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  const double took = seconds_since(t0);
  sqlite3_close(db);
  if (result != "ok") throw std::runtime_error("quick_check of " + path + ": " + result);
  return took;
}

FulfilmentOrder measurement_order(const std::string& id, int k, std::int64_t now) {
  FulfilmentOrder o;
  o.id = id;
  o.order_ref = id;
  o.customer = {"Bench Customer", "", ""};
  o.address = {"", "1 Bench Street", "", "Berlin", "", "10115", "DE"};
  o.currency = "EUR";
  o.routed_at = now;
  o.accept_by = now + 4 * kHour;
  o.lines = {{1, sku_name(kReservedFrom + k % 500), 1, 100, 0, 0, ""},
             {2, sku_name(kReservedFrom + 500 + k % 500), 1, 100, 0, 0, ""}};
  return o;
}

void receive_orders(const std::string& dir, const std::string& prefix, int n) {
  auto store = Store::open({dir + "/fulfild.db", "off", 5000}, OrderPolicy{});
  must(store, "open the copy");
  const CommandContext c{{Actor::Kind::cloud, "bench"}, now_ms()};
  Transaction tx((*store)->db());
  for (int k = 0; k < n; ++k)
    must((*store)->orders().receive(measurement_order(prefix + std::to_string(k), k, c.now_ms), c),
         "receive");
  tx.commit();
}

int free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

double to_ms(const std::string& value, const std::string& unit) {
  const double v = std::stod(value);
  if (unit == "us") return v / 1000;
  if (unit == "s") return v * 1000;
  return v;
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Start to READY=1 with storage.integrity_check=quick: the whole file checked first.
double ready_with_quick_check(const std::string& dir) {
  test::NotifySocket notify;
  const auto t0 = Clock::now();
  test::ChildProcess daemon(test::built_program("agent/fulfild"),
                            {"--state-dir", dir, "--listen", "127.0.0.1:0", "--set",
                             "storage.integrity_check=quick", "--log-level", "warn"},
                            {{"NOTIFY_SOCKET", notify.path()}});
  if (!notify.wait_for("READY=1", std::chrono::seconds(120)))
    throw std::runtime_error("fulfild did not start: " + daemon.stderr_text());
  const double ready = seconds_since(t0);
  daemon.signal(SIGTERM);
  if (daemon.wait(std::chrono::seconds(20)) != 0)
    throw std::runtime_error("fulfild did not stop cleanly: " + daemon.stderr_text());
  return ready;
}

// How long the check after READY took (storage.integrity in /health), once it is done.
double background_check_seconds(int port) {
  for (int i = 0; i < 1200; ++i) {
    const auto h = test::http_get(port, "/health");
    auto j = h ? nlohmann::json::parse(h->body, nullptr, false) : nlohmann::json();
    const auto integrity = j.is_object() ? j["storage"]["integrity"] : nlohmann::json();
    const std::string state = integrity.is_object() ? integrity.value("state", "") : "";
    if (state == "failed") throw std::runtime_error("the check after READY failed: " + h->body);
    if (state == "ok") return integrity["seconds"].get<double>();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("the check after READY did not finish");
}

// fulfild on the copy: start to READY=1 (its start-up integrity check included), the
// order queue under wrk, VmRSS after it.
void measure_daemon(const std::string& dir, int seconds, Figures& f) {
  const int port = free_port();
  test::NotifySocket notify;
  const auto t0 = Clock::now();
  test::ChildProcess daemon(test::built_program("agent/fulfild"),
                            {"--state-dir", dir, "--listen", "127.0.0.1:" + std::to_string(port),
                             "--set", "api.socket=" + dir + "/api.sock", "--log-level", "warn"},
                            {{"NOTIFY_SOCKET", notify.path()}});
  if (!notify.wait_for("READY=1", std::chrono::seconds(120)))
    throw std::runtime_error("fulfild did not start: " + daemon.stderr_text());
  f.ready_s = seconds_since(t0);
  auto code = test::unix_request(dir + "/api.sock", "POST", "/api/v1/pairing-codes",
                                 R"({"role":"associate"})");
  auto paired = test::ApiClient(static_cast<unsigned short>(port))
                    .post("/api/v1/pair", {{"code", code.json()["code"]}});
  const std::string token = paired.json()["token"];
  test::ApiClient terminal(static_cast<unsigned short>(port), token);
  auto queue = terminal.get("/api/v1/orders?state=routed");
  if (queue.status != 200 || queue.json()["orders"].size() != kQueueOrders)
    throw std::runtime_error("the queue is not the " + std::to_string(kQueueOrders) +
                             " orders routed: " + queue.body.substr(0, 200));
  std::ofstream(dir + "/get.lua") << "wrk.headers[\"Authorization\"] = \"Bearer " << token
                                  << "\"\n";
  test::ChildProcess wrk(
      "/usr/bin/wrk",
      {"-t1", "-c4", "-d" + std::to_string(seconds) + "s", "--latency", "-s", dir + "/get.lua",
       "http://127.0.0.1:" + std::to_string(port) + "/api/v1/orders?state=routed"},
      {}, false);
  if (!wrk.wait(std::chrono::seconds(seconds + 30))) throw std::runtime_error("wrk hung");
  const std::string out = wrk.stdout_text();
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(99%\s+([0-9.]+)(us|ms|s))")))
    f.queue_p99_ms = to_ms(m[1], m[2]);
  if (std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))")))
    f.queue_rps = std::stod(m[1]);
  if (out.find("Non-2xx") != std::string::npos || f.queue_rps <= 0)
    throw std::runtime_error("wrk saw errors: " + out);
  f.rss_kb = rss_kb(daemon.pid());
  f.background_check_s = background_check_seconds(port);
  daemon.signal(SIGTERM);
  if (daemon.wait(std::chrono::seconds(20)) != 0)
    throw std::runtime_error("fulfild did not stop cleanly: " + daemon.stderr_text());
}

// Durable accepts on the copy, one transaction (and fsync) each, interleaved with raw
// commits on the same disk: the disk's speed swings on a shared machine, and both see the
// same swings.
void measure_accepts(const std::string& dir, Figures& f) {
  receive_orders(dir, "ACC-", kAcceptOrders);
  bench::RawCommits raw(dir + "/raw.db");
  auto store = Store::open({dir + "/fulfild.db", "off", 5000}, OrderPolicy{});
  must(store, "open the copy");
  const CommandContext c{{Actor::Kind::terminal, "bench"}, now_ms()};
  double raw_ms = 0, accept_ms = 0;
  for (int k = 0; k < kAcceptOrders; ++k) {
    raw_ms += raw.commit_ms();
    const auto t = Clock::now();
    must((*store)->orders().accept("ACC-" + std::to_string(k), c), "accept");
    accept_ms += seconds_since(t) * 1000;
  }
  f.accept_per_s = kAcceptOrders / (accept_ms / 1000);
  f.accept_vs_raw = raw_ms / accept_ms;
}

Figures measure(const std::string& dir, int day, long db_bytes, long wal_bytes, int seconds) {
  Figures f;
  f.day = day;
  f.db_bytes = db_bytes;
  f.wal_bytes = wal_bytes;
  f.quick_check_s = quick_check_seconds(dir + "/fulfild.db");
  receive_orders(dir, "QUEUE-", kQueueOrders);
  measure_daemon(dir, seconds, f);
  f.ready_quick_s = ready_with_quick_check(dir);
  measure_accepts(dir, f);
  return f;
}

std::map<std::string, std::int64_t> table_rows(Database& db) {
  std::vector<std::string> tables;
  {
    auto s = db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name");
    while (s.step()) tables.push_back(s.text(0));
  }
  std::map<std::string, std::int64_t> rows;
  for (const auto& t : tables) {
    auto s = db.prepare("SELECT count(*) FROM \"" + t + "\"");
    s.step();
    rows[t] = s.int64(0);
  }
  return rows;
}

void copy_database(const std::string& from_dir, const std::string& to_dir) {
  fs::create_directories(to_dir);
  for (const char* f : {"/fulfild.db", "/fulfild.db-wal"})
    if (fs::exists(from_dir + f))
      fs::copy_file(from_dir + f, to_dir + f, fs::copy_options::overwrite_existing);
}

std::string mb(long bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return b;
}

void print_row(const char* name, const std::vector<Figures>& f, double (*get)(const Figures&),
               const char* format, bool higher_is_better) {
  std::printf("| %-36s |", name);
  char b[32];
  for (const auto& x : f) {
    std::snprintf(b, sizeof b, format, get(x));
    std::printf(" %10s |", b);
  }
  const double first = get(f.front()), last = get(f.back());
  const double ratio = first > 0 ? last / first : 0;
  // For rates, the goal reads the other way: day 365 at least day 1 / 1.5.
  const bool ok = higher_is_better ? ratio >= 1 / 1.5 : ratio <= 1.5;
  std::printf(" %6.2fx | %-4s |\n", ratio, ok ? "ok" : "OVER");
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_year WORK_DIR [ORDERS_PER_DAY]\n");
    return 2;
  }
  const int per_day = argc > 2 ? std::atoi(argv[2]) : 300;
  if (per_day < 12) throw std::runtime_error("ORDERS_PER_DAY must be at least 12");
  const int wrk_seconds = 3;
  const std::string work = fs::absolute(std::string(argv[1]) + "/bench-year").string();
  fs::remove_all(work);
  fs::create_directories(work + "/live");

  // The year ends now: the copies are measured by a daemon whose clock is the real one.
  const std::int64_t t0 = now_ms() - 365 * kDay;
  const auto started = Clock::now();
  auto opened = Store::open({work + "/live/fulfild.db", "off", 5000}, OrderPolicy{});
  must(opened, "open the store");
  Store& store = **opened;
  // Aging only: the year's files are the same without an fsync per commit (the copies are
  // measured by fulfild with its own synchronous=FULL).
  // A page cache that holds the whole year (SQLite's default 2 MB made a fifth of the
  // aging time reads of pages from the OS).
  store.db().exec("PRAGMA synchronous=OFF; PRAGMA cache_size=-262144");
  YearOfTraffic year(store, per_day, t0);
  year.seed_catalog();
  const double seed_s = seconds_since(started);

  const std::vector<int> size_days = {1, 30, 60, 90, 120, 180, 240, 300, 365};
  const std::vector<int> measured_days = {1, 180, 365};
  std::map<int, std::pair<long, long>> sizes;  // day -> db, wal
  std::map<int, std::map<std::string, std::int64_t>> rows;
  for (int day = 0; day < 365; ++day) {
    for (int hour = 0; hour < 24; ++hour) year.run_hour(day, hour);
    const int d = day + 1;
    if (std::find(size_days.begin(), size_days.end(), d) == size_days.end()) continue;
    sizes[d] = {file_bytes(work + "/live/fulfild.db"), file_bytes(work + "/live/fulfild.db-wal")};
    if (std::find(measured_days.begin(), measured_days.end(), d) != measured_days.end()) {
      rows[d] = table_rows(store.db());
      copy_database(work + "/live", work + "/day" + std::to_string(d));
    }
    std::fprintf(stderr, "bench_year: day %d aged (%.0f s)\n", d, seconds_since(started));
  }
  const double aging_s = seconds_since(started);
  const Tally tally = year.tally();
  opened->reset();

  std::vector<Figures> figures;
  for (const int d : measured_days)
    figures.push_back(measure(work + "/day" + std::to_string(d), d, sizes[d].first, sizes[d].second,
                              wrk_seconds));

  std::printf(
      "\nfulfild year benchmark: %d orders/day, %d SKUs, in %s (%s); aged in %.0f s (catalog "
      "%.0f s)\n",
      per_day, kSkus, work.c_str(), bench::fs_type(work).c_str(), aging_s, seed_s);
  std::printf(
      "year: %ld orders routed, %ld shipped, %ld collected, %ld rejected, %ld short picks, "
      "%ld returns, %ld till sales, %ld counts, %ld deliveries, %ld pick lists; retention "
      "%ld rows in %ld batches (longest %.1f ms)\n",
      tally.routed, tally.shipped, tally.collected, tally.rejected, tally.short_picks,
      tally.returns, tally.till_sales, tally.count_sessions, tally.deliveries, tally.pick_lists,
      tally.retention_rows, tally.retention_batches, tally.longest_batch_ms);
  std::printf("| %-36s | %10s | %10s | %10s | 365/1   | goal |\n", "figure", "day 1", "day 180",
              "day 365");
  std::printf("|%s|------------|------------|------------|---------|------|\n",
              std::string(38, '-').c_str());
  print_row(
      "database file (MB)", figures, [](const Figures& f) { return f.db_bytes / 1e6; }, "%.1f",
      false);
  print_row(
      "WAL file (MB)", figures, [](const Figures& f) { return f.wal_bytes / 1e6; }, "%.1f", false);
  print_row(
      "quick_check (s)", figures, [](const Figures& f) { return f.quick_check_s; }, "%.3f", false);
  print_row(
      "start to READY=1, default check (s)", figures, [](const Figures& f) { return f.ready_s; },
      "%.3f", false);
  print_row(
      "  its check after READY (s)", figures, [](const Figures& f) { return f.background_check_s; },
      "%.3f", false);
  print_row(
      "start to READY=1, check quick (s)", figures,
      [](const Figures& f) { return f.ready_quick_s; }, "%.3f", false);
  print_row(
      "order queue GET p99 (ms)", figures, [](const Figures& f) { return f.queue_p99_ms; }, "%.2f",
      false);
  print_row(
      "order queue GET (req/s)", figures, [](const Figures& f) { return f.queue_rps; }, "%.0f",
      true);
  print_row(
      "durable accept (orders/s)", figures, [](const Figures& f) { return f.accept_per_s; }, "%.0f",
      true);
  print_row(
      "durable accept / raw commits (%)", figures,
      [](const Figures& f) { return f.accept_vs_raw * 100; }, "%.0f", true);
  print_row(
      "fulfild VmRSS after the queue (MB)", figures,
      [](const Figures& f) { return f.rss_kb / 1e3; }, "%.1f", false);
  std::printf("database + WAL along the year:");
  for (const auto& [d, s] : sizes) std::printf(" day %d %s;", d, mb(s.first + s.second).c_str());
  std::printf("\nrows per table (day 1 / 180 / 365), growing ones marked *:\n");
  for (const auto& [table, n1] : rows[1]) {
    const auto n180 = rows[180][table], n365 = rows[365][table];
    if (n1 == 0 && n365 == 0) continue;
    const bool growing = n365 > n180 * 5 / 4 && n365 > 100;
    std::printf("  %s%-26s %9lld %9lld %9lld\n", growing ? "*" : " ", table.c_str(),
                static_cast<long long>(n1), static_cast<long long>(n180),
                static_cast<long long>(n365));
  }
  if (!std::getenv("BENCH_YEAR_KEEP")) fs::remove_all(work);  // kept: to look into a figure
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_year: %s\n", e.what());
  return 1;
}
