#include "domain/inventory.hpp"

#include <algorithm>
#include <set>

#include "codes/gtin.hpp"
#include "count_posting.hpp"
#include "domain/transaction.hpp"
#include "search_text.hpp"
#include "state_names.hpp"
#include "stock_ledger.hpp"
#include "text_checks.hpp"

namespace fulfil::agent {
namespace {

constexpr std::int64_t kMaxQuantity = 1'000'000;

Result<void> check_quantity(std::string_view what, std::int64_t q, bool allow_negative) {
  if (q == 0 || (!allow_negative && q < 0) || q > kMaxQuantity || q < -kMaxQuantity)
    return fail(DomainErrc::invalid_argument, std::string(what) + " must be " +
                                                  (allow_negative ? "non-zero" : "positive") +
                                                  " and at most " + std::to_string(kMaxQuantity) +
                                                  " in size, got " + std::to_string(q));
  return {};
}

}  // namespace

std::optional<AdjustmentKind> adjustment_kind_from(std::string_view name) {
  for (auto k : {AdjustmentKind::receipt, AdjustmentKind::correction, AdjustmentKind::damage,
                 AdjustmentKind::disposal})
    if (adjustment_kind_name(k) == name) return k;
  return std::nullopt;
}

std::string_view adjustment_kind_name(AdjustmentKind kind) {
  switch (kind) {
    case AdjustmentKind::receipt:
      return "receipt";
    case AdjustmentKind::correction:
      return "correction";
    case AdjustmentKind::damage:
      return "damage";
    case AdjustmentKind::disposal:
      return "disposal";
  }
  return "correction";
}

Result<void> Inventory::upsert(const SkuRecord& r, const CommandContext& ctx) {
  if (auto ok = check_text("sku", r.sku, 64, true); !ok) return ok;
  if (auto ok = check_text("title", r.title, 200, true); !ok) return ok;
  if (auto ok = check_text("bin", r.bin, 40, false); !ok) return ok;
  if (r.safety_stock < 0 || r.safety_stock > kMaxQuantity)
    return fail(DomainErrc::invalid_argument,
                "safety_stock of SKU " + r.sku + " must be 0 to " + std::to_string(kMaxQuantity));
  std::set<std::string> gtins;
  for (const auto& code : r.barcodes) {
    auto gtin = drivers::normalize_gtin(code);
    if (!gtin)
      return fail(DomainErrc::invalid_argument,
                  "barcode '" + code + "' of SKU " + r.sku + ": " + gtin.error().message);
    gtins.insert(*gtin);
  }
  return commit_or_rollback(db_, [&]() -> Result<void> {
    for (const auto& gtin : gtins) {
      auto owner = db_.prepare("SELECT sku FROM sku_barcode WHERE gtin=?");
      owner.bind(1, gtin);
      if (owner.step() && owner.text(0) != r.sku)
        return fail(DomainErrc::duplicate,
                    "barcode " + gtin + " already belongs to SKU " + owner.text(0));
    }
    db_.prepare(
           "INSERT INTO sku (sku, title, bin, safety_stock, updated_at) VALUES (?,?,?,?,?) "
           "ON CONFLICT(sku) DO UPDATE SET title=excluded.title, bin=excluded.bin, "
           "safety_stock=excluded.safety_stock, updated_at=excluded.updated_at")
        .bind(1, r.sku)
        .bind(2, r.title)
        .bind(3, r.bin)
        .bind(4, r.safety_stock)
        .bind(5, ctx.now_ms)
        .run();
    db_.prepare("DELETE FROM sku_barcode WHERE sku=?").bind(1, r.sku).run();
    for (const auto& gtin : gtins)
      db_.prepare("INSERT INTO sku_barcode (gtin, sku) VALUES (?,?)")
          .bind(1, gtin)
          .bind(2, r.sku)
          .run();
    return {};
  });
}

Result<void> Inventory::adjust(const StockAdjustment& a, const CommandContext& ctx) {
  if (auto ok = check_adjustment(a); !ok) return ok;
  return commit_or_rollback(db_, [&] { return post_adjustment(a, ctx); });
}

Result<void> Inventory::check_adjustment(const StockAdjustment& a) {
  const bool signed_kind = a.kind == AdjustmentKind::correction;
  if (auto ok = check_quantity("quantity", a.quantity, signed_kind); !ok) return ok;
  return check_text("reason", a.reason, 200, a.kind != AdjustmentKind::receipt);
}

// Inside the caller's transaction: the adjustment's movements and its stock.adjusted event.
Result<void> Inventory::post_adjustment(const StockAdjustment& a, const CommandContext& ctx) {
  const std::string kind(adjustment_kind_name(a.kind));
  std::vector<Movement> moves;
  switch (a.kind) {
    case AdjustmentKind::receipt:
      moves = arrival(a.sku, a.quantity, false, kind, a.reason);
      break;
    case AdjustmentKind::correction:
      moves.push_back({a.sku, Bucket::on_hand, a.quantity, kind, a.reason, std::nullopt});
      break;
    case AdjustmentKind::damage:
      moves.push_back({a.sku, Bucket::unsellable, a.quantity, kind, a.reason, std::nullopt});
      break;
    case AdjustmentKind::disposal:
      // Unsellable first, so on_hand never dips below unsellable in between.
      moves.push_back({a.sku, Bucket::unsellable, -a.quantity, kind, a.reason, std::nullopt});
      moves.push_back({a.sku, Bucket::on_hand, -a.quantity, kind, a.reason, std::nullopt});
      break;
  }
  StockLedger ledger(db_);
  for (const auto& m : moves)
    if (auto ok = ledger.post(m, ctx); !ok) return ok;
  auto after = ledger.level(a.sku);
  outbox_.append("stock.adjusted", a.sku,
                 {{"sku", a.sku},
                  {"kind", kind},
                  {"quantity", a.quantity},
                  {"reason", a.reason},
                  {"actor", ctx.actor.str()},
                  {"movements", movements_json(moves)},
                  {"on_hand", after->on_hand},
                  {"unsellable", after->unsellable}},
                 ctx.now_ms);
  return {};
}

std::optional<AdjustmentReason> adjustment_reason(std::string_view code) {
  for (const auto& r : kAdjustmentReasons)
    if (r.code == code) return r;
  return std::nullopt;
}

Result<std::vector<StockLevel>> Inventory::adjust_batch(const AdjustmentBatch& batch,
                                                        const CommandContext& ctx) {
  const auto reason = adjustment_reason(batch.reason);
  if (!reason)
    return fail(DomainErrc::invalid_argument,
                "reason '" + batch.reason + "' is not one of: " +
                    joined_names(kAdjustmentReasons, [](const auto& r) { return r.code; }));
  if (batch.lines.empty() || batch.lines.size() > kMaxBatchLines)
    return fail(DomainErrc::invalid_argument,
                "a batch has 1 to " + std::to_string(kMaxBatchLines) + " lines");
  if (auto ok = check_text("note", batch.note, 200, false); !ok) return unexpected(ok.error());
  // Every line checked before anything is written: one bad line refuses the whole batch.
  std::vector<StockAdjustment> adjustments;
  const std::string why = std::string(reason->code) + (batch.note.empty() ? "" : ": " + batch.note);
  for (std::size_t i = 0; i < batch.lines.size(); ++i) {
    const auto& l = batch.lines[i];
    const std::string at = "lines[" + std::to_string(i) + "]";
    auto sku = level(l.code) ? std::optional<std::string>(l.code) : sku_for_barcode(l.code);
    if (!sku)
      return fail(DomainErrc::unknown_sku,
                  at + ": '" + l.code + "' is no SKU or barcode of this store");
    StockAdjustment a{*sku, reason->kind, reason->sign * l.quantity, why};
    if (l.quantity <= 0)
      return fail(DomainErrc::invalid_argument, at + ": quantity must be 1 or more");
    if (auto ok = check_adjustment(a); !ok)
      return fail(ok.error().code, at + ": " + ok.error().message);
    adjustments.push_back(std::move(a));
  }
  return commit_or_rollback(db_, [&]() -> Result<std::vector<StockLevel>> {
    std::vector<StockLevel> after;
    for (std::size_t i = 0; i < adjustments.size(); ++i) {
      if (auto ok = post_adjustment(adjustments[i], ctx); !ok)
        return fail(ok.error().code, "lines[" + std::to_string(i) + "]: " + ok.error().message);
      after.push_back(*level(adjustments[i].sku));
    }
    return after;
  });
}

Result<std::vector<CountDifference>> Inventory::post_count(const CycleCount& count,
                                                           const CommandContext& ctx) {
  if (count.entries.empty())
    return fail(DomainErrc::invalid_argument, "a cycle count needs at least one SKU");
  if (auto ok = check_text("note", count.note, 200, false); !ok) return unexpected(ok.error());
  std::set<std::string> seen;
  for (const auto& e : count.entries) {
    if (!seen.insert(e.sku).second)
      return fail(DomainErrc::invalid_argument, "SKU " + e.sku + " is counted twice");
    if (e.on_hand < 0 || e.on_hand > kMaxQuantity)
      return fail(
          DomainErrc::invalid_argument,
          "counted quantity of SKU " + e.sku + " must be 0 to " + std::to_string(kMaxQuantity));
    if (e.unsellable && (*e.unsellable < 0 || *e.unsellable > e.on_hand))
      return fail(DomainErrc::invalid_argument, "counted unsellable quantity of SKU " + e.sku +
                                                    " must be 0 to " + std::to_string(e.on_hand) +
                                                    " (the counted total)");
  }
  return commit_or_rollback(db_, [&]() -> Result<std::vector<CountDifference>> {
    StockLedger ledger(db_);
    std::vector<CountDifference> diffs;
    for (const auto& e : count.entries) {
      auto level = ledger.level(e.sku);
      if (!level) return fail(DomainErrc::unknown_sku, "unknown SKU " + e.sku);
      // Unsellable never exceeds what is there: without a separate count it shrinks with
      // the total.
      const std::int64_t target_unsellable =
          e.unsellable ? *e.unsellable : std::min(level->unsellable, e.on_hand);
      diffs.push_back({e.sku, e.on_hand - level->on_hand, target_unsellable - level->unsellable});
    }
    if (auto ok =
            post_count_differences(db_, outbox_, diffs, count.note, nlohmann::json::object(), ctx);
        !ok)
      return unexpected(ok.error());
    return diffs;
  });
}

Result<void> post_count_differences(Database& db, Outbox& outbox,
                                    const std::vector<CountDifference>& diffs,
                                    const std::string& note, const nlohmann::json& extra,
                                    const CommandContext& ctx) {
  if (diffs.empty()) return fail(DomainErrc::invalid_argument, "a count needs at least one SKU");
  StockLedger ledger(db);
  std::vector<Movement> moves;
  for (const auto& d : diffs) {
    // Order the two moves so that unsellable <= on_hand holds after each.
    Movement total{d.sku, Bucket::on_hand, d.on_hand_delta, "count", note, std::nullopt};
    Movement unsell{d.sku, Bucket::unsellable, d.unsellable_delta, "count", note, std::nullopt};
    std::vector<Movement> ordered;
    if (d.on_hand_delta < 0)
      ordered = {unsell, total};
    else
      ordered = {total, unsell};
    for (const auto& m : ordered) {
      if (m.delta == 0) continue;
      if (auto ok = ledger.post(m, ctx); !ok) return ok;
      moves.push_back(m);
    }
  }
  nlohmann::json diff_json = nlohmann::json::array();
  for (const auto& d : diffs)
    diff_json.push_back({{"sku", d.sku},
                         {"on_hand_delta", d.on_hand_delta},
                         {"unsellable_delta", d.unsellable_delta}});
  nlohmann::json payload = {{"note", note},
                            {"actor", ctx.actor.str()},
                            {"differences", diff_json},
                            {"movements", movements_json(moves)}};
  for (auto it = extra.begin(); it != extra.end(); ++it) payload[it.key()] = it.value();
  outbox.append("stock.counted", diffs.front().sku, payload, ctx.now_ms);
  return {};
}

Result<std::vector<CountDifference>> Inventory::apply_snapshot(const InventorySnapshot& snap,
                                                               const CommandContext& ctx) {
  if (snap.watermark_seq < 0)
    return fail(DomainErrc::invalid_argument, "snapshot watermark_seq cannot be negative");
  std::set<std::string> seen;
  for (const auto& item : snap.items) {
    if (!seen.insert(item.sku).second)
      return fail(DomainErrc::invalid_argument, "snapshot lists SKU " + item.sku + " twice");
    if (item.on_hand < 0 || item.unsellable < 0 || item.unsellable > item.on_hand)
      return fail(DomainErrc::invalid_argument, "snapshot figures for SKU " + item.sku +
                                                    " must satisfy 0 <= unsellable <= on_hand");
  }
  return commit_or_rollback(db_, [&]() -> Result<std::vector<CountDifference>> {
    StockLedger ledger(db_);
    std::vector<CountDifference> diffs;
    std::vector<Movement> moves;
    nlohmann::json discrepancies = nlohmann::json::array();
    for (const auto& item : snap.items) {
      auto level = ledger.level(item.sku);
      if (!level) return fail(DomainErrc::unknown_sku, "snapshot names unknown SKU " + item.sku);
      auto unseen = db_.prepare(
          "SELECT coalesce(sum(CASE WHEN bucket='on_hand' THEN delta END),0),"
          " coalesce(sum(CASE WHEN bucket='unsellable' THEN delta END),0) FROM ledger "
          "WHERE sku=? AND event_seq > ?");
      unseen.bind(1, item.sku).bind(2, snap.watermark_seq);
      unseen.step();
      std::int64_t on_hand = item.on_hand + unseen.int64(0);
      std::int64_t unsellable = item.unsellable + unseen.int64(1);
      if (on_hand < 0 || unsellable < 0 || unsellable > on_hand)
        discrepancies.push_back(
            {{"sku", item.sku}, {"on_hand", on_hand}, {"unsellable", unsellable}});
      on_hand = std::max<std::int64_t>(on_hand, 0);
      unsellable = std::clamp<std::int64_t>(unsellable, 0, on_hand);
      CountDifference d{item.sku, on_hand - level->on_hand, unsellable - level->unsellable};
      Movement total{item.sku,   Bucket::on_hand,  d.on_hand_delta,
                     "snapshot", "cloud snapshot", std::nullopt,
                     true};
      Movement unsell{item.sku,   Bucket::unsellable, d.unsellable_delta,
                      "snapshot", "cloud snapshot",   std::nullopt,
                      true};
      std::vector<Movement> ordered =
          d.on_hand_delta < 0 ? std::vector{unsell, total} : std::vector{total, unsell};
      for (const auto& m : ordered) {
        if (m.delta == 0) continue;
        if (auto ok = ledger.post(m, ctx); !ok) return unexpected(ok.error());
        moves.push_back(m);
      }
      if (d.on_hand_delta || d.unsellable_delta) diffs.push_back(d);
    }
    nlohmann::json diff_json = nlohmann::json::array();
    for (const auto& d : diffs)
      diff_json.push_back({{"sku", d.sku},
                           {"on_hand_delta", d.on_hand_delta},
                           {"unsellable_delta", d.unsellable_delta}});
    outbox_.append("inventory.snapshot_applied", "inventory",
                   {{"watermark_seq", snap.watermark_seq},
                    {"items", snap.items.size()},
                    {"differences", diff_json},
                    {"discrepancies", discrepancies}},
                   ctx.now_ms);
    return diffs;
  });
}

std::optional<StockLevel> Inventory::level(const std::string& sku) {
  return StockLedger(db_).level(sku);
}

std::optional<std::string> Inventory::sku_for_barcode(std::string_view scanned) {
  return search_text::sku_for_barcode(db_, scanned);
}

std::vector<std::string> Inventory::barcodes_of(const std::string& sku) {
  std::vector<std::string> out;
  auto s = db_.prepare("SELECT gtin FROM sku_barcode WHERE sku=? ORDER BY gtin");
  s.bind(1, sku);
  while (s.step()) out.push_back(s.text(0));
  return out;
}

namespace {

// The search for `words` words: each must be part of the SKU, title or bin (?2k, a LIKE
// "contains" pattern) or name the SKU by barcode (?2k+1, NULL when the word is no known
// barcode). ?1 is the limit. One statement per number of words, so the cache stays small.
std::string stock_search_sql(std::size_t words) {
  std::string sql = "SELECT sku FROM sku s WHERE 1";
  for (std::size_t k = 1; k <= words; ++k) {
    const std::string like = "?" + std::to_string(2 * k), code = "?" + std::to_string(2 * k + 1);
    sql += " AND (s.sku LIKE " + like + " ESCAPE '\\' OR s.title LIKE " + like +
           " ESCAPE '\\' OR s.bin LIKE " + like + " ESCAPE '\\' OR s.sku=" + code + ")";
  }
  return sql + " ORDER BY s.sku LIMIT ?1";
}

}  // namespace

Result<StockMatches> Inventory::search(std::string_view text, std::size_t limit) {
  const auto words = search_text::words(text);
  if (words.empty()) return fail(DomainErrc::invalid_argument, "the search text has no words");
  if (words.size() > kMaxStockSearchWords)
    return fail(DomainErrc::invalid_argument,
                "the search text has " + std::to_string(words.size()) + " words; at most " +
                    std::to_string(kMaxStockSearchWords) + " are allowed");
  StockMatches out;
  if (limit == 0) return out;
  std::vector<std::string> skus;
  std::set<std::string> seen;
  auto add = [&](const std::string& sku) {
    if (seen.insert(sku).second) skus.push_back(sku);
  };
  // Best first: the SKU typed exactly, the SKU of a scanned barcode, then by SKU.
  const auto whole = search_text::trimmed(text);
  if (level(std::string(whole))) add(std::string(whole));
  if (auto by_code = sku_for_barcode(whole)) add(*by_code);
  std::vector<std::optional<std::string>> codes;
  for (const auto& w : words) codes.push_back(sku_for_barcode(w));
  auto s = db_.prepare(stock_search_sql(words.size()));
  // One more than asked: whether there were more is part of the answer.
  s.bind(1, static_cast<std::int64_t>(limit) + 1);
  for (std::size_t k = 0; k < words.size(); ++k) {
    s.bind(static_cast<int>(2 * k + 2), search_text::like_contains(words[k]));
    s.bind_optional(static_cast<int>(2 * k + 3), codes[k]);
  }
  std::vector<std::string> matched;
  while (s.step()) matched.push_back(s.text(0));
  for (const auto& sku : matched) add(sku);
  // The exact and barcode matches may be outside the rows read; beyond `limit` either way
  // means more matched than are listed.
  out.truncated = skus.size() > limit;
  if (out.truncated) skus.resize(limit);
  for (const auto& sku : skus)
    if (auto l = level(sku)) out.items.push_back(*l);
  return out;
}

LedgerTotals Inventory::ledger_totals(const std::string& sku) {
  auto s = db_.prepare(
      "SELECT coalesce(sum(CASE WHEN bucket='on_hand' THEN delta END),0),"
      " coalesce(sum(CASE WHEN bucket='unsellable' THEN delta END),0), count(*) "
      "FROM ledger WHERE sku=?");
  s.bind(1, sku);
  s.step();
  return {s.int64(0), s.int64(1), s.int64(2)};
}

// Kept by triggers (migration 025): a count(*) reads every page of a 100k-SKU catalogue.
std::int64_t Inventory::sku_count() {
  auto s = db_.prepare("SELECT skus FROM catalog_size WHERE id = 1");
  s.step();
  return s.int64(0);
}

}  // namespace fulfil::agent
