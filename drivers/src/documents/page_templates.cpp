// A4 templates (in points) for packing slips, pick lists and action sheets on page
// printers. A normal order fits one page; longer ones continue on pages with a short
// header, "Page k of n".

#include "documents_internal.hpp"

namespace fulfil::drivers::docs {
namespace {

constexpr double kA4Width = 595.28;
constexpr double kA4Height = 841.89;
constexpr double kPageLeft = 40;
constexpr double kPageWidth = kA4Width - 2 * kPageLeft;
constexpr double kRowsBottom = 795;
constexpr double kContinuedRowsTop = 134;

// Element heights are line heights; the PDF writer sets the font at 3/4 of it.
void text(PageBuilder& b, double x, double y, double w, double pt, std::string_view s,
          bool bold = false) {
  b.text(x, y, w, pt / 0.75, s, bold);
}

struct Table {
  double row_height;
  double first_rows_top;  // below the full header of page 1
  void (*header)(PageBuilder&, double y);
  void (*row)(PageBuilder&, double y, const DocumentLine&);
};

void continued_header(PageBuilder& b, const OrderDocument& doc, std::string_view title) {
  text(b, kPageLeft, 40, kPageWidth, 14, std::string(title) + " (continued)", true);
  text(b, kPageLeft, 64, kPageWidth, 11, order_caption(doc) + "  " + doc.order_id);
  b.rule(kPageLeft, 100, kPageWidth, 1);
}

void footer(PageBuilder& b, const OrderDocument& doc, std::size_t k, std::size_t n) {
  b.rule(kPageLeft, 805, kPageWidth, 0.5);
  text(b, kPageLeft, 810, 200, 9, "Page " + std::to_string(k) + " of " + std::to_string(n));
  text(b, 300, 810, kPageWidth - 260, 9, format_printed_at(doc.printed_at_ms));
}

// Lays the lines out in a table over as many pages as they need.
std::vector<Page> table_pages(const OrderDocument& doc, const std::vector<DocumentLine>& lines,
                              const Table& t,
                              void (*first_header)(PageBuilder&, const OrderDocument&),
                              std::string_view title) {
  const auto rows_from = [&](double top) {
    return static_cast<std::size_t>((kRowsBottom - top) / t.row_height);
  };
  const std::size_t first = rows_from(t.first_rows_top), next = rows_from(kContinuedRowsTop);
  std::size_t n = 1;
  if (lines.size() > first) n += (lines.size() - first + next - 1) / next;
  std::vector<Page> pages(n);
  std::size_t i = 0;
  for (std::size_t k = 0; k < n; ++k) {
    PageBuilder b(pages[k]);
    const double top = k == 0 ? t.first_rows_top : kContinuedRowsTop;
    k == 0 ? first_header(b, doc) : continued_header(b, doc, title);
    t.header(b, top - 24);
    for (std::size_t r = 0; r < (k == 0 ? first : next) && i < lines.size(); ++r, ++i) {
      t.row(b, top + static_cast<double>(r) * t.row_height, lines[i]);
    }
    footer(b, doc, k + 1, n);
  }
  return pages;
}

void packing_first_header(PageBuilder& b, const OrderDocument& doc) {
  text(b, kPageLeft, 40, 270, 11, doc.store_name);
  text(b, kPageLeft, 58, 270, 22, "Packing slip", true);
  text(b, kPageLeft, 96, 270, 13, order_caption(doc), true);
  text(b, kPageLeft, 116, 270, 10, "Order id " + doc.order_id);
  text(b, kPageLeft, 132, 270, 9, format_printed_at(doc.printed_at_ms));
  const PostalAddress& a = doc.ship_to;
  const bool has_name = !display_text(a.name).empty();
  text(b, 330, 58, 225, 10, "Ship to", true);
  text(b, 330, 74, 225, 11, has_name ? a.name : doc.customer_name);
  const auto lines = address_lines(a, 4);  // no blank line where a part is empty
  for (std::size_t i = 0; i < 4; ++i)
    text(b, 330, 91 + 15 * static_cast<double>(i), 225, 10, lines[i]);
  std::string package = package_text(doc);
  if (const auto box = display_text(doc.box_type); !box.empty()) package += " | Box " + box;
  if (const auto kg = weight_text(doc.weight_g); !kg.empty()) package += " | " + kg;
  text(b, kPageLeft, 158, 250, 10, package);
  if (any_short(doc)) text(b, 300, 158, kA4Width - kPageLeft - 300, 9, kShortNote, true);
  b.rule(kPageLeft, 178, kPageWidth, 1);
}

void packing_table_header(PageBuilder& b, double y) {
  text(b, kPageLeft, y, 45, 10, "Qty", true);
  text(b, 90, y, 130, 10, "SKU", true);
  text(b, 225, y, kA4Width - kPageLeft - 225, 10, "Item", true);
  b.rule(kPageLeft, y + 17, kPageWidth, 0.5);
}

// Two lines a row: the item, and under its title what was short of it (if anything).
void packing_table_row(PageBuilder& b, double y, const DocumentLine& l) {
  text(b, kPageLeft, y, 45, 10, std::to_string(l.quantity));
  text(b, 90, y, 130, 10, l.sku);
  text(b, 225, y, kA4Width - kPageLeft - 225, 10, l.title);
  if (l.short_units > 0) text(b, 225, y + 13, kA4Width - kPageLeft - 225, 8, short_text(l), true);
}

void pick_first_header(PageBuilder& b, const OrderDocument& doc) {
  const bool wave = !doc.totes.empty();
  text(b, kPageLeft, 40, 400, 22, "Pick list", true);
  text(b, kPageLeft, 76, 400, 13, (wave ? "Pick list " : "Order ") + doc.order_id, true);
  if (wave) {
    text(b, kPageLeft, 96, 400, 11,
         std::to_string(doc.totes.size()) + " orders, one tote each (tote: order)");
    text(b, kPageLeft, 114, 400, 9, tote_legend(doc));
  } else {
    text(b, kPageLeft, 96, 400, 11, doc.customer_name);
    text(b, kPageLeft, 114, 400, 10, order_caption(doc) + "   " + doc.store_name);
  }
  text(b, kPageLeft, 130, 400, 10,
       std::to_string(doc.lines.size()) + " lines, " + std::to_string(item_count(doc)) + " items");
  text(b, kPageLeft, 146, 400, 9, format_printed_at(doc.printed_at_ms));
  b.qr(kA4Width - kPageLeft - 100, 36, 100, qr_data(doc));
  b.rule(kPageLeft, 168, kPageWidth, 1);
}

void pick_table_header(PageBuilder& b, double y) {
  text(b, kPageLeft, y, 90, 10, "Bin", true);
  text(b, 135, y, 40, 10, "Qty", true);
  text(b, 180, y, 120, 10, "SKU", true);
  text(b, 305, y, 205, 10, "Item", true);
  text(b, 515, y, 40, 10, "Picked", true);
  b.rule(kPageLeft, y + 17, kPageWidth, 0.5);
}

void pick_table_row(PageBuilder& b, double y, const DocumentLine& l) {
  text(b, kPageLeft, y, 90, 11, l.bin, true);
  text(b, 135, y, 40, 11, std::to_string(l.quantity), true);
  text(b, 180, y, 120, 10, l.sku);
  text(b, 305, y, 205, 10, l.title);
  b.rule(518, y + 14, 32, 0.5);  // the picker writes the count picked here
}

// A wave's table: the tote column takes room from the item's title.
void wave_table_header(PageBuilder& b, double y) {
  text(b, kPageLeft, y, 90, 10, "Bin", true);
  text(b, 135, y, 40, 10, "Qty", true);
  text(b, 170, y, 40, 10, "Tote", true);
  text(b, 215, y, 110, 10, "SKU", true);
  text(b, 330, y, 180, 10, "Item", true);
  text(b, 515, y, 40, 10, "Picked", true);
  b.rule(kPageLeft, y + 17, kPageWidth, 0.5);
}

void wave_table_row(PageBuilder& b, double y, const DocumentLine& l) {
  text(b, kPageLeft, y, 90, 11, l.bin, true);
  text(b, 135, y, 30, 11, std::to_string(l.quantity), true);
  text(b, 170, y, 40, 11, std::to_string(l.tote), true);
  text(b, 215, y, 110, 10, l.sku);
  text(b, 330, y, 180, 10, l.title);
  b.rule(518, y + 14, 32, 0.5);
}

// The action sheet: one row per action, its name in big type on the left (what the
// associate looks for) and its barcode on the right, the code in small type under it. Rows
// are 57 pt apart, so a scanner's line never crosses two barcodes; the default store's 10
// rows fit one page, more box types continue on the next.
constexpr double kActionRowsTop = 165;
constexpr double kActionRowHeight = 57;
constexpr double kActionBarcodeX = 290;

void action_header(PageBuilder& b, const OrderDocument& doc, bool first) {
  text(b, kPageLeft, 40, kPageWidth, 22, first ? "Action barcodes" : "Action barcodes (continued)",
       true);
  text(b, kPageLeft, 76, kPageWidth, 11, doc.store_name);
  text(b, kPageLeft, 94, kPageWidth, 13, station_caption(doc), true);
  text(b, kPageLeft, 116, kPageWidth, 9,
       "Scan a code at this desk's terminal to press that button; a code that does nothing on "
       "the screen is refused.");
  b.rule(kPageLeft, 140, kPageWidth, 1);
}

void action_row(PageBuilder& b, double y, const ActionCode& a) {
  text(b, kPageLeft, y + 10, kActionBarcodeX - kPageLeft - 10, 18, action_label(a), true);
  const std::string code = sheet_code(a);
  b.code128(kActionBarcodeX, y, kA4Width - kPageLeft - kActionBarcodeX, 34, code);
  text(b, kActionBarcodeX, y + 37, kA4Width - kPageLeft - kActionBarcodeX, 8, code);
}

std::vector<Page> action_pages(const OrderDocument& doc) {
  const auto rows = sheet_actions(doc);
  const auto per_page = static_cast<std::size_t>((kRowsBottom - kActionRowsTop) / kActionRowHeight);
  const std::size_t n = std::max<std::size_t>(1, (rows.size() + per_page - 1) / per_page);
  std::vector<Page> pages(n);
  for (std::size_t k = 0; k < n; ++k) {
    PageBuilder b(pages[k]);
    action_header(b, doc, k == 0);
    for (std::size_t i = k * per_page; i < std::min(rows.size(), (k + 1) * per_page); ++i)
      action_row(b, kActionRowsTop + static_cast<double>(i % per_page) * kActionRowHeight, rows[i]);
    footer(b, doc, k + 1, n);
  }
  return pages;
}

}  // namespace

Layout page_layout(const OrderDocument& doc) {
  Layout layout{kA4Width, kA4Height, 1.0, {}};
  if (doc.kind == DocumentKind::action_sheet) {
    layout.pages = action_pages(doc);
  } else if (doc.kind == DocumentKind::pick_list) {
    const Table t = doc.totes.empty() ? Table{20, 200, pick_table_header, pick_table_row}
                                      : Table{20, 200, wave_table_header, wave_table_row};
    layout.pages = table_pages(doc, lines_by_bin(doc.lines), t, pick_first_header, "Pick list");
  } else {
    const Table t{26, 210, packing_table_header, packing_table_row};
    layout.pages = table_pages(doc, doc.lines, t, packing_first_header, "Packing slip");
  }
  return layout;
}

}  // namespace fulfil::drivers::docs
