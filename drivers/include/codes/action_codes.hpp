#pragma once
// Action barcodes: the codes on a desk's printed action sheet, which a scanner-only desk
// scans to press the terminal's buttons (accept, start and complete picking, pack, print
// again, a box type, back to the queue).
//
// Every code starts with "*ACT-". The prefix can never be anything else a store scans:
// '*' is Code 39's start/stop character and so never part of a Code 39 symbol's data;
// EAN/UPC/GTIN and GS1 symbols are digits (and a GS1 element string starts with its AI
// digits or an AIM "]" identifier); order ids, pick-list names and package codes allow
// only letters, digits, '-', '_', '.', ':'; pickup codes are digits. It is plain printable
// ASCII, which Code 128 (set B) carries as is, and '*' and '-' are on the numeric keypad
// of every keyboard layout (and typed by every wedge keymap: us, uk, de, fr), so a wedge
// scanner types them whatever the host's layout.
#include <optional>
#include <string>
#include <string_view>

namespace fulfil::drivers {

inline constexpr std::string_view kActionPrefix = "*ACT-";

enum class Action { accept, start_picking, complete_picking, pack, print_again, queue, box };

struct ActionCode {
  Action action = Action::accept;
  std::string box_type;  // Action::box: the box type it selects
};

// "*ACT-ACCEPT", ...; a box type's code is "*ACT-BOX-<type>".
std::string action_code(Action a);
std::string box_action_code(std::string_view box_type);
// What the sheet prints beside the barcode: "ACCEPT", "COMPLETE PICKING", "BOX: M".
std::string action_label(const ActionCode& a);

// The action a scan names, or nothing: the scan may carry an AIM symbology identifier
// ("]C0*ACT-PACK") and a trailing CR/LF. A code with the prefix but no known action
// ("*ACT-FLY") is not an action: the caller says so.
std::optional<ActionCode> parse_action_code(std::string_view scanned);
// Whether the scan carries the action prefix at all (known action or not).
bool is_action_code(std::string_view scanned);

}  // namespace fulfil::drivers
