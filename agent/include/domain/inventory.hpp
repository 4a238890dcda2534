#pragma once
// The store's inventory replica. Counters live on the SKU row; every change to on_hand or
// unsellable is also a row in the append-only ledger, and the two always agree.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/domain.hpp"
#include "domain/outbox.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

struct SkuRecord {
  std::string sku;
  std::string title;
  std::string bin;                    // shelf location, e.g. "A03-2"
  std::vector<std::string> barcodes;  // GTIN-8/12/13/14, any form
  std::int64_t safety_stock = 0;
};

struct StockLevel {
  std::string sku;
  std::string title;
  std::string bin;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
  std::int64_t unsellable = 0;
  std::int64_t safety_stock = 0;
  std::int64_t raw_available() const { return on_hand - reserved - unsellable - safety_stock; }
  // What may still be promised; counts that find less stock than is reserved make the raw
  // figure negative, which is shown as nothing available rather than a negative number.
  std::int64_t available() const { return raw_available() < 0 ? 0 : raw_available(); }
};

enum class AdjustmentKind {
  receipt,     // goods received: on_hand += quantity
  correction,  // signed correction of on_hand (found, lost, theft)
  damage,      // sellable units found damaged: unsellable += quantity
  disposal,    // unsellable units thrown away or sent back: on_hand and unsellable -= quantity
};
std::optional<AdjustmentKind> adjustment_kind_from(std::string_view name);
std::string_view adjustment_kind_name(AdjustmentKind kind);

struct StockAdjustment {
  std::string sku;
  AdjustmentKind kind = AdjustmentKind::receipt;
  std::int64_t quantity = 0;
  std::string reason;
};

// Reason codes an associate scans stock adjustments under (a batch: one reason, many
// items): what each does to the books.
struct AdjustmentReason {
  std::string_view code;
  AdjustmentKind kind;
  int sign;  // +1 or -1: corrections that add or remove units
};
inline constexpr std::array<AdjustmentReason, 7> kAdjustmentReasons = {{
    {"damaged", AdjustmentKind::damage, 1},       // found damaged: unsellable
    {"found", AdjustmentKind::correction, 1},     // units nobody had on the books
    {"theft", AdjustmentKind::correction, -1},    // stolen
    {"lost", AdjustmentKind::correction, -1},     // gone, no one knows where
    {"display", AdjustmentKind::correction, -1},  // taken for the shop window: not for sale here
    {"disposed", AdjustmentKind::disposal, 1},    // unsellable units thrown away or sent back
    {"received", AdjustmentKind::receipt, 1},     // goods that came without an announced delivery
}};
std::optional<AdjustmentReason> adjustment_reason(std::string_view code);

struct AdjustmentLine {
  std::string code;  // a SKU or any of its barcodes, as scanned
  std::int64_t quantity = 1;
};

struct AdjustmentBatch {
  std::string reason;  // one of kAdjustmentReasons
  std::string note;
  std::vector<AdjustmentLine> lines;
};
inline constexpr std::size_t kMaxBatchLines = 500;

struct CountEntry {
  std::string sku;
  std::int64_t on_hand = 0;                // every unit of the SKU physically in the store
  std::optional<std::int64_t> unsellable;  // of which unsellable, when counted separately
};

struct CycleCount {
  std::vector<CountEntry> entries;
  std::string note;
};

struct CountDifference {
  std::string sku;
  std::int64_t on_hand_delta = 0;
  std::int64_t unsellable_delta = 0;
};

// The cloud's view of stock, including every store event up to watermark_seq.
struct SnapshotItem {
  std::string sku;
  std::int64_t on_hand = 0;
  std::int64_t unsellable = 0;
};

struct InventorySnapshot {
  std::int64_t watermark_seq = 0;
  std::vector<SnapshotItem> items;
};

// What a stock search found, best first.
struct StockMatches {
  std::vector<StockLevel> items;
  bool truncated = false;  // more SKUs matched than the limit
};
inline constexpr std::size_t kMaxStockSearchWords = 8;

struct LedgerTotals {
  std::int64_t on_hand = 0;
  std::int64_t unsellable = 0;
  std::int64_t rows = 0;
};

class Inventory {
 public:
  Inventory(Database& db, Outbox& outbox) : db_(db), outbox_(outbox) {}

  // Catalog data from the cloud (title, bin, barcodes, safety stock); stock is untouched.
  // No outbox event: the cloud is the source of the catalog.
  Result<void> upsert(const SkuRecord& record, const CommandContext& ctx);
  Result<void> adjust(const StockAdjustment& adjustment, const CommandContext& ctx);
  // Scanned items under one reason, posted together (one transaction; each line its own
  // ledger rows and stock.adjusted event) or, if any line is refused, not at all. Returns
  // each line's SKU level afterwards.
  Result<std::vector<StockLevel>> adjust_batch(const AdjustmentBatch& batch,
                                               const CommandContext& ctx);
  Result<std::vector<CountDifference>> post_count(const CycleCount& count,
                                                  const CommandContext& ctx);

  // Re-bases stock on a cloud snapshot: each SKU becomes the snapshot's figure plus the
  // movements of local events after the watermark (which the cloud has not applied).
  Result<std::vector<CountDifference>> apply_snapshot(const InventorySnapshot& snapshot,
                                                      const CommandContext& ctx);

  std::optional<StockLevel> level(const std::string& sku);
  // Resolves a scanned or typed barcode (any GTIN length) to its SKU.
  std::optional<std::string> sku_for_barcode(std::string_view scanned);
  std::vector<std::string> barcodes_of(const std::string& sku);
  // Words in any order: a SKU matches when each whitespace-separated word of `text` is part
  // of its SKU, title or bin (ASCII letter case ignored) or is one of its barcodes. Best
  // first: the SKU `text` is exactly, the SKU of `text` as a barcode, then by SKU. Refuses
  // (invalid_argument) a text with no words or more than kMaxStockSearchWords.
  Result<StockMatches> search(std::string_view text, std::size_t limit);
  LedgerTotals ledger_totals(const std::string& sku);
  std::int64_t sku_count();

 private:
  static Result<void> check_adjustment(const StockAdjustment& adjustment);
  Result<void> post_adjustment(const StockAdjustment& adjustment, const CommandContext& ctx);
  Database& db_;
  Outbox& outbox_;
};

}  // namespace fulfil::agent
