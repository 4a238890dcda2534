#pragma once
// The documents a store prints: ZPL for thermal label printers, PDF for page printers.
// Templates are filled from an OrderDocument the agent builds from its own records; every
// variable field is escaped, so a customer's name or address can contain ZPL commands,
// control characters or any script and still print as the text it is.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/expected.hpp"

namespace fulfil::drivers {

enum class DocumentKind {
  shipping_label,
  packing_slip,
  pick_list,
  pickup_shelf_label,
  return_label,
  action_sheet  // a desk's action barcodes (codes/action_codes.hpp); no order
};
std::string_view document_kind_name(DocumentKind k);
std::optional<DocumentKind> document_kind_from(std::string_view name);

enum class DocumentFormat { zpl, pdf };
std::string_view document_format_name(DocumentFormat f);

struct PostalAddress {
  std::string name;
  std::string line1;
  std::string line2;
  std::string city;
  std::string region;
  std::string postcode;
  std::string country;  // ISO 3166-1 alpha-2
};

struct DocumentLine {
  std::string sku;
  std::string title;
  std::string bin;   // where it is in the store (pick lists are sorted by it)
  std::string gtin;  // 14 digits, or empty
  std::int64_t quantity = 0;
  std::int64_t picked = 0;
  // Packing slips: a line short-picked (units the store could not supply) prints as
  // "<ordered> ordered, <short_units> short: <reason>", with a note that they are not in
  // the parcel. 0 short_units: a line like any other.
  std::int64_t ordered = 0;
  std::int64_t short_units = 0;
  std::string short_reason;  // "not_found", "damaged", ... (underscores print as spaces)
  int tote = 0;              // a pick list of several orders (a wave): the tote these units go into
};

struct OrderDocument {
  DocumentKind kind = DocumentKind::packing_slip;
  std::string store_id;
  std::string store_name;
  std::string order_id;   // "FO-1001"
  std::string order_ref;  // the brand's order number, shown to the customer
  std::string customer_name;
  PostalAddress ship_to;
  std::vector<DocumentLine> lines;
  std::string order_qr;  // pick list: what its QR code holds (scanning it opens the order)
  // A pick list of several orders (a wave): order_id names the list ("PL-3"), each line
  // its tote, and `totes` says which order each tote is for ("W100001", tote 1 first).
  std::vector<std::string> totes;

  // Shipping and return labels, packing slips: the package.
  std::string carrier;
  std::string tracking;
  std::string box_type;
  int package_no = 1;
  int package_count = 1;
  std::int64_t weight_g = 0;

  // Pickup shelf label: where the bag is staged ("P-03"), or empty. The label's barcode
  // holds the order id (a terminal's scan opens the order), never the customer's pickup
  // code: associates read and scan shelf labels, and the code is the customer's proof.
  std::string shelf;
  std::string return_ref;  // return label: the return's reference, as a barcode

  // Action sheet: the station (desk) it is for, shown in its header ("desk-1"; empty: any
  // desk), and the store's box types (orders.box_types), one "BOX: <type>" row each after
  // the fixed actions. order_id stays empty: the sheet belongs to no order. Each row's
  // barcode is the action's code ("*ACT-PACK", "*ACT-BOX-<type>"); a box type whose code
  // Code 128 cannot carry (non-ASCII or control characters, too long) refuses the sheet.
  std::string station;
  std::vector<std::string> box_types;

  std::int64_t printed_at_ms = 0;  // shown on the document (Unix ms, UTC)
  int dpi = 203;                   // ZPL: the printer's resolution

  // ZPL: the font for text. Empty: the printer's built-in scalable font ^A0, which covers
  // Latin (accents, Bahasa), Greek and Cyrillic under ^CI28. Devanagari and other scripts
  // need a TrueType font downloaded to the printer, named here as "E:NOTOSANSDEV.TTF"
  // (drive letter, colon, 1-16 of [A-Z0-9_-], .TTF/.TTE/.FNT); it is used through ^A@.
  std::string zpl_font;
};

struct DocumentError {
  std::string message;
};

// The document as the printer language's bytes.
Expected<std::string, DocumentError> render_document(const OrderDocument& doc,
                                                     DocumentFormat format);

// One ZPL field's data, for use between ^FH and ^FS: UTF-8 text (with ^CI28) in which
// every byte that could end the field or start a command (^, ~, control characters, the
// escape character itself, and all non-ASCII bytes) is written as a _XX hex escape.
// Invalid UTF-8 is replaced by U+FFFD so the printer never sees a broken sequence.
std::string zpl_field_data(std::string_view text);

}  // namespace fulfil::drivers
