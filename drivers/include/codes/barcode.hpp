#pragma once
// What a scan means. Scanners send the symbol's data, often prefixed with an AIM symbology
// identifier ("]E0" EAN/UPC, "]C1" GS1-128, "]d2" GS1 DataMatrix, "]Q3" GS1 QR, ...).
// decode_barcode tells retail product codes (EAN-13, UPC-A, UPC-E, EAN-8, GTIN-14, check
// digits verified), GS1 element strings (parsed, see gs1.hpp) and plain text (Code 128,
// Code 39: order and package labels, pickup codes) apart.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codes/gs1.hpp"
#include "codes/gtin.hpp"

namespace fulfil::drivers {

enum class Symbology {
  ean13,
  upca,
  upce,
  ean8,
  gtin14,  // ITF-14 or a bare 14-digit GTIN
  gs1_128,
  gs1_datamatrix,
  gs1_qr,
  gs1_human_readable,  // typed "(01)...(17)..."
  code128,
  code39,
  qr,
  datamatrix,
  text,  // no identifier and not a product code: a keyboard-wedge scan or typed text
};
std::string_view symbology_name(Symbology s);

struct DecodedBarcode {
  Symbology symbology = Symbology::text;
  std::string data;                   // without the symbology identifier
  std::optional<std::string> gtin14;  // the product, when the symbol names one
  std::vector<Gs1Element> elements;   // GS1 symbols
};

// UPC-E (6 digits, 7 with the number system, 8 with the check digit) expanded to the
// 12-digit UPC-A it abbreviates; the check digit, when given, must match.
Expected<std::string, BarcodeError> expand_upce(std::string_view upce);

Expected<DecodedBarcode, BarcodeError> decode_barcode(std::string_view scanned);

}  // namespace fulfil::drivers
