// UTF-8 cleaning and cutting for printed fields.
#include <cstdint>

#include "config/utf8.hpp"
#include "documents_internal.hpp"

namespace fulfil::drivers::docs {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

using config::utf8_sequence_length;

bool is_control(std::string_view seq) {
  const auto c = static_cast<unsigned char>(seq[0]);
  if (seq.size() == 1) return c < 0x20 || c == 0x7F;
  // C1 controls U+0080..U+009F are C2 80..C2 9F.
  return seq.size() == 2 && c == 0xC2 && static_cast<unsigned char>(seq[1]) <= 0x9F;
}

// Unicode's explicit directional formatting characters: ALM (U+061C), LRM and RLM
// (U+200E-F), the embeddings and overrides LRE..RLO (U+202A-E) and the isolates LRI..PDI
// (U+2066-9). On a label they only serve to spoof: U+202E turns the rest of a name or an
// address around on paper while the data says otherwise. Shaping needs none of them.
bool is_bidi_control(std::string_view seq) {
  auto is = [&](std::string_view other) { return seq == other; };
  if (is("\xD8\x9C") || is("\xE2\x80\x8E") || is("\xE2\x80\x8F")) return true;
  if (seq.size() != 3 || seq[0] != '\xE2') return false;
  const auto b1 = static_cast<unsigned char>(seq[1]), b2 = static_cast<unsigned char>(seq[2]);
  return (b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) || (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9);
}

}  // namespace

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string display_text(std::string_view text) {
  const std::string valid = sanitize_utf8(text);
  std::string out;
  out.reserve(valid.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < valid.size();) {
    const std::size_t n = utf8_sequence_length(valid, i);
    const std::string_view seq = std::string_view(valid).substr(i, n);
    i += n;
    if (is_bidi_control(seq)) continue;
    if (seq == " " || is_control(seq)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out.append(seq);
  }
  return out;
}

std::size_t code_point_count(std::string_view utf8) {
  std::size_t n = 0;
  for (const char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string truncate_chars(std::string_view utf8, std::size_t max_chars) {
  if (code_point_count(utf8) <= max_chars) return std::string(utf8);
  const std::size_t keep = max_chars > 3 ? max_chars - 3 : 0;
  std::size_t chars = 0, end = 0;
  for (; end < utf8.size(); ++end) {
    if ((static_cast<unsigned char>(utf8[end]) & 0xC0) != 0x80) {
      if (chars == keep) break;
      ++chars;
    }
  }
  std::string out(utf8.substr(0, end));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + std::string("...").substr(0, max_chars - keep);
}

}  // namespace fulfil::drivers::docs
