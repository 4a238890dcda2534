#include "bench_support.hpp"

#include <sys/vfs.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>

#include "demo/demo.hpp"
#include "domain/store.hpp"

namespace fulfil::bench {

std::string scan_sku(int k) {
  return "SKU-1000" + std::to_string(k);
}

// The demo catalog, 100 routed orders, and the scan order, accepted and being picked.
void seed_store_with_scan_order(const std::string& state_dir, const std::string& order_id) {
  auto opened = agent::Store::open({state_dir + "/fulfild.db", "quick", 5000}, {});
  if (!opened) throw std::runtime_error(opened.error().message);
  auto& store = *opened;
  const auto now = agent::now_ms();
  if (auto ok = demo::seed_demo_store(*store, now); !ok)
    throw std::runtime_error(ok.error().message);
  std::mt19937 rng(7);
  const agent::CommandContext ctx{{agent::Actor::Kind::system, "bench"}, now};
  for (int i = 1; i <= 100; ++i) {
    auto o = demo::demo_order(rng, i, now);
    o.accept_by = now + 3'600'000;
    if (!store->orders().receive(o, ctx)) throw std::runtime_error("cannot seed order");
  }
  for (int k = 0; k < kScanSkus; ++k)
    if (!store->inventory().adjust(
            {scan_sku(k), agent::AdjustmentKind::receipt, kScanUnitsPerLine, "bench"}, ctx))
      throw std::runtime_error("cannot add bench stock");
  agent::FulfilmentOrder big;
  big.id = order_id;
  big.order_ref = order_id;
  big.customer.name = "Bench";
  big.address = {"", "1 Bench Street", "", "Berlin", "", "10115", "DE"};
  big.currency = "EUR";
  big.routed_at = now;
  big.accept_by = now + 3'600'000;
  for (int k = 0; k < kScanSkus; ++k)
    big.lines.push_back({k + 1, scan_sku(k), kScanUnitsPerLine, 100, 0, 0, ""});
  if (!store->orders().receive(big, ctx) || !store->orders().accept(order_id, ctx) ||
      !store->orders().start_picking(order_id, ctx))
    throw std::runtime_error("cannot seed the scan order");
}

namespace {
void sql_ok(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string("raw SQLite: ") + what + ": " + sqlite3_errmsg(db));
}
}  // namespace

RawCommits::RawCommits(const std::string& path) {
  sql_ok(db_, sqlite3_open(path.c_str(), &db_), "open");
  sqlite3_stmt* mode = nullptr;
  sql_ok(db_, sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &mode, nullptr), "WAL");
  sql_ok(db_, sqlite3_step(mode), "WAL");
  const std::string journal = reinterpret_cast<const char*>(sqlite3_column_text(mode, 0));
  sqlite3_finalize(mode);
  if (journal != "wal") throw std::runtime_error("raw SQLite: journal_mode is " + journal);
  sql_ok(db_,
         sqlite3_exec(db_,
                      "PRAGMA synchronous=FULL;"
                      "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
                      nullptr, nullptr, nullptr),
         "schema");
  sql_ok(db_, sqlite3_prepare_v2(db_, "INSERT INTO t (v) VALUES ('x')", -1, &ins_, nullptr),
         "insert");
}

RawCommits::~RawCommits() {
  sqlite3_finalize(ins_);
  sqlite3_close(db_);
}

double RawCommits::commit_ms() {
  const auto t = std::chrono::steady_clock::now();
  sql_ok(db_, sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), "begin");
  sql_ok(db_, sqlite3_step(ins_), "insert");
  sqlite3_reset(ins_);
  sql_ok(db_, sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), "commit");
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

double cpu_ms(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i)
    if (i >= 14) ticks += std::stod(f);
  return ticks * 1000 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string fs_type(const std::string& dir) {
  struct statfs s {};
  if (::statfs(dir.c_str(), &s) != 0) return "?";
  switch (static_cast<unsigned long>(static_cast<unsigned int>(s.f_type))) {
    case 0x01021994:
      return "tmpfs (fsync is free: figures are not real)";
    case 0xEF53:
      return "ext4";
    case 0x794c7630:
      return "overlayfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "fs 0x%lx",
                    static_cast<unsigned long>(static_cast<unsigned int>(s.f_type)));
      return buf;
    }
  }
}

}  // namespace fulfil::bench
