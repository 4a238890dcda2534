#include "zebra_status.hpp"

namespace fulfil::drivers::printers {
namespace {

// The text of each <STX>...<ETX> frame, in order.
std::vector<std::string_view> frames(std::string_view reply) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto stx = reply.find('\x02');
    if (stx == std::string_view::npos) break;
    const auto etx = reply.find('\x03', stx + 1);
    if (etx == std::string_view::npos) break;
    out.push_back(reply.substr(stx + 1, etx - stx - 1));
    reply.remove_prefix(etx + 1);
  }
  return out;
}

std::vector<std::string_view> fields(std::string_view frame) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto comma = frame.find(',');
    out.push_back(frame.substr(0, comma));
    if (comma == std::string_view::npos) break;
    frame.remove_prefix(comma + 1);
  }
  return out;
}

bool flag(std::string_view field) {
  return field == "1";
}

bool number(std::string_view field) {
  if (field.empty() || field.size() > 9) return false;
  for (char c : field)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::optional<ZebraHostStatus> parse_zebra_host_status(std::string_view reply) {
  const auto lines = frames(reply);
  if (lines.size() < 2) return std::nullopt;
  // Line 1: aaa,b(paper out),c(pause),dddd,eee(formats in buffer),...
  // Line 2: mmm,n,o(head up),p(ribbon out),...
  const auto one = fields(lines[0]);
  const auto two = fields(lines[1]);
  if (one.size() < 5 || two.size() < 4 || !number(one[4])) return std::nullopt;

  ZebraHostStatus s;
  auto add = [&s](bool on, const char* reason, const char* words) {
    if (!on) return;
    s.reasons.emplace_back(reason);
    s.detail += (s.detail.empty() ? "" : ", ") + std::string(words);
  };
  add(flag(one[1]), "media-empty-error", "paper out");
  add(flag(one[2]), "paused", "paused");
  add(flag(two[2]), "cover-open-error", "head open");
  add(flag(two[3]), "marker-supply-empty-error", "ribbon out");
  const bool formats_waiting = std::stoi(std::string(one[4])) > 0;
  s.state = !s.reasons.empty() ? PrinterState::stopped
            : formats_waiting  ? PrinterState::printing
                               : PrinterState::idle;
  return s;
}

}  // namespace fulfil::drivers::printers
