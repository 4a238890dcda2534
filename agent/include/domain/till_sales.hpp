#pragma once
// Walk-in sales and returns rung up at the store's tills (the POS feed), so the replica
// follows the shelf as it happens rather than at the cloud's next snapshot.
//
// The contract: a till transaction is applied exactly once, keyed by (till_id,
// transaction_id). Applying it is one transaction: each line's ledger movement (a sale
// takes units off on_hand, a return puts them back), one outbox event
// (stock.till_transaction) with its lines, and the record of the key with a digest of the
// request and the answer. Sent again with the same content, the first answer comes back
// marked duplicate and nothing changes; the same key with other content is refused
// (duplicate) naming the key. Any bad line (unknown SKU or barcode, bad quantity, hostile
// text) refuses the whole transaction, naming the line and field, and changes nothing.
//
// The one deliberate exception to "refused when the books cannot": a sale of more units
// than the replica holds is applied. The till is physical truth (the goods left with the
// customer); on_hand stops at 0 and the event reports the shortfall, so the cloud re-bases.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/expected.hpp"
#include "domain/domain.hpp"
#include "domain/outbox.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

enum class TillKind { sale, ret };  // "sale", "return"
std::string_view till_kind_name(TillKind kind);
std::optional<TillKind> till_kind_from(std::string_view name);

inline constexpr std::size_t kMaxTillLines = 200;
inline constexpr std::int64_t kMaxTillQuantity = 10'000;

// How a line names its item: by SKU, by barcode (any GTIN length), or (a CSV file's
// sku_or_barcode column) the SKU of that name if there is one, else the barcode.
enum class TillCode { sku, barcode, sku_or_barcode };
std::string_view till_code_name(TillCode by);

// One line as the till rang it up.
struct TillLine {
  std::string code;
  TillCode by = TillCode::sku;
  std::int64_t quantity = 0;
};

struct TillTransaction {
  std::string till_id;         // which till ("till-1"); letters, digits, '.', '_', '-'
  std::string transaction_id;  // the till's receipt number: unique per till
  TillKind kind = TillKind::sale;
  std::vector<TillLine> lines;
  std::optional<std::int64_t> occurred_at;  // the till's clock (ms since the epoch)
};

struct TillLineResult {
  std::string sku;
  std::string barcode;  // the barcode rung up, when the line was found by one
  std::int64_t quantity = 0;
  std::int64_t shortfall = 0;  // units sold beyond what the replica held
  std::int64_t on_hand = 0;    // after this transaction
};

struct TillOutcome {
  std::string till_id;
  std::string transaction_id;
  TillKind kind = TillKind::sale;
  std::vector<TillLineResult> lines;
  std::int64_t event_seq = 0;  // the stock.till_transaction event
  std::int64_t applied_at = 0;
  bool duplicate = false;  // this answer repeats the first one: nothing was changed now
};

// A till id as transactions carry it (letters, digits, '.', '_', '-', ':'; at most 64):
// also what a till's terminal is paired for, named `field` in the refusal.
Result<void> check_till_id(std::string_view field, std::string_view till_id);

class TillSales {
 public:
  TillSales(Database& db, Outbox& outbox) : db_(db), outbox_(outbox) {}
  Result<TillOutcome> apply(const TillTransaction& transaction, const CommandContext& ctx);
  // What was answered for this key, marked duplicate; nullopt when it was never applied.
  std::optional<TillOutcome> find(const std::string& till_id, const std::string& transaction_id);

 private:
  Result<void> check(const TillTransaction& t);
  Result<TillLineResult> apply_line(const TillTransaction& t, std::size_t index,
                                    const CommandContext& ctx, nlohmann::json& movements);
  Database& db_;
  Outbox& outbox_;
};

// The request's shape (the API body and a drop-folder JSON file), naming the field of
// the first problem ("lines[2].quantity: ..."); the rules are TillSales::apply's.
// `default_till_id` is used when the document has no till_id (a drop folder's till).
Expected<TillTransaction, std::string> till_transaction_from_json(
    const nlohmann::json& doc, const std::string& default_till_id);
// A drop-folder CSV file: header `transaction_id,kind,sku_or_barcode,quantity`, one row
// per line, every row with the same transaction_id and kind; sku_or_barcode is
// TillCode::sku_or_barcode.
Expected<TillTransaction, std::string> till_transaction_from_csv(std::string_view text,
                                                                 const std::string& till_id);
nlohmann::json till_outcome_json(const TillOutcome& outcome);

}  // namespace fulfil::agent
