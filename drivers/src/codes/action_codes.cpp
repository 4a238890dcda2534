#include "codes/action_codes.hpp"

#include <array>
#include <utility>

namespace fulfil::drivers {
namespace {

struct Named {
  Action action;
  std::string_view code;   // after the prefix
  std::string_view label;  // printed on the sheet
};

constexpr std::array<Named, 7> kActions{{
    {Action::accept, "ACCEPT", "ACCEPT"},
    {Action::start_picking, "START", "START PICKING"},
    {Action::complete_picking, "COMPLETE", "COMPLETE PICKING"},
    {Action::pack, "PACK", "PACK"},
    {Action::print_again, "PRINT", "PRINT AGAIN"},
    {Action::queue, "QUEUE", "QUEUE"},
    {Action::box, "BOX-", "BOX"},
}};
static_assert(kActions.size() == static_cast<std::size_t>(Action::box) + 1);

const Named& named(Action a) {
  for (const auto& n : kActions)
    if (n.action == a) return n;
  return kActions.back();
}

// An AIM symbology identifier ("]C0", ISO/IEC 15424) and the scanner's line end are not
// part of the code.
std::string_view without_framing(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  if (s.size() >= 3 && s[0] == ']') s.remove_prefix(3);
  return s;
}

}  // namespace

std::string action_code(Action a) {
  return std::string(kActionPrefix) + std::string(named(a).code);
}

std::string box_action_code(std::string_view box_type) {
  return action_code(Action::box) + std::string(box_type);
}

std::string action_label(const ActionCode& a) {
  if (a.action == Action::box) return "BOX: " + a.box_type;
  return std::string(named(a.action).label);
}

bool is_action_code(std::string_view scanned) {
  return without_framing(scanned).starts_with(kActionPrefix);
}

std::optional<ActionCode> parse_action_code(std::string_view scanned) {
  std::string_view s = without_framing(scanned);
  if (!s.starts_with(kActionPrefix)) return std::nullopt;
  s.remove_prefix(kActionPrefix.size());
  for (const auto& n : kActions) {
    if (n.action == Action::box) {
      if (s.starts_with(n.code) && s.size() > n.code.size())
        return ActionCode{Action::box, std::string(s.substr(n.code.size()))};
    } else if (s == n.code) {
      return ActionCode{n.action, {}};
    }
  }
  return std::nullopt;
}

}  // namespace fulfil::drivers
