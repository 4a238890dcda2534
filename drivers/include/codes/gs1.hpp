#pragma once
// GS1 element strings: what a GS1-128, GS1 DataMatrix or GS1 QR symbol carries — a run of
// Application Identifiers (AIs), each followed by its data, variable-length fields ended
// by FNC1 (sent by scanners as the GS character, 0x1D) — and their human-readable form
// "(01)09501101530003(17)250630(10)AB-123". The parser is driven by a table of AIs with
// their lengths, character sets and checks; an unknown AI or a bad value is an error that
// names the AI and says what was wrong, never a guess.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codes/gtin.hpp"

namespace fulfil::drivers {

struct Gs1Element {
  std::string ai;     // "01", "17", "3103", ...
  std::string title;  // the GS1 data title: "GTIN", "USE BY OR EXPIRY", "NET WEIGHT (kg)"
  std::string value;  // the data as scanned
  // Meaning, where the AI defines one: a date as YYYY-MM-DD (DD=00: the month's last day,
  // given as such), a measure with its decimal point placed ("1.250").
  std::optional<std::string> date;
  std::optional<std::string> decimal;
};

inline constexpr char kGroupSeparator = '\x1d';  // FNC1 as transmitted by scanners

// `data` is the element string after any symbology identifier, FNC1 in separator position
// given as GS.
Expected<std::vector<Gs1Element>, BarcodeError> parse_gs1_element_string(std::string_view data);
// "(01)09501101530003(17)250630": parentheses around each AI.
Expected<std::vector<Gs1Element>, BarcodeError> parse_gs1_human_readable(std::string_view text);

}  // namespace fulfil::drivers
