#include "config/json_input.hpp"

#include <cstdio>

namespace fulfil {
namespace {

struct TooDeep {
  int depth;
};

// nlohmann's messages quote the input around the error, which may be any bytes.
std::string printable(std::string_view message) {
  std::string out;
  for (const unsigned char c : message) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace

Expected<nlohmann::json, std::string> parse_json(std::string_view text, int max_depth) {
  // The callback sees each object and array as it opens, with the number of containers
  // around it: the parse stops at the first one too deep.
  const nlohmann::json::parser_callback_t limit_depth =
      [max_depth](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
        if ((event == nlohmann::json::parse_event_t::object_start ||
             event == nlohmann::json::parse_event_t::array_start) &&
            depth >= max_depth)
          throw TooDeep{depth + 1};
        return true;
      };
  try {
    return nlohmann::json::parse(text, limit_depth);
  } catch (const TooDeep&) {
    return unexpected("JSON nested deeper than " + std::to_string(max_depth) + " levels");
  } catch (const nlohmann::json::exception& e) {
    // parse_error (syntax, invalid UTF-8) and out_of_range (a number too large) alike.
    return unexpected(printable(e.what()));
  }
}

}  // namespace fulfil
