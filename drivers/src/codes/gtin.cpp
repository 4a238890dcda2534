#include "codes/gtin.hpp"

#include <algorithm>

namespace fulfil::drivers {

char gs1_check_digit(std::string_view body) {
  // Weights alternate 3,1,3,... starting from the digit next to the check digit.
  int sum = 0;
  int weight = 3;
  for (auto it = body.rbegin(); it != body.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = 4 - weight;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

Expected<std::string, BarcodeError> normalize_gtin(std::string_view text) {
  if (text.empty()) return unexpected(BarcodeError{"GTIN is empty"});
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return unexpected(BarcodeError{"GTIN must contain only digits"});
  const auto n = text.size();
  if (n != 8 && n != 12 && n != 13 && n != 14)
    return unexpected(
        BarcodeError{"GTIN has " + std::to_string(n) + " digits; expected 8, 12, 13 or 14"});
  const char expected = gs1_check_digit(text.substr(0, n - 1));
  if (text.back() != expected)
    return unexpected(
        BarcodeError{std::string("GTIN check digit is ") + text.back() + ", expected " + expected});
  return std::string(14 - n, '0') + std::string(text);
}

}  // namespace fulfil::drivers
