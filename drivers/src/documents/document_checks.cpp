// What a document must hold before it is printed. The same checks run for ZPL and PDF, so
// a document that fails on one printer fails on every printer, with the same message.
#include <algorithm>

#include "documents_internal.hpp"

namespace fulfil::drivers::docs {
namespace {

using Result = Expected<void, DocumentError>;

Result fail(std::string message) {
  return unexpected(DocumentError{std::move(message)});
}

bool blank(std::string_view s) {
  return display_text(s).empty();
}

// Code 128 (set A/B) holds printable ASCII; the length bound keeps the symbol on a 4 in
// label at a scannable module width.
constexpr std::size_t kMaxCode128 = 40;

Result check_code128(std::string_view what, std::string_view data) {
  if (data.empty()) {
    return fail(std::string(what) + " is empty: there is nothing to print as its barcode");
  }
  if (data.size() > kMaxCode128) {
    return fail(std::string(what) + " is " + std::to_string(data.size()) +
                " characters; its Code 128 barcode holds at most " + std::to_string(kMaxCode128));
  }
  const bool printable = std::all_of(data.begin(), data.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F;
  });
  if (!printable) {
    return fail(std::string(what) +
                " has characters a Code 128 barcode cannot hold (only printable ASCII)");
  }
  return {};
}

Result check_address(std::string_view what, const PostalAddress& a) {
  if (blank(a.name)) return fail(std::string(what) + " has no name");
  if (blank(a.line1)) return fail(std::string(what) + " has no street line");
  if (blank(a.city) && blank(a.postcode)) {
    return fail(std::string(what) + " has no city or postcode");
  }
  if (blank(a.country)) return fail(std::string(what) + " has no country");
  return {};
}

Result check_lines(const OrderDocument& doc) {
  const std::string kind(document_kind_name(doc.kind));
  if (doc.lines.empty()) return fail("the " + kind + " has no lines");
  for (std::size_t i = 0; i < doc.lines.size(); ++i) {
    const DocumentLine& l = doc.lines[i];
    if (l.quantity < 0 || l.picked < 0) {
      return fail("line " + std::to_string(i + 1) + " (" + display_text(l.sku) +
                  ") has a negative quantity");
    }
  }
  return {};
}

// A name as a message can show it: control characters as \xNN, so the person reading it
// sees which character is wrong; the rest as valid UTF-8.
std::string visible(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : sanitize_utf8(s)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    } else {
      out += ch;
    }
  }
  return out;
}

// Each box type becomes a barcode "*ACT-BOX-<type>"; the fixed actions' codes are ASCII
// constants. The message names the box type and where to change it.
Result check_action_sheet(const OrderDocument& doc) {
  for (const auto& box : doc.box_types) {
    if (box.empty()) return fail("a box type is empty (orders.box_types)");
    const std::string shown = "box type \"" + visible(box) + "\"";
    const std::string code = box_action_code(box);
    if (!check_code128("", code)) {
      const bool too_long = code.size() > kMaxCode128;
      return fail(shown + " cannot be an action barcode: " +
                  (too_long
                       ? "its code " + visible(code) + " is " + std::to_string(code.size()) +
                             " characters, Code 128 holds at most " + std::to_string(kMaxCode128)
                       : std::string("Code 128 holds printable ASCII only (no accents, other "
                                     "scripts or control characters)")) +
                  "; rename it in orders.box_types");
    }
  }
  return {};
}

// A QR code of version 40 at level Q holds 1663 bytes; a pick list's QR is a short link
// or id, so anything near that is a mistake, and a dense code would not scan off paper.
constexpr std::size_t kMaxQrBytes = 512;

Result check_kind(const OrderDocument& doc) {
  switch (doc.kind) {
    case DocumentKind::shipping_label:
      if (auto r = check_address("the shipping address", doc.ship_to); !r) return r;
      // Before the carrier has given a tracking number the label carries the store's own
      // package code, which the handover scan finds the parcel by.
      if (doc.tracking.empty()) return check_code128("the package code", package_code(doc));
      return check_code128("the tracking number", doc.tracking);
    case DocumentKind::return_label:
      return check_code128("the return reference", doc.return_ref);
    case DocumentKind::pickup_shelf_label:
      return check_code128("the order id", doc.order_id);
    case DocumentKind::packing_slip:
      return check_lines(doc);
    case DocumentKind::pick_list:
      if (qr_data(doc).size() > kMaxQrBytes) {
        return fail("the pick list's QR data is " + std::to_string(qr_data(doc).size()) +
                    " bytes; at most " + std::to_string(kMaxQrBytes) + " fit a printable QR code");
      }
      return check_lines(doc);
    case DocumentKind::action_sheet:
      return check_action_sheet(doc);
  }
  return fail("unknown document kind");
}

bool font_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

Result check_document(const OrderDocument& doc) {
  // The action sheet is a desk's, not an order's.
  if (doc.kind == DocumentKind::action_sheet) return check_kind(doc);
  if (blank(doc.order_id)) return fail("the document has no order id");
  if (doc.package_count < 1 || doc.package_no < 1 || doc.package_no > doc.package_count) {
    return fail("package " + std::to_string(doc.package_no) + " of " +
                std::to_string(doc.package_count) + " is not a package of the order");
  }
  if (doc.weight_g < 0) return fail("the package weight is negative");
  return check_kind(doc);
}

// The font name is written outside field data (^A@N,h,w,NAME), so it must be a plain
// printer file name and nothing else: "E:NOTOSANS.TTF".
Result check_zpl_options(const OrderDocument& doc) {
  if (doc.dpi < 150 || doc.dpi > 600) {
    return fail("a label printer of " + std::to_string(doc.dpi) +
                " dpi is not supported (150 to 600)");
  }
  const std::string_view f = doc.zpl_font;
  if (f.empty()) return {};
  const std::size_t dot = f.rfind('.');
  const bool drive = f.size() > 2 && f[0] >= 'A' && f[0] <= 'Z' && f[1] == ':';
  bool ok = drive && dot != std::string_view::npos && dot > 2 && dot - 2 <= 16;
  if (ok) {
    const std::string_view stem = f.substr(2, dot - 2);
    const std::string_view ext = f.substr(dot);
    ok = std::all_of(stem.begin(), stem.end(), font_name_char) &&
         (ext == ".TTF" || ext == ".TTE" || ext == ".FNT");
  }
  if (!ok) {
    return fail("the ZPL font \"" + display_text(f) +
                "\" is not a printer font name like E:NOTOSANS.TTF");
  }
  return {};
}

}  // namespace fulfil::drivers::docs
