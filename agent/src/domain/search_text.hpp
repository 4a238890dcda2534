#pragma once
// Internal to agent/: what a person typed or scanned into a search, as data. A search text
// never becomes SQL: it is bound as a parameter, and inside a LIKE pattern its '%', '_' and
// '\' are escaped (every LIKE here says ESCAPE '\'). LIKE ignores the case of ASCII letters
// only; so do these searches.
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codes/barcode.hpp"
#include "storage/database.hpp"

namespace fulfil::agent::search_text {

inline bool blank(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

inline std::string_view trimmed(std::string_view s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// Characters of UTF-8 text (bytes that do not continue a character).
inline std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// Whitespace-separated words, in order.
inline std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string word;
  for (char c : s) {
    if (!blank(c)) {
      word += c;
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

inline std::string digits(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c >= '0' && c <= '9') out += c;
  return out;
}

// `s` with LIKE's wildcards and the escape character escaped.
inline std::string like_literal(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

inline std::string like_prefix(std::string_view s) {
  return like_literal(s) + "%";
}

inline std::string like_contains(std::string_view s) {
  return "%" + like_literal(s) + "%";
}

// The SKU a scanned or typed product code names: EAN/UPC (UPC-E expanded), GTIN-14, or a
// GS1 element string with (01).
inline std::optional<std::string> sku_for_barcode(Database& db, std::string_view scanned) {
  auto decoded = drivers::decode_barcode(scanned);
  if (!decoded || !decoded->gtin14) return std::nullopt;
  auto s = db.prepare("SELECT sku FROM sku_barcode WHERE gtin=?");
  s.bind(1, *decoded->gtin14);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

}  // namespace fulfil::agent::search_text
