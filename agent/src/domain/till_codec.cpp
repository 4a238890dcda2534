// The shapes a till transaction arrives in: the POS API's JSON body (also a drop-folder
// .json file) and a drop-folder .csv file. Only the shape is checked here; the rules
// (keys, quantities, text, the catalog) are TillSales::apply's, for both.
#include <charconv>

#include "domain/till_sales.hpp"

namespace fulfil::agent {
namespace {

using nlohmann::json;
using Parsed = Expected<TillTransaction, std::string>;

Unexpected<std::string> bad(std::string message) {
  return {std::move(message)};
}

// A value from the file or body, echoed in an error: printable ASCII only and short, so a
// hostile value cannot reach a log or an error file as anything but text.
std::string shown(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return value.size() > 40 ? out + "..." : out;
}

std::optional<std::string> unknown_field(const json& object,
                                         std::initializer_list<const char*> allowed,
                                         const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const char* a : allowed) known |= key == a;
    if (!known) return where + shown(key) + ": unknown field";
  }
  return std::nullopt;
}

Expected<TillLine, std::string> line_from_json(const json& l, const std::string& where) {
  if (!l.is_object()) return bad(where.substr(0, where.size() - 1) + ": must be an object");
  if (auto u = unknown_field(l, {"sku", "barcode", "quantity"}, where)) return bad(*u);
  TillLine line;
  const bool by_sku = l.contains("sku") && !l["sku"].is_null();
  const bool by_code = l.contains("barcode") && !l["barcode"].is_null();
  if (by_sku == by_code) return bad(where + "sku: give a sku or a barcode (one of the two)");
  line.by = by_sku ? TillCode::sku : TillCode::barcode;
  const json& code = l[by_sku ? "sku" : "barcode"];
  if (!code.is_string()) return bad(where + (by_sku ? "sku" : "barcode") + ": must be a string");
  line.code = code.get<std::string>();
  if (!l.contains("quantity") || l["quantity"].is_null())
    return bad(where + "quantity: is required");
  if (!l["quantity"].is_number_integer()) return bad(where + "quantity: must be a whole number");
  line.quantity = l["quantity"].get<std::int64_t>();
  return line;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

}  // namespace

Parsed till_transaction_from_json(const json& doc, const std::string& default_till_id) {
  if (!doc.is_object()) return bad("the till transaction must be a JSON object");
  if (auto u =
          unknown_field(doc, {"till_id", "transaction_id", "kind", "lines", "occurred_at"}, ""))
    return bad(*u);
  TillTransaction t;
  for (const char* key : {"till_id", "transaction_id", "kind"}) {
    if (doc.contains(key) && !doc[key].is_null() && !doc[key].is_string())
      return bad(std::string(key) + ": must be a string");
  }
  auto given = [&](const char* key) { return doc.contains(key) && !doc[key].is_null(); };
  t.till_id = given("till_id") ? doc["till_id"].get<std::string>() : default_till_id;
  if (!given("transaction_id")) return bad("transaction_id: is required");
  t.transaction_id = doc["transaction_id"].get<std::string>();
  if (!given("kind")) return bad("kind: is required");
  auto kind = till_kind_from(doc["kind"].get<std::string>());
  if (!kind)
    return bad("kind: must be sale or return, not '" + shown(doc["kind"].get<std::string>()) + "'");
  t.kind = *kind;
  if (doc.contains("occurred_at") && !doc["occurred_at"].is_null()) {
    if (!doc["occurred_at"].is_number_integer())
      return bad("occurred_at: must be a whole number (ms since the epoch)");
    t.occurred_at = doc["occurred_at"].get<std::int64_t>();
  }
  if (!doc.contains("lines") || !doc["lines"].is_array()) return bad("lines: must be an array");
  if (doc["lines"].size() > kMaxTillLines)
    return bad("lines: at most " + std::to_string(kMaxTillLines) + " lines, got " +
               std::to_string(doc["lines"].size()));
  for (std::size_t i = 0; i < doc["lines"].size(); ++i) {
    auto line = line_from_json(doc["lines"][i], "lines[" + std::to_string(i) + "].");
    if (!line) return bad(line.error());
    t.lines.push_back(*line);
  }
  return t;
}

Parsed till_transaction_from_csv(std::string_view text, const std::string& till_id) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a spreadsheet's BOM
  auto rows = split(text, '\n');
  if (rows.empty() || trim(rows[0]) != "transaction_id,kind,sku_or_barcode,quantity")
    return bad("line 1: the header must be transaction_id,kind,sku_or_barcode,quantity");
  TillTransaction t;
  t.till_id = till_id;
  for (std::size_t n = 1; n < rows.size(); ++n) {
    if (trim(rows[n]).empty()) continue;
    const std::string where = "line " + std::to_string(n + 1) + ": ";
    auto cells = split(rows[n], ',');
    if (cells.size() != 4)
      return bad(where + "4 comma-separated values expected, got " + std::to_string(cells.size()));
    const std::string id(trim(cells[0])), kind_name(trim(cells[1])), code(trim(cells[2]));
    const auto qty_text = trim(cells[3]);
    auto kind = till_kind_from(kind_name);
    if (!kind) return bad(where + "kind must be sale or return, not '" + shown(kind_name) + "'");
    if (t.lines.empty()) {
      t.transaction_id = id;
      t.kind = *kind;
    } else if (id != t.transaction_id || *kind != t.kind) {
      return bad(where +
                 "every row of a file is one transaction: transaction_id and kind must "
                 "be those of line 2");
    }
    if (t.lines.size() == kMaxTillLines)
      return bad(where + "at most " + std::to_string(kMaxTillLines) + " lines");
    std::int64_t qty = 0;
    const auto [end, ec] = std::from_chars(qty_text.data(), qty_text.data() + qty_text.size(), qty);
    if (ec != std::errc() || end != qty_text.data() + qty_text.size() || qty_text.empty())
      return bad(where + "quantity '" + shown(qty_text) + "' is not a whole number");
    t.lines.push_back({code, TillCode::sku_or_barcode, qty});
  }
  if (t.lines.empty()) return bad("the file has a header but no lines");
  return t;
}

}  // namespace fulfil::agent
