// The 4x6 in label templates, in dots of a 203 dpi printer (812 x 1218). Used for ZPL and
// for the PDF of the three labels. Every element is emitted whatever the data holds (an
// empty field prints nothing), so a template's commands depend only on the document's kind
// and its lines (how many, which are short-picked), never on the text in its fields. Where
// a field may be empty, what it would print moves up into the field above it instead
// (address_lines) or the field is left empty, so no line prints as a bare caption
// ("Carrier:") or a gap.

#include "documents_internal.hpp"

namespace fulfil::drivers::docs {
namespace {

constexpr double kLeft = 40;
constexpr double kWidth = kLabelWidth - 2 * kLeft;
constexpr double kFooterY = 1150;

void address_block(PageBuilder& b, double y, const PostalAddress& a) {
  b.text(kLeft, y, kWidth, 44, a.name, true);
  const auto lines = address_lines(a, 4);
  for (std::size_t i = 0; i < 4; ++i)
    b.text(kLeft, y + 60 + 48 * static_cast<double>(i), kWidth, 38, lines[i]);
}

// "Label: <value>", or nothing when there is no value.
std::string captioned(std::string_view caption, const std::string& value) {
  const std::string shown = display_text(value);
  return shown.empty() ? std::string() : std::string(caption) + shown;
}

Page shipping_label(const OrderDocument& doc) {
  Page page;
  PageBuilder b(page);
  b.text(kLeft, 40, kWidth, 30, doc.store_name);
  b.rule(30, 90, kLabelWidth - 60, 4);
  b.text(kLeft, 110, kWidth, 28, "SHIP TO", true);
  address_block(b, 155, doc.ship_to);
  b.rule(30, 430, kLabelWidth - 60, 4);
  b.text(kLeft, 455, kWidth, 36, captioned("Carrier: ", doc.carrier));
  // Before the carrier's number exists the label carries the store's package code, and
  // says where the tracking number will come from, on a line of its own that fits.
  const bool tracked = !doc.tracking.empty();
  b.code128(kLeft, 515, kWidth, 170, tracked ? doc.tracking : package_code(doc));
  b.text(kLeft, 700, kWidth, 36, tracked ? doc.tracking : package_code(doc));
  b.text(kLeft, 740, kWidth, 24, tracked ? "" : "Tracking number given at handover");
  b.rule(30, 770, kLabelWidth - 60, 4);
  b.text(kLeft, 795, kWidth, 36, order_caption(doc));
  b.text(kLeft, 850, kWidth, 32, package_text(doc));
  b.text(kLeft, 900, 400, 32, captioned("Box: ", doc.box_type));
  b.text(460, 900, kWidth - 420, 32, weight_text(doc.weight_g));
  b.text(kLeft, 950, kWidth, 28, "Order id " + doc.order_id);
  b.text(kLeft, kFooterY, kWidth, 24, format_printed_at(doc.printed_at_ms));
  return page;
}

// What the associate needs to shelve the bag and find it again: whose it is, the order
// number the customer quotes, the staging shelf, and the order id as a barcode (a scan at
// a terminal opens the order). Never the pickup code: that is the customer's proof of
// collection, and a label anyone can read or scan would bypass the wrong-code lock.
Page pickup_shelf_label(const OrderDocument& doc) {
  Page page;
  PageBuilder b(page);
  b.text(kLeft, 40, kWidth, 30, doc.store_name);
  b.text(kLeft, 95, kWidth, 90, "PICKUP", true);
  b.rule(30, 205, kLabelWidth - 60, 4);
  b.text(kLeft, 235, kWidth, 70, doc.customer_name, true);
  b.text(kLeft, 330, kWidth, 56, order_caption(doc), true);
  b.text(kLeft, 410, kWidth, 44, captioned("Shelf ", doc.shelf), true);
  b.code128(kLeft, 490, kWidth, 200, doc.order_id);
  b.text(kLeft, 710, kWidth, 30, "Order id " + doc.order_id);
  b.text(kLeft, 830, kWidth, 36, item_text(item_count(doc)));
  b.text(kLeft, 885, kWidth, 36, package_text(doc));
  b.text(kLeft, kFooterY, kWidth, 24, format_printed_at(doc.printed_at_ms));
  return page;
}

Page return_label(const OrderDocument& doc) {
  Page page;
  PageBuilder b(page);
  b.text(kLeft, 40, kWidth, 30, doc.store_name);
  b.text(kLeft, 95, kWidth, 90, "RETURN", true);
  b.rule(30, 205, kLabelWidth - 60, 4);
  b.text(kLeft, 225, 100, 28, "From", true);
  b.text(150, 225, kWidth - 110, 36, doc.customer_name);
  b.text(kLeft, 285, kWidth, 28, "To", true);
  address_block(b, 325, doc.ship_to);
  b.rule(30, 610, kLabelWidth - 60, 4);
  b.code128(kLeft, 640, kWidth, 200, doc.return_ref);
  b.text(kLeft, 860, kWidth, 60, doc.return_ref, true);
  b.text(kLeft, 950, kWidth, 36, order_caption(doc));
  b.text(kLeft, 1005, kWidth, 32, doc.carrier + " " + doc.tracking);
  b.text(kLeft, kFooterY, kWidth, 24, format_printed_at(doc.printed_at_ms));
  return page;
}

// Packing slips and pick lists on labels: each label repeats the header (a loose label
// still says which order it belongs to) and holds kLinesPerLabel lines; "Label k of n"
// tells the packer whether one is missing. Every line prints: a cut list would mean a
// missed item.
constexpr double kRowsTop = 345;
constexpr double kRowHeight = 95;

void list_footer(PageBuilder& b, const OrderDocument& doc, std::size_t k, std::size_t n) {
  b.rule(30, 1115, kLabelWidth - 60, 4);
  b.text(kLeft, kFooterY, 360, 26, "Label " + std::to_string(k) + " of " + std::to_string(n));
  b.text(420, kFooterY, kWidth - 380, 24, format_printed_at(doc.printed_at_ms));
}

void packing_header(PageBuilder& b, const OrderDocument& doc) {
  b.text(kLeft, 40, kWidth, 30, doc.store_name);
  b.text(kLeft, 90, kWidth, 60, "PACKING SLIP", true);
  b.text(kLeft, 170, kWidth, 40, order_caption(doc));
  const bool has_name = !display_text(doc.ship_to.name).empty();
  b.text(kLeft, 225, kWidth, 36, has_name ? doc.ship_to.name : doc.customer_name);
  b.text(kLeft, 275, kWidth, 30, package_text(doc) + captioned(" | Box ", doc.box_type));
  b.rule(30, 320, kLabelWidth - 60, 4);
}

// A short-picked line has a third line saying what is missing (rows are 95 dots apart).
void packing_row(PageBuilder& b, double y, const DocumentLine& l) {
  b.text(kLeft, y, 100, 36, std::to_string(l.quantity) + " x", true);
  b.text(150, y, kWidth - 110, 36, l.title);
  b.text(150, y + 44, kWidth - 110, 26, "SKU " + l.sku);
  if (l.short_units > 0) b.text(150, y + 72, kWidth - 110, 22, short_text(l), true);
}

void pick_header(PageBuilder& b, const OrderDocument& doc) {
  const bool wave = !doc.totes.empty();
  b.text(kLeft, 40, 540, 60, "PICK LIST", true);
  b.text(kLeft, 120, 540, 40, (wave ? "" : "Order ") + doc.order_id);
  b.text(kLeft, 175, 540, 36,
         wave ? std::to_string(doc.totes.size()) + " orders, one tote each" : doc.customer_name);
  b.text(
      kLeft, 230, 540, 30,
      std::to_string(doc.lines.size()) + " lines, " + std::to_string(item_count(doc)) + " items");
  if (wave) b.text(kLeft, 270, kLabelWidth - 2 * kLeft, 24, tote_legend(doc));
  b.qr(600, 40, 180, qr_data(doc));
  b.rule(30, 320, kLabelWidth - 60, 4);
}

void pick_row(PageBuilder& b, double y, const DocumentLine& l) {
  b.text(kLeft, y, 230, 40, l.bin, true);
  if (l.tote > 0) b.text(kLeft, y + 48, 230, 30, "Tote " + std::to_string(l.tote), true);
  b.text(280, y, 110, 40, std::to_string(l.quantity) + " x", true);
  b.text(400, y, kLabelWidth - kLeft - 400, 30, l.sku);
  b.text(280, y + 48, kLabelWidth - kLeft - 280, 26, l.title);
}

std::vector<Page> list_labels(const OrderDocument& doc) {
  const bool pick = doc.kind == DocumentKind::pick_list;
  const std::vector<DocumentLine> lines = pick ? lines_by_bin(doc.lines) : doc.lines;
  const std::size_t n =
      std::max<std::size_t>(1, (lines.size() + kLinesPerLabel - 1) / kLinesPerLabel);
  std::vector<Page> pages(n);
  for (std::size_t k = 0; k < n; ++k) {
    PageBuilder b(pages[k]);
    pick ? pick_header(b, doc) : packing_header(b, doc);
    for (std::size_t i = k * kLinesPerLabel; i < std::min(lines.size(), (k + 1) * kLinesPerLabel);
         ++i) {
      const double y = kRowsTop + static_cast<double>(i % kLinesPerLabel) * kRowHeight;
      pick ? pick_row(b, y, lines[i]) : packing_row(b, y, lines[i]);
    }
    list_footer(b, doc, k + 1, n);
    // Between the footer's rule and its text.
    if (!pick && any_short(doc)) b.text(kLeft, 1121, kWidth, 24, kShortNote, true);
  }
  return pages;
}

// The action sheet on 4x6 labels: five actions a label, each its name in big type over its
// barcode and code; every label says which desk it is for and "Label k of n".
constexpr double kLabelActionRowsTop = 215;
constexpr double kLabelActionRowHeight = 175;
constexpr std::size_t kActionsPerLabel = 5;

void action_label_header(PageBuilder& b, const OrderDocument& doc) {
  b.text(kLeft, 30, kWidth, 56, "ACTION BARCODES", true);
  b.text(kLeft, 100, kWidth, 30, doc.store_name);
  b.text(kLeft, 140, kWidth, 36, station_caption(doc), true);
  b.rule(30, 190, kLabelWidth - 60, 4);
}

void action_label_row(PageBuilder& b, double y, const ActionCode& a) {
  const std::string code = sheet_code(a);
  b.text(kLeft, y, kWidth, 44, action_label(a), true);
  b.code128(kLeft, y + 52, kWidth, 90, code);
  b.text(kLeft, y + 148, kWidth, 22, code);
}

std::vector<Page> action_labels(const OrderDocument& doc) {
  const auto rows = sheet_actions(doc);
  const std::size_t n = (rows.size() + kActionsPerLabel - 1) / kActionsPerLabel;
  std::vector<Page> pages(n);
  for (std::size_t k = 0; k < n; ++k) {
    PageBuilder b(pages[k]);
    action_label_header(b, doc);
    for (std::size_t i = k * kActionsPerLabel;
         i < std::min(rows.size(), (k + 1) * kActionsPerLabel); ++i)
      action_label_row(
          b,
          kLabelActionRowsTop + static_cast<double>(i % kActionsPerLabel) * kLabelActionRowHeight,
          rows[i]);
    list_footer(b, doc, k + 1, n);
  }
  return pages;
}

}  // namespace

Layout label_layout(const OrderDocument& doc) {
  Layout layout{kLabelWidth, kLabelHeight, 72.0 / kLabelDpi, {}};
  switch (doc.kind) {
    case DocumentKind::shipping_label:
      layout.pages.push_back(shipping_label(doc));
      break;
    case DocumentKind::pickup_shelf_label:
      layout.pages.push_back(pickup_shelf_label(doc));
      break;
    case DocumentKind::return_label:
      layout.pages.push_back(return_label(doc));
      break;
    case DocumentKind::packing_slip:
    case DocumentKind::pick_list:
      layout.pages = list_labels(doc);
      break;
    case DocumentKind::action_sheet:
      layout.pages = action_labels(doc);
      break;
  }
  return layout;
}

}  // namespace fulfil::drivers::docs
