// Pieces every template uses: the page builder, bin order, dates and address lines.
#include <algorithm>
#include <cctype>
#include <ctime>
#include <numeric>

#include "documents_internal.hpp"

namespace fulfil::drivers::docs {

void PageBuilder::text(double x, double y, double w, double h, std::string_view s, bool bold) {
  page_.elements.push_back({ElementType::text, x, y, w, h, display_text(s), bold});
}

void PageBuilder::rule(double x, double y, double w, double thickness) {
  page_.elements.push_back({ElementType::rule, x, y, w, thickness, {}, false});
}

void PageBuilder::code128(double x, double y, double w, double h, std::string_view data) {
  page_.elements.push_back({ElementType::code128, x, y, w, h, std::string(data), false});
}

void PageBuilder::qr(double x, double y, double size, std::string_view data) {
  page_.elements.push_back({ElementType::qr, x, y, size, size, sanitize_utf8(data), false});
}

namespace {

// Bins compare as people read them: "A2" before "A10", case-insensitively.
bool bin_less(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (da && db) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
      continue;
    }
    const int ca = std::tolower(static_cast<unsigned char>(a[i]));
    const int cb = std::tolower(static_cast<unsigned char>(b[j]));
    if (ca != cb) return ca < cb;
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

}  // namespace

std::vector<DocumentLine> lines_by_bin(const std::vector<DocumentLine>& lines) {
  std::vector<DocumentLine> sorted = lines;
  // Lines without a bin go last: the picker finds them after walking the aisles.
  std::stable_sort(sorted.begin(), sorted.end(), [](const DocumentLine& a, const DocumentLine& b) {
    if (a.bin.empty() != b.bin.empty()) return b.bin.empty();
    return bin_less(a.bin, b.bin);
  });
  return sorted;
}

std::string format_printed_at(std::int64_t unix_ms) {
  if (unix_ms <= 0) return {};
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return {};
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm) == 0) return {};
  return buf;
}

std::string city_line(const PostalAddress& a) {
  std::string out;
  for (const std::string* part : {&a.postcode, &a.city, &a.region}) {
    const std::string p = display_text(*part);
    if (p.empty()) continue;
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

std::vector<std::string> address_lines(const PostalAddress& a, std::size_t slots) {
  std::vector<std::string> out;
  for (const std::string& line :
       {display_text(a.line1), display_text(a.line2), city_line(a), display_text(a.country)})
    if (!line.empty()) out.push_back(line);
  out.resize(std::max(slots, out.size()));
  return out;
}

std::string short_text(const DocumentLine& l) {
  if (l.short_units <= 0) return {};
  std::string reason = display_text(l.short_reason);
  std::replace(reason.begin(), reason.end(), '_', ' ');
  return std::to_string(l.ordered) + " ordered, " + std::to_string(l.short_units) + " short" +
         (reason.empty() ? "" : ": " + reason);
}

bool any_short(const OrderDocument& doc) {
  return std::any_of(doc.lines.begin(), doc.lines.end(),
                     [](const DocumentLine& l) { return l.short_units > 0; });
}

std::string package_code(const OrderDocument& doc) {
  return doc.order_id + "-" + std::to_string(doc.package_no);
}

std::string package_text(const OrderDocument& doc) {
  return "Package " + std::to_string(doc.package_no) + " of " + std::to_string(doc.package_count);
}

std::string weight_text(std::int64_t grams) {
  if (grams <= 0) return {};
  const std::int64_t tenths = (grams + 50) / 100;  // kg with one decimal
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " kg";
}

std::string qr_data(const OrderDocument& doc) {
  // Without a link the QR holds the order id, which the agent's scanner also opens.
  return doc.order_qr.empty() ? doc.order_id : doc.order_qr;
}

std::string order_caption(const OrderDocument& doc) {
  return "Order " + (display_text(doc.order_ref).empty() ? doc.order_id : doc.order_ref);
}

std::string tote_legend(const OrderDocument& doc) {
  std::string out;
  for (std::size_t i = 0; i < doc.totes.size(); ++i)
    out += (out.empty() ? "" : "   ") + std::to_string(i + 1) + " " + doc.totes[i];
  return out;
}

std::int64_t item_count(const OrderDocument& doc) {
  return std::accumulate(doc.lines.begin(), doc.lines.end(), std::int64_t{0},
                         [](std::int64_t n, const DocumentLine& l) { return n + l.quantity; });
}

std::vector<ActionCode> sheet_actions(const OrderDocument& doc) {
  std::vector<ActionCode> out{
      {Action::accept, {}}, {Action::start_picking, {}}, {Action::complete_picking, {}}};
  for (const auto& box : doc.box_types) out.push_back({Action::box, box});
  for (const Action a : {Action::pack, Action::print_again, Action::queue}) out.push_back({a, {}});
  return out;
}

std::string sheet_code(const ActionCode& a) {
  return a.action == Action::box ? box_action_code(a.box_type) : action_code(a.action);
}

std::string station_caption(const OrderDocument& doc) {
  const std::string station = display_text(doc.station);
  return station.empty() ? "Any station" : "Station " + station;
}

std::string item_text(std::int64_t n) {
  return std::to_string(n) + (n == 1 ? " item" : " items");
}

}  // namespace fulfil::drivers::docs
