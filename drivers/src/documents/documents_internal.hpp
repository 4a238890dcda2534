#pragma once
// Internals of the printed documents. A template turns an OrderDocument into a Layout: pages
// of positioned text, rules and barcodes, with every variable text already cleaned. The ZPL
// and PDF writers only draw a Layout, so both formats print the same content and a writer
// never sees a field it has not been given as data.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "codes/action_codes.hpp"
#include "drivers/document_layout.hpp"
#include "drivers/documents.hpp"

namespace fulfil::drivers::docs {

// ---- UTF-8 text (utf8_text.cpp)

// Valid UTF-8: each invalid byte (stray continuation, overlong, surrogate, > U+10FFFF,
// truncated sequence) becomes U+FFFD.
std::string sanitize_utf8(std::string_view text);
// What a variable field prints as: valid UTF-8 with control characters (C0, DEL, C1) as
// spaces, runs of spaces collapsed and ends trimmed, so a "\r\n" in an address line cannot
// move text around on the page, and bidirectional controls (U+202E and its kin) dropped,
// so a name cannot print reversed.
std::string display_text(std::string_view text);
std::size_t code_point_count(std::string_view utf8);
// At most max_chars code points; a cut text ends in "..." (ASCII, which every font has).
std::string truncate_chars(std::string_view utf8, std::size_t max_chars);

// ---- ZPL field data (zpl_field.cpp; zpl_field_data itself is public)

// Field data for ^BC: ZPL reads '>' in Code 128 data as a subset/function invocation, so a
// literal '>' is written "><" before escaping.
std::string zpl_code128_data(std::string_view ascii);

// ---- Layout (drivers/document_layout.hpp)

// Labels are laid out in dots of a 203 dpi printer on a 4x6 in label; ZPL scales to the
// printer's dpi and PDF to points.
inline constexpr double kLabelDpi = 203;
inline constexpr double kLabelWidth = 812;
inline constexpr double kLabelHeight = 1218;

// Adds elements to a page; text is passed through display_text here, once for all.
class PageBuilder {
 public:
  explicit PageBuilder(Page& page) : page_(page) {}
  void text(double x, double y, double w, double h, std::string_view s, bool bold = false);
  void rule(double x, double y, double w, double thickness);
  void code128(double x, double y, double w, double h, std::string_view data);
  void qr(double x, double y, double size, std::string_view data);

 private:
  Page& page_;
};

// ---- Checks (document_checks.cpp): what every format needs before a template runs.
Expected<void, DocumentError> check_document(const OrderDocument& doc);
Expected<void, DocumentError> check_zpl_options(const OrderDocument& doc);

// ---- Shared template helpers (template_common.cpp)
std::vector<DocumentLine> lines_by_bin(const std::vector<DocumentLine>& lines);
std::string format_printed_at(std::int64_t unix_ms);
std::string city_line(const PostalAddress& a);
// The address lines under the name that have something to print (street, second line,
// postcode-city-region, country), moved up into `slots` lines, the rest empty: the label
// keeps its fields (the commands never depend on the text) and shows no blank line.
std::vector<std::string> address_lines(const PostalAddress& a, std::size_t slots);
// A packing slip line's shortfall, "2 ordered, 1 short: not found"; empty when none.
std::string short_text(const DocumentLine& l);
bool any_short(const OrderDocument& doc);
// Under a packing slip with short lines.
inline constexpr std::string_view kShortNote = "Short items ship separately or are refunded.";
std::string package_text(const OrderDocument& doc);
// "Order <ref>", or the order id where the reference is empty once printable.
// A wave's pick list: "1 W100001   2 W100002 ...", which order each tote is for.
std::string tote_legend(const OrderDocument& doc);
std::string order_caption(const OrderDocument& doc);
std::int64_t item_count(const OrderDocument& doc);
// "1 item", "3 items".
std::string item_text(std::int64_t n);
// The store's own code for a parcel: "<order id>-<package no>" (Code 128 on the label).
std::string package_code(const OrderDocument& doc);
std::string weight_text(std::int64_t grams);
std::string qr_data(const OrderDocument& doc);
// An action sheet's rows, in the order of the desk's work: accept, start and complete
// picking, each box type, pack, print again, back to the queue.
std::vector<ActionCode> sheet_actions(const OrderDocument& doc);
// The barcode data of a row ("*ACT-PACK", "*ACT-BOX-M").
std::string sheet_code(const ActionCode& a);
// "Station desk-1", or "Any station" for a sheet printed for no desk in particular.
std::string station_caption(const OrderDocument& doc);

// ---- Templates
// 4x6 in labels; packing slips, pick lists and action sheets become several labels of a
// few lines (or action rows) each.
Layout label_layout(const OrderDocument& doc);
// A4 pages for packing slips, pick lists and action sheets.
Layout page_layout(const OrderDocument& doc);
// How many lines one label of a packing slip or pick list holds.
inline constexpr std::size_t kLinesPerLabel = 8;

// ---- Writers
std::string write_zpl(const Layout& layout, const OrderDocument& doc);
// Through the printing module (loaded on this first need): texts cut to what one line
// holds, then drawn by cairo there.
Expected<std::string, DocumentError> write_pdf(const Layout& layout);
}  // namespace fulfil::drivers::docs
