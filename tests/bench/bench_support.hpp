#pragma once
// What the benchmarks share: a store seeded like a busy day (the demo catalog, 100 routed
// orders) with one large order being picked, and what kind of disk the figures come from.
#include <sqlite3.h>
#include <sys/types.h>

#include <string>

namespace fulfil::bench {

constexpr int kScanSkus = 10;              // the scan order's lines, one SKU each
constexpr int kScanUnitsPerLine = 10'000;  // so that every scan of a run is a real pick
std::string scan_sku(int k);               // the SKU of line k (0-based)

// Seeds STATE_DIR/fulfild.db; the scan order `order_id` is accepted and being picked.
void seed_store_with_scan_order(const std::string& state_dir, const std::string& order_id);

// One INSERT per transaction in a fresh WAL database with synchronous=FULL (as fulfild
// commits), each commit timed: the baseline the benchmarks compare durable work against.
class RawCommits {
 public:
  explicit RawCommits(const std::string& path);
  ~RawCommits();
  RawCommits(const RawCommits&) = delete;
  RawCommits& operator=(const RawCommits&) = delete;
  double commit_ms();

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* ins_ = nullptr;
};

// utime + stime of a process, in ms.
double cpu_ms(pid_t pid);

// The file system under `dir` ("ext4", "tmpfs (fsync is free: ...)", ...).
std::string fs_type(const std::string& dir);

}  // namespace fulfil::bench
