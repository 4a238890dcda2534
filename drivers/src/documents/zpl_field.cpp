// ZPL field data escaping. Under ^FH_ the printer decodes _XX (two hex digits) into a byte
// of field data, so writing every byte that is not plain printable ASCII as _XX keeps the
// data unable to end its field or start a command: the stream the printer parses as
// commands only ever holds printable ASCII without ^ or ~.
#include "documents_internal.hpp"

namespace fulfil::drivers {
namespace {

// Bytes written as _XX. ^ and ~ start commands (~ also in field data); _ is the ^FH escape
// itself; ',' separates parameters of ^BQ/^BD-style field data. Control characters and DEL
// are invisible and some printers act on them; bytes >= 0x80 are UTF-8 (^CI28), escaped so
// the stream stays ASCII whatever happens to it on the way (serial links, code pages).
bool needs_escape(unsigned char c) {
  return c < 0x20 || c >= 0x7F || c == '^' || c == '~' || c == '_' || c == ',';
}

}  // namespace

std::string zpl_field_data(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const std::string valid = docs::sanitize_utf8(text);
  std::string out;
  out.reserve(valid.size() * 2);
  for (const char ch : valid) {
    const auto c = static_cast<unsigned char>(ch);
    if (needs_escape(c)) {
      out += '_';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    } else {
      out += ch;
    }
  }
  return out;
}

namespace docs {

std::string zpl_code128_data(std::string_view ascii) {
  std::string literal;
  for (const char c : ascii) {
    literal += c;
    if (c == '>') literal += '<';  // "><" is Code 128's literal '>' in ZPL
  }
  return zpl_field_data(literal);
}

}  // namespace docs
}  // namespace fulfil::drivers
