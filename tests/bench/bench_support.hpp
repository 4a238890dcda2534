#pragma once
// What the benchmarks share: a store seeded like a busy day (the demo catalog, 100 routed
// orders) with one large order being picked, and what kind of disk the figures come from.
#include <string>

namespace fulfil::bench {

constexpr int kScanSkus = 10;              // the scan order's lines, one SKU each
constexpr int kScanUnitsPerLine = 10'000;  // so that every scan of a run is a real pick
std::string scan_sku(int k);               // the SKU of line k (0-based)

// Seeds STATE_DIR/fulfild.db; the scan order `order_id` is accepted and being picked.
void seed_store_with_scan_order(const std::string& state_dir, const std::string& order_id);

// The file system under `dir` ("ext4", "tmpfs (fsync is free: ...)", ...).
std::string fs_type(const std::string& dir);

}  // namespace fulfil::bench
