#include "domain/till_sales.hpp"

#include "digest.hpp"
#include "domain/transaction.hpp"
#include "search_text.hpp"
#include "stock_ledger.hpp"
#include "text_checks.hpp"

namespace fulfil::agent {
namespace {

using nlohmann::json;

// Till and receipt numbers end up in URLs (GET /api/v1/pos/transactions/{till}/{id}), in
// event subjects and in logs: a plain alphabet keeps them safe in all three.
Result<void> check_key(std::string_view field, std::string_view value) {
  if (auto ok = check_text(field, value, 64, true); !ok) return ok;
  for (char c : value) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-' || c == ':';
    if (!plain)
      return fail(DomainErrc::invalid_argument,
                  std::string(field) + " may hold only letters, digits, '.', '_', '-' and ':'");
  }
  return {};
}

std::string line_field(std::size_t index, const TillLine& line) {
  const auto by = line.by == TillCode::sku_or_barcode ? std::string_view("sku_or_barcode")
                                                      : till_code_name(line.by);
  return "lines[" + std::to_string(index) + "]." + std::string(by);
}

// What identifies the request's content (the key aside), in a canonical form: a retry
// that sends the same transaction gets the same digest.
std::string request_digest(const TillTransaction& t) {
  json lines = json::array();
  for (const auto& l : t.lines) lines.push_back({till_code_name(l.by), l.code, l.quantity});
  const json doc = {{"kind", till_kind_name(t.kind)},
                    {"occurred_at", t.occurred_at ? json(*t.occurred_at) : json(nullptr)},
                    {"lines", lines}};
  return sha256_hex(doc.dump());
}

TillOutcome outcome_from_json(const json& j) {
  TillOutcome o;
  o.till_id = j.at("till_id").get<std::string>();
  o.transaction_id = j.at("transaction_id").get<std::string>();
  o.kind = till_kind_from(j.at("kind").get<std::string>()).value_or(TillKind::sale);
  for (const auto& l : j.at("lines"))
    o.lines.push_back({l.at("sku").get<std::string>(), l.value("barcode", std::string()),
                       l.at("quantity").get<std::int64_t>(), l.at("shortfall").get<std::int64_t>(),
                       l.at("on_hand").get<std::int64_t>()});
  o.event_seq = j.at("event_seq").get<std::int64_t>();
  o.applied_at = j.at("applied_at").get<std::int64_t>();
  return o;
}

}  // namespace

Result<void> check_till_id(std::string_view field, std::string_view till_id) {
  return check_key(field, till_id);
}

std::string_view till_kind_name(TillKind kind) {
  return kind == TillKind::ret ? "return" : "sale";
}

std::optional<TillKind> till_kind_from(std::string_view name) {
  for (auto k : {TillKind::sale, TillKind::ret})
    if (till_kind_name(k) == name) return k;
  return std::nullopt;
}

std::string_view till_code_name(TillCode by) {
  switch (by) {
    case TillCode::sku:
      return "sku";
    case TillCode::barcode:
      return "barcode";
    case TillCode::sku_or_barcode:
      return "sku_or_barcode";
  }
  return "sku";
}

json till_outcome_json(const TillOutcome& o) {
  json lines = json::array();
  for (const auto& l : o.lines) {
    json line = {{"sku", l.sku},
                 {"quantity", l.quantity},
                 {"shortfall", l.shortfall},
                 {"on_hand", l.on_hand}};
    if (!l.barcode.empty()) line["barcode"] = l.barcode;
    lines.push_back(std::move(line));
  }
  return {{"till_id", o.till_id},           {"transaction_id", o.transaction_id},
          {"kind", till_kind_name(o.kind)}, {"lines", lines},
          {"event_seq", o.event_seq},       {"applied_at", o.applied_at},
          {"duplicate", o.duplicate}};
}

Result<void> TillSales::check(const TillTransaction& t) {
  if (auto ok = check_key("till_id", t.till_id); !ok) return ok;
  if (auto ok = check_key("transaction_id", t.transaction_id); !ok) return ok;
  if (t.lines.empty() || t.lines.size() > kMaxTillLines)
    return fail(DomainErrc::invalid_argument, "lines: a till transaction needs 1 to " +
                                                  std::to_string(kMaxTillLines) + " lines, got " +
                                                  std::to_string(t.lines.size()));
  if (t.occurred_at && *t.occurred_at < 0)
    return fail(DomainErrc::invalid_argument, "occurred_at cannot be negative");
  for (std::size_t i = 0; i < t.lines.size(); ++i) {
    const auto& l = t.lines[i];
    const std::string where = line_field(i, l);
    if (auto ok = check_text(where, l.code, 100, true); !ok) return ok;
    if (l.quantity <= 0 || l.quantity > kMaxTillQuantity)
      return fail(DomainErrc::invalid_argument,
                  "lines[" + std::to_string(i) + "].quantity must be 1 to " +
                      std::to_string(kMaxTillQuantity) + ", got " + std::to_string(l.quantity));
  }
  return {};
}

Result<TillOutcome> TillSales::apply(const TillTransaction& t, const CommandContext& ctx) {
  if (auto ok = check(t); !ok) return unexpected(ok.error());
  const std::string digest = request_digest(t);
  const std::string key = t.till_id + "/" + t.transaction_id;
  return commit_or_rollback(db_, [&]() -> Result<TillOutcome> {
    auto earlier = db_.prepare(
        "SELECT request_digest FROM till_transaction WHERE till_id=? AND transaction_id=?");
    earlier.bind(1, t.till_id).bind(2, t.transaction_id);
    if (earlier.step()) {
      if (earlier.text(0) != digest)
        return fail(DomainErrc::duplicate,
                    "till transaction " + key +
                        " was already applied with other content; a new transaction needs a new "
                        "transaction_id");
      return *find(t.till_id, t.transaction_id);
    }
    TillOutcome out{t.till_id, t.transaction_id, t.kind, {}, 0, ctx.now_ms, false};
    json movements = json::array();
    for (std::size_t i = 0; i < t.lines.size(); ++i) {
      auto line = apply_line(t, i, ctx, movements);
      if (!line) return unexpected(line.error());
      out.lines.push_back(*line);
    }
    // Each line's on_hand is read after the whole transaction: a SKU on two lines shows
    // its final figure on both.
    StockLedger ledger(db_);
    for (auto& l : out.lines) l.on_hand = ledger.level(l.sku)->on_hand;
    json payload = till_outcome_json(out);
    payload.erase("event_seq");
    payload.erase("duplicate");
    payload.erase("applied_at");
    // The till's own clock; the event's occurred_at is when the store applied it.
    payload["rung_up_at"] = t.occurred_at ? json(*t.occurred_at) : json(nullptr);
    payload["actor"] = ctx.actor.str();
    payload["movements"] = movements;
    out.event_seq = outbox_.append("stock.till_transaction", key, payload, ctx.now_ms);
    auto insert = db_.prepare(
        "INSERT INTO till_transaction (till_id, transaction_id, kind, request_digest, result, "
        "actor, occurred_at, applied_at, event_seq) VALUES (?,?,?,?,?,?,?,?,?)");
    insert.bind(1, t.till_id)
        .bind(2, t.transaction_id)
        .bind(3, till_kind_name(t.kind))
        .bind(4, digest)
        .bind(5, till_outcome_json(out).dump())
        .bind(6, ctx.actor.str())
        .bind(8, ctx.now_ms)
        .bind(9, out.event_seq);
    if (t.occurred_at)
      insert.bind(7, *t.occurred_at);
    else
      insert.bind_null(7);
    insert.run();
    return out;
  });
}

Result<TillLineResult> TillSales::apply_line(const TillTransaction& t, std::size_t index,
                                             const CommandContext& ctx, json& movements) {
  const TillLine& l = t.lines[index];
  StockLedger ledger(db_);
  TillLineResult r{"", "", l.quantity, 0, 0};
  if (l.by != TillCode::barcode && ledger.level(l.code)) {
    r.sku = l.code;
  } else if (l.by != TillCode::sku) {
    auto sku = search_text::sku_for_barcode(db_, l.code);
    if (!sku)
      return fail(DomainErrc::unknown_sku, line_field(index, l) + ": '" + l.code +
                                               "' is no SKU or barcode in this store's catalog");
    r.sku = *sku;
    r.barcode = l.code;
  } else {
    return fail(DomainErrc::unknown_sku, line_field(index, l) + ": unknown SKU '" + l.code + "'");
  }
  const std::string reason = "till " + t.till_id + " transaction " + t.transaction_id;
  std::vector<Movement> moves;
  if (t.kind == TillKind::sale) {
    auto shortfall = ledger.sell_at_till(r.sku, l.quantity, reason, ctx, moves);
    if (!shortfall) return unexpected(shortfall.error());
    r.shortfall = *shortfall;
  } else {
    Movement back{r.sku, Bucket::on_hand, l.quantity, "return", reason, std::nullopt};
    if (auto ok = ledger.post(back, ctx); !ok) return unexpected(ok.error());
    moves.push_back(back);
  }
  for (auto& m : movements_json(moves)) movements.push_back(std::move(m));
  return r;
}

std::optional<TillOutcome> TillSales::find(const std::string& till_id,
                                           const std::string& transaction_id) {
  auto s = db_.prepare("SELECT result FROM till_transaction WHERE till_id=? AND transaction_id=?");
  s.bind(1, till_id).bind(2, transaction_id);
  if (!s.step()) return std::nullopt;
  auto out = outcome_from_json(json::parse(s.text(0)));
  out.duplicate = true;
  return out;
}

}  // namespace fulfil::agent
