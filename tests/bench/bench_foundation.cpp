// Foundation benchmark: durable "accept order" against raw SQLite commits with the same
// durability settings (WAL, synchronous=FULL), measured in the same run on the same disk;
// start-up with 100k SKUs and its idle memory; idle memory of the demo daemon; stripped
// binary size. Prints a table; fails (exit 1) only if accepting is far below the raw commit
// rate: both are bound by one fsync per transaction, accept just runs ~10 statements inside
// it instead of one. The standalone daemon's idle memory is shown against its goal (issue
// 14), marked OVER while above it: not yet a failure, see row (e).
//   bench_foundation WORK_DIR [N]
// WORK_DIR should be on the disk the daemon would use (not tmpfs) so fsync costs are real.
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "child_process.hpp"
#include "domain/store.hpp"

using namespace fulfil::agent;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

template <class R>
void must(const R& r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
}

void sql_ok(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string("raw SQLite: ") + what + ": " + sqlite3_errmsg(db));
}

// (a) One INSERT per transaction in a fresh WAL database with synchronous=FULL.
double raw_commits_per_s(const std::string& path, int n) {
  sqlite3* db = nullptr;
  sql_ok(db, sqlite3_open(path.c_str(), &db), "open");
  sqlite3_stmt* mode = nullptr;
  sql_ok(db, sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &mode, nullptr), "WAL");
  sql_ok(db, sqlite3_step(mode), "WAL");
  const std::string journal = reinterpret_cast<const char*>(sqlite3_column_text(mode, 0));
  sqlite3_finalize(mode);
  if (journal != "wal") throw std::runtime_error("raw SQLite: journal_mode is " + journal);
  sql_ok(db,
         sqlite3_exec(db,
                      "PRAGMA synchronous=FULL;"
                      "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
                      nullptr, nullptr, nullptr),
         "schema");
  sqlite3_stmt* ins = nullptr;
  sql_ok(db, sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES ('x')", -1, &ins, nullptr), "insert");
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    sql_ok(db, sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), "begin");
    sql_ok(db, sqlite3_step(ins), "insert");
    sqlite3_reset(ins);
    sql_ok(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "commit");
  }
  const double rate = n / seconds_since(t0);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return rate;
}

struct AcceptResult {
  double per_s = 0, p50_ms = 0, p99_ms = 0;
};

// (b) FulfilmentOrders::accept on N orders received beforehand: each accept reserves two
// lines and writes the state, a history row and an outbox event in one transaction.
AcceptResult accepts(const std::string& dir, int n) {
  auto store = Store::open({dir + "/fulfild.db", "quick", 5000}, OrderPolicy{});
  must(store, "open the store");
  Store& s = **store;
  CommandContext ctx{{Actor::Kind::terminal, "bench"}, now_ms()};
  {
    Transaction tx(s.db());
    for (int i = 0; i < 50; ++i) {
      const std::string sku = "B-" + std::to_string(i);
      must(s.inventory().upsert({sku, "Bench " + sku, "A1", {}, 0}, ctx), "upsert");
      must(s.inventory().adjust({sku, AdjustmentKind::receipt, 1000000, ""}, ctx), "stock");
    }
    for (int i = 0; i < n; ++i) {
      FulfilmentOrder o;
      o.id = "BO-" + std::to_string(i);
      o.currency = "EUR";
      o.customer = {"Bench", "", ""};
      o.address = {"", "Street 1", "", "Town", "", "12345", "DE"};
      o.lines = {{1, "B-" + std::to_string(i % 50), 1, 100, 0, 0, ""},
                 {2, "B-" + std::to_string((i + 7) % 50), 2, 100, 0, 0, ""}};
      must(s.orders().receive(o, ctx), "receive " + o.id);
    }
    tx.commit();
  }
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(n));
  ctx.now_ms = now_ms();
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto t = Clock::now();
    must(s.orders().accept("BO-" + std::to_string(i), ctx), "accept");
    lat.push_back(seconds_since(t) * 1000);
  }
  AcceptResult r;
  r.per_s = n / seconds_since(t0);
  if (s.orders().count_by_state()["accepted"] != n)
    throw std::runtime_error("not every order was accepted");
  std::sort(lat.begin(), lat.end());
  r.p50_ms = lat[lat.size() / 2];
  r.p99_ms = lat[lat.size() * 99 / 100];
  return r;
}

struct Rss {
  long total_kb = -1, anon_kb = -1, file_kb = -1;
};

// VmRSS, RssAnon and RssFile of a running process.
Rss rss_of(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  Rss r;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) r.total_kb = std::stol(line.substr(6));
    if (line.rfind("RssAnon:", 0) == 0) r.anon_kb = std::stol(line.substr(8));
    if (line.rfind("RssFile:", 0) == 0) r.file_kb = std::stol(line.substr(8));
  }
  return r;
}

// (e) Idle memory of a standalone fulfild (no printers, no cloud) serving 100k SKUs, 2 s
// after one /health, in the environment the systemd unit gives it (GnuTLS not initialised
// at load). The goal is at most 12 MiB. The printing libraries stay unloaded
// (drivers/printing_module.hpp), the start-up's page cache is handed back (daemon.cpp) and
// /health reads the SKU count from a row (migration 025), not the 100k-row table. What is
// left is nearly all file-backed code pages of the shared libraries and the executable
// (RssFile; the kernel maps them 64 KiB around each fault), shared and reclaimable; the
// private part is RssAnon.
constexpr long kStandaloneRssGoalKb = 12 * 1024;

struct Startup {
  double seconds = 0;
  Rss idle;
};

// Start to READY=1 of fulfild on a store with `skus` SKUs (the design: well under 1 s), and
// its memory 2 s later.
Startup startup_with_skus(const std::string& dir, int skus) {
  {
    auto store = Store::open({dir + "/fulfild.db", "quick", 5000}, OrderPolicy{});
    must(store, "open the store");
    Store& s = **store;
    CommandContext ctx{{Actor::Kind::system, "bench"}, now_ms()};
    Transaction tx(s.db());
    for (int i = 0; i < skus; ++i) {
      const std::string sku = "L-" + std::to_string(i);
      must(s.inventory().upsert({sku, "Large catalog item " + std::to_string(i), "B2", {}, 0}, ctx),
           "upsert");
    }
    tx.commit();
    if (s.inventory().sku_count() != skus) throw std::runtime_error("catalog not seeded");
  }
  fulfil::test::NotifySocket notify;
  const auto t0 = Clock::now();
  fulfil::test::ChildProcess d(
      fulfil::test::built_program("agent/fulfild"), {"--listen", "127.0.0.1:0", "--state-dir", dir},
      {{"NOTIFY_SOCKET", notify.path()}, {"GNUTLS_NO_IMPLICIT_INIT", "1"}});  // as fulfild.service
  auto ready = notify.wait_for("READY=1", std::chrono::seconds(60));
  if (!ready) throw std::runtime_error("no READY=1 with a large catalog: " + d.stderr_text());
  const double took = seconds_since(t0);
  const auto port = fulfil::test::notified_port(*ready);
  const auto health = port ? fulfil::test::http_get(*port, "/health") : std::nullopt;
  if (!health || nlohmann::json::parse(health->body)["inventory"]["skus"] != skus)
    throw std::runtime_error("the large catalog is not what fulfild serves");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const Rss idle = rss_of(d.pid());
  d.signal(SIGTERM);
  d.wait(std::chrono::seconds(10));
  return {took, idle};
}

// (c) VmRSS (and its anonymous part) of `fulfild --demo` 2 s after READY=1.
Rss idle_rss(const std::string& dir) {
  fulfil::test::NotifySocket notify;
  fulfil::test::ChildProcess d(fulfil::test::built_program("agent/fulfild"),
                               {"--demo", "--listen", "127.0.0.1:0", "--state-dir", dir},
                               {{"NOTIFY_SOCKET", notify.path()}});
  if (!notify.wait_for("READY=1", std::chrono::seconds(60)))
    throw std::runtime_error("fulfild --demo sent no READY=1: " + d.stderr_text());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const Rss r = rss_of(d.pid());
  d.signal(SIGTERM);
  if (d.wait(std::chrono::seconds(10)) != 0)
    throw std::runtime_error("fulfild --demo did not stop cleanly: " + d.stderr_text());
  return r;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');)
    if (::access((d + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

// The strip for the binary's architecture (ELF e_machine): $STRIP, else the triplet's
// binutils when installed (cross builds), else strip.
std::string strip_tool(const std::string& binary) {
  if (const char* s = std::getenv("STRIP"); s && *s) return s;
  std::ifstream in(binary, std::ios::binary);
  unsigned char header[20] = {};
  in.read(reinterpret_cast<char*>(header), sizeof header);
  const int machine = header[18] | header[19] << 8;  // little-endian targets only
  const char* triplet_strip = machine == 183  ? "aarch64-linux-gnu-strip"
                              : machine == 40 ? "arm-linux-gnueabihf-strip"
                                              : "x86_64-linux-gnu-strip";
  return on_path(triplet_strip) ? triplet_strip : "strip";
}

struct Size {
  long unstripped = -1, stripped = -1;
  std::string tool;
};

// (d) fulfild's size after strip (on a copy).
Size binary_size(const std::string& dir) {
  const std::string binary = fulfil::test::built_program("agent/fulfild");
  const std::string copy = dir + "/fulfild.stripped";
  std::filesystem::copy_file(binary, copy, std::filesystem::copy_options::overwrite_existing);
  Size s;
  s.tool = strip_tool(binary);
  s.unstripped = static_cast<long>(std::filesystem::file_size(binary));
  if (std::system((s.tool + " '" + copy + "'").c_str()) == 0)
    s.stripped = static_cast<long>(std::filesystem::file_size(copy));
  return s;
}

void row(const char* measure, const std::string& value, const std::string& note) {
  std::printf("| %-40s | %14s | %-46s |\n", measure, value.c_str(), note.c_str());
}

std::string num(double v, const char* format = "%.0f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string base = argc > 1 ? argv[1] : ".";
  const int n = argc > 2 ? std::atoi(argv[2]) : 2000;
  if (n < 100) throw std::runtime_error("N must be at least 100");
  const std::string work = std::filesystem::absolute(base + "/bench-foundation").string();
  std::filesystem::remove_all(work);
  for (const char* sub : {"/raw", "/accept", "/large", "/demo", "/bin"})
    std::filesystem::create_directories(work + sub);

  const double raw = raw_commits_per_s(work + "/raw/raw.db", n);
  const AcceptResult acc = accepts(work + "/accept", n);
  const Startup startup = startup_with_skus(work + "/large", 100000);
  const Rss rss = idle_rss(work + "/demo");
  const Size size = binary_size(work + "/bin");
  const double ratio = acc.per_s / raw;
  // Under qemu-user the accept's CPU work (JSON, SQL, the event) is emulated at 10-50x while
  // a raw commit is mostly fsync: measured 17% on arm64 and armhf against 57% natively, and
  // a faster disk lowers it further. The emulated limit still catches a path that costs
  // several times more on ARM.
  const double limit = fulfil::test::emulated() ? 0.03 : 0.10;
  const bool pass = ratio >= limit;
  // Under qemu-user VmRSS is the emulator's: shown, not held to the goal.
  const bool rss_met = fulfil::test::emulated() || startup.idle.total_kb <= kStandaloneRssGoalKb;

  std::printf("\nfulfild foundation benchmark: N=%d, databases in %s (%s)%s\n", n, work.c_str(),
              fulfil::bench::fs_type(work).c_str(),
              fulfil::test::emulated() ? ", fulfild run under FULFIL_EMULATOR" : "");
  std::printf("| %-40s | %14s | %-46s |\n", "measure", "value", "limit / baseline");
  std::printf("|%s|%s|%s|\n", std::string(42, '-').c_str(), std::string(16, '-').c_str(),
              std::string(48, '-').c_str());
  row("(a) raw SQLite commits/s, 1 INSERT each", num(raw), "baseline (WAL, synchronous=FULL)");
  row("(b) durable accept order/s (2 lines)", num(acc.per_s),
      num(ratio * 100, "%.0f%% of raw; limit >= ") + num(limit * 100, "%.0f%%") +
          (pass ? "" : "  FAIL"));
  row("    accept latency p50 / p99 (ms)",
      num(acc.p50_ms, "%.2f") + " / " + num(acc.p99_ms, "%.2f"), "");
  row("(c) idle VmRSS of fulfild --demo (KiB)", std::to_string(rss.total_kb),
      "of which anonymous " + std::to_string(rss.anon_kb) + " KiB" +
          (fulfil::test::emulated() ? " (incl. qemu)" : ""));
  row("(d) stripped fulfild binary (bytes)", std::to_string(size.stripped),
      size.tool + "; unstripped " + std::to_string(size.unstripped));
  row("    start to READY=1 with 100k SKUs (s)", num(startup.seconds, "%.3f"),
      "design: well under 1 s");
  row("(e) idle VmRSS standalone 100k SKUs KiB", std::to_string(startup.idle.total_kb),
      "goal <= " + std::to_string(kStandaloneRssGoalKb) + "; anon " +
          std::to_string(startup.idle.anon_kb) + ", file " + std::to_string(startup.idle.file_kb) +
          (fulfil::test::emulated() ? " (incl. qemu)" : (rss_met ? "" : "  OVER")));
  std::filesystem::remove_all(work);
  if (!pass) {
    std::printf("FAIL: accepting orders runs below %.0f%% of the raw commit rate\n", limit * 100);
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_foundation: %s\n", e.what());
  return 2;
}
