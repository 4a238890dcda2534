// Foundation benchmark: durable "accept order" against raw SQLite commits with the same
// durability settings, measured in the same run; start-up with 100k SKUs; idle memory of
// the demo daemon; stripped binary size. Prints a table; fails only if accepting is far
// below the raw commit rate (it should be bound by the same fsync).
//   bench_foundation WORK_DIR [N]
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/store.hpp"
#include "child_process.hpp"

using namespace fulfil::agent;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double raw_commits_per_s(const std::string& path, int n) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES ('x')", -1, &ins, nullptr);
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const double rate = n / seconds_since(t0);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return rate;
}

struct AcceptResult {
  double per_s = 0, p50_ms = 0, p99_ms = 0;
};

AcceptResult accepts(const std::string& dir, int n) {
  auto store = Store::open({dir + "/fulfild.db", "quick", 5000}, OrderPolicy{});
  if (!store) throw std::runtime_error(store.error().message);
  Store& s = **store;
  CommandContext ctx{{Actor::Kind::terminal, "bench"}, now_ms()};
  {
    Transaction tx(s.db());
    for (int i = 0; i < 50; ++i) {
      const std::string sku = "B-" + std::to_string(i);
      (void)s.inventory().upsert({sku, "Bench " + sku, "A1", {}, 0}, ctx);
      (void)s.inventory().adjust({sku, AdjustmentKind::receipt, 1000000, ""}, ctx);
    }
    for (int i = 0; i < n; ++i) {
      FulfilmentOrder o;
      o.id = "BO-" + std::to_string(i);
      o.currency = "EUR";
      o.customer = {"Bench", "", ""};
      o.address = {"", "Street 1", "", "Town", "", "12345", "DE"};
      o.lines = {{1, "B-" + std::to_string(i % 50), 1, 100, 0, 0, ""},
                 {2, "B-" + std::to_string((i + 7) % 50), 2, 100, 0, 0, ""}};
      (void)s.orders().receive(o, ctx);
    }
    tx.commit();
  }
  std::vector<double> lat;
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto t = Clock::now();
    if (!s.orders().accept("BO-" + std::to_string(i), ctx)) throw std::runtime_error("accept");
    lat.push_back(seconds_since(t) * 1000);
  }
  AcceptResult r;
  r.per_s = n / seconds_since(t0);
  std::sort(lat.begin(), lat.end());
  r.p50_ms = lat[lat.size() / 2];
  r.p99_ms = lat[lat.size() * 99 / 100];
  return r;
}

double startup_with_skus(const std::string& dir, int skus) {
  {
    auto store = Store::open({dir + "/fulfild.db", "quick", 5000}, OrderPolicy{});
    Store& s = **store;
    CommandContext ctx{{Actor::Kind::system, "bench"}, now_ms()};
    Transaction tx(s.db());
    for (int i = 0; i < skus; ++i) {
      const std::string sku = "L-" + std::to_string(i);
      (void)s.inventory().upsert({sku, "Large catalog item " + std::to_string(i), "B2", {}, 0},
                                 ctx);
    }
    tx.commit();
  }
  fulfil::test::NotifySocket notify;
  const auto t0 = Clock::now();
  fulfil::test::ChildProcess d(fulfil::test::built_program("agent/fulfild"),
                               {"--listen", "127.0.0.1:0", "--state-dir", dir},
                               {{"NOTIFY_SOCKET", notify.path()}});
  if (!notify.wait_for("READY=1", std::chrono::seconds(60))) return -1;
  const double took = seconds_since(t0);
  d.signal(SIGTERM);
  d.wait(std::chrono::seconds(10));
  return took;
}

std::pair<long, long> idle_rss_kb(const std::string& dir) {
  fulfil::test::NotifySocket notify;
  fulfil::test::ChildProcess d(fulfil::test::built_program("agent/fulfild"),
                               {"--demo", "--listen", "127.0.0.1:0", "--state-dir", dir},
                               {{"NOTIFY_SOCKET", notify.path()}});
  if (!notify.wait_for("READY=1", std::chrono::seconds(60))) return {-1, -1};
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::ifstream status("/proc/" + std::to_string(d.pid()) + "/status");
  long rss = -1, anon = -1;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stol(line.substr(6));
    if (line.rfind("RssAnon:", 0) == 0) anon = std::stol(line.substr(8));
  }
  d.signal(SIGTERM);
  d.wait(std::chrono::seconds(10));
  return {rss, anon};
}

long stripped_size(const std::string& dir) {
  const std::string copy = dir + "/fulfild.stripped";
  std::filesystem::copy_file(fulfil::test::built_program("agent/fulfild"), copy,
                             std::filesystem::copy_options::overwrite_existing);
  const char* strip = std::getenv("STRIP");
  const std::string cmd = std::string(strip ? strip : "strip") + " " + copy;
  if (std::system(cmd.c_str()) != 0) return -1;
  struct stat st {};
  ::stat(copy.c_str(), &st);
  return static_cast<long>(st.st_size);
}

std::string fs_type(const std::string& dir) {
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) != 0) return "?";
  // f_type is a signed int on 32-bit ARM: compare as unsigned.
  switch (static_cast<unsigned long>(static_cast<unsigned int>(fs.f_type))) {
    case 0x01021994:
      return "tmpfs";
    case 0xEF53:
      return "ext4";
    case 0x794c7630:
      return "overlayfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    default: {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(fs.f_type));
      return buf;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string base = argc > 1 ? argv[1] : ".";
  const int n = argc > 2 ? std::atoi(argv[2]) : 2000;
  const std::string work = base + "/bench-foundation";
  std::filesystem::remove_all(work);
  for (const char* sub : {"/raw", "/accept", "/large", "/demo", "/bin"})
    std::filesystem::create_directories(work + sub);

  const double raw = raw_commits_per_s(work + "/raw/raw.db", n);
  const AcceptResult acc = accepts(work + "/accept", n);
  const double startup = startup_with_skus(work + "/large", 100000);
  const auto [rss, anon] = idle_rss_kb(work + "/demo");
  const long size = stripped_size(work + "/bin");
  const double ratio = acc.per_s / raw;

  std::printf("\nfulfild foundation benchmark (%d ops, database on %s in %s)\n", n,
              fs_type(work).c_str(), work.c_str());
  std::printf(
      "| measure                                   | value        | limit / baseline       |\n");
  std::printf(
      "|-------------------------------------------|--------------|------------------------|\n");
  std::printf("| raw SQLite commits/s (WAL, sync=FULL)     | %12.0f | baseline               |\n",
              raw);
  std::printf("| durable accept order/s (2 lines)          | %12.0f | >= 10%% of raw (%.0f%%)  |\n",
              acc.per_s, ratio * 100);
  std::printf(
      "| accept latency p50 / p99 (ms)             | %5.2f / %5.2f |                        |\n",
      acc.p50_ms, acc.p99_ms);
  std::printf("| start to READY with 100k SKUs (s)         | %12.3f | design: well under 1 s |\n",
              startup);
  std::printf("| idle RSS of fulfild --demo (KiB)          | %12ld | anon %ld KiB           |\n",
              rss, anon);
  std::printf("| stripped fulfild binary (bytes)           | %12ld |                        |\n",
              size);
  std::filesystem::remove_all(work);
  if (ratio < 0.10) {
    std::printf("FAIL: accepting orders is below 10%% of the raw commit rate\n");
    return 1;
  }
  return 0;
}
