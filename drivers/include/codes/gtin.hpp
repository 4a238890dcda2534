#pragma once
// GS1 Global Trade Item Numbers. A product may be scanned as EAN-8, UPC-A (GTIN-12),
// EAN-13 or GTIN-14 (case codes); all are the same number padded to 14 digits, so the
// inventory keys barcodes by their GTIN-14 form and a scan of any form finds the SKU.
#include <string>
#include <string_view>

#include "config/expected.hpp"

namespace fulfil::drivers {

struct BarcodeError {
  std::string message;  // says what was wrong, e.g. "check digit is 3, expected 7"
};

// The GS1 mod-10 check digit for `body` (all digits, without the check digit).
char gs1_check_digit(std::string_view body);

// Validates a GTIN-8/12/13/14 (length, digits, check digit) and returns it as 14 digits.
Expected<std::string, BarcodeError> normalize_gtin(std::string_view text);

}  // namespace fulfil::drivers
