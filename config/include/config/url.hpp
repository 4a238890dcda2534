#pragma once
// Percent-encoding for a URL's path segments and query values (RFC 3986: everything but
// the unreserved characters), for the cloud link's URLs and the tests' requests alike.
#include <cctype>
#include <string>
#include <string_view>

namespace fulfil {

inline std::string url_escape(std::string_view s) {
  static constexpr const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace fulfil
