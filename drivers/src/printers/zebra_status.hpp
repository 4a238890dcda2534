#pragma once
// Zebra's ~HS (host status) reply: three <STX>...<ETX><CR><LF> lines of comma-separated
// flags (ZPL II Programming Guide, ~HS).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/printer.hpp"

namespace fulfil::drivers::printers {

struct ZebraHostStatus {
  PrinterState state = PrinterState::unknown;
  // Named as CUPS names them, so health and the terminal see one vocabulary:
  // media-empty-error, paused, cover-open-error, marker-supply-empty-error.
  std::vector<std::string> reasons;
  std::string detail;  // the same in words: "paper out, head open"
};

// Nothing when the reply lacks the first two lines or their flags.
std::optional<ZebraHostStatus> parse_zebra_host_status(std::string_view reply);

}  // namespace fulfil::drivers::printers
