#include "codes/barcode.hpp"

#include <algorithm>

namespace fulfil::drivers {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct AimPrefix {
  std::string_view id;
  Symbology symbology;
  bool gs1;
};

// AIM identifiers (ISO/IEC 15424) the store's scanners send.
constexpr AimPrefix kAim[] = {
    {"]E0", Symbology::ean13, false},
    {"]E4", Symbology::ean8, false},
    {"]C1", Symbology::gs1_128, true},
    {"]e0", Symbology::gs1_128, true},
    {"]d2", Symbology::gs1_datamatrix, true},
    {"]Q3", Symbology::gs1_qr, true},
    {"]C0", Symbology::code128, false},
    {"]A0", Symbology::code39, false},
    {"]Q1", Symbology::qr, false},
    {"]d1", Symbology::datamatrix, false},
    {"]I1", Symbology::gtin14, false},
};

// 8/12/13/14 digits: a GTIN (with 8 digits possibly a UPC-E that is no valid EAN-8).
Expected<DecodedBarcode, BarcodeError> product_code(std::string_view digits, bool from_ean_symbol) {
  DecodedBarcode d;
  d.data = std::string(digits);
  if (digits.size() == 6 || digits.size() == 7 ||
      (digits.size() == 8 && !normalize_gtin(digits) && expand_upce(digits))) {
    auto upca = expand_upce(digits);
    if (!upca) return unexpected(upca.error());
    d.symbology = Symbology::upce;
    d.gtin14 = "00" + *upca;
    return d;
  }
  auto gtin = normalize_gtin(digits);
  if (!gtin) return unexpected(gtin.error());
  d.gtin14 = *gtin;
  switch (digits.size()) {
    case 8:
      d.symbology = Symbology::ean8;
      break;
    case 12:
      d.symbology = Symbology::upca;
      break;
    case 13:
      d.symbology = digits[0] == '0' && from_ean_symbol ? Symbology::upca : Symbology::ean13;
      break;
    default:
      d.symbology = Symbology::gtin14;
      break;
  }
  return d;
}

Expected<DecodedBarcode, BarcodeError> gs1(Symbology symbology, std::string_view data, bool human) {
  auto elements = human ? parse_gs1_human_readable(data) : parse_gs1_element_string(data);
  if (!elements) return unexpected(elements.error());
  DecodedBarcode d{symbology, std::string(data), std::nullopt, std::move(*elements)};
  for (const auto& e : d.elements)
    if (e.ai == "01" || e.ai == "02") d.gtin14 = e.value;
  return d;
}

}  // namespace

std::string_view symbology_name(Symbology s) {
  static constexpr std::string_view names[] = {"EAN-13",         "UPC-A",   "UPC-E",
                                               "EAN-8",          "GTIN-14", "GS1-128",
                                               "GS1 DataMatrix", "GS1 QR",  "GS1 (human-readable)",
                                               "Code 128",       "Code 39", "QR",
                                               "DataMatrix",     "text"};
  return names[static_cast<int>(s)];
}

Expected<std::string, BarcodeError> expand_upce(std::string_view upce) {
  if (!all_digits(upce) || upce.size() < 6 || upce.size() > 8)
    return unexpected(BarcodeError{"UPC-E has 6 to 8 digits"});
  const char ns = upce.size() >= 7 ? upce[0] : '0';
  if (ns != '0' && ns != '1')
    return unexpected(
        BarcodeError{std::string("UPC-E number system is ") + ns + ", expected 0 or 1"});
  const std::string_view b = upce.size() >= 7 ? upce.substr(1, 6) : upce.substr(0, 6);
  std::string body;  // the 10 digits after the number system
  switch (b[5]) {
    case '0':
    case '1':
    case '2':
      body = std::string(b.substr(0, 2)) + b[5] + "0000" + std::string(b.substr(2, 3));
      break;
    case '3':
      body = std::string(b.substr(0, 3)) + "00000" + std::string(b.substr(3, 2));
      break;
    case '4':
      body = std::string(b.substr(0, 4)) + "00000" + b[4];
      break;
    default:
      body = std::string(b.substr(0, 5)) + "0000" + b[5];
      break;
  }
  std::string upca = ns + body;
  upca += gs1_check_digit(upca);
  if (upce.size() == 8 && upce[7] != upca.back())
    return unexpected(
        BarcodeError{std::string("UPC-E check digit is ") + upce[7] + ", expected " + upca.back()});
  return upca;
}

Expected<DecodedBarcode, BarcodeError> decode_barcode(std::string_view scanned) {
  while (!scanned.empty() && (scanned.back() == '\r' || scanned.back() == '\n'))
    scanned.remove_suffix(1);
  if (scanned.empty()) return unexpected(BarcodeError{"the scan is empty"});
  for (const auto& aim : kAim) {
    if (scanned.substr(0, 3) != aim.id) continue;
    const std::string_view data = scanned.substr(3);
    if (aim.gs1) return gs1(aim.symbology, data, false);
    if (aim.symbology == Symbology::ean13 || aim.symbology == Symbology::ean8 ||
        aim.symbology == Symbology::gtin14) {
      if (!all_digits(data))
        return unexpected(
            BarcodeError{std::string(symbology_name(aim.symbology)) + " data must be digits"});
      return product_code(data, true);
    }
    return DecodedBarcode{aim.symbology, std::string(data), std::nullopt, {}};
  }
  if (scanned.front() == kGroupSeparator) return gs1(Symbology::gs1_128, scanned, false);
  if (scanned.front() == '(' && scanned.size() > 3 && scanned[1] >= '0' && scanned[1] <= '9')
    return gs1(Symbology::gs1_human_readable, scanned, true);
  if (all_digits(scanned) && (scanned.size() == 6 || scanned.size() == 7 || scanned.size() == 8 ||
                              scanned.size() == 12 || scanned.size() == 13 || scanned.size() == 14))
    return product_code(scanned, false);
  return DecodedBarcode{Symbology::text, std::string(scanned), std::nullopt, {}};
}

}  // namespace fulfil::drivers
