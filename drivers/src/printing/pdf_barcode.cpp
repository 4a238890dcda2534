// Barcodes for PDF: zint encodes, cairo draws its rectangles, so bars stay vector shapes
// and print sharp at any printer resolution.
#include "pdf_barcode.hpp"

#include <zint.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

namespace fulfil::drivers::docs {
namespace {

using Symbol = std::unique_ptr<zint_symbol, decltype(&ZBarcode_Delete)>;

// 3 dots at 203 dpi, the widest Code 128 module the ZPL labels use.
constexpr double kMaxModulePt = 3 * 72.0 / 203;

// Data zint refused, as a message may show it: printable ASCII as it is, every other byte
// as '?' (the module has no UTF-8 cleaning of its own; a refused datum is mostly ASCII).
std::string shown(std::string_view data) {
  std::string out(data);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7E) c = '?';
  }
  return out;
}

Expected<Symbol, DocumentError> encode(const Element& e) {
  Symbol sym(ZBarcode_Create(), ZBarcode_Delete);
  const char* what = e.type == ElementType::qr ? "QR code" : "Code 128 barcode";
  if (!sym) return unexpected(DocumentError{std::string("cannot create a ") + what});
  sym->symbology = e.type == ElementType::qr ? BARCODE_QRCODE : BARCODE_CODE128;
  sym->input_mode = DATA_MODE;  // the bytes as given: ASCII, or UTF-8 for a QR code
  sym->show_hrt = 0;            // the templates print the text themselves
  if (e.type == ElementType::qr) sym->option_1 = 3;  // error correction level Q, as in ZPL
  const auto* data = reinterpret_cast<const unsigned char*>(e.text.data());
  int rc = ZBarcode_Encode(sym.get(), data, static_cast<int>(e.text.size()));
  if (rc < ZINT_ERROR) rc = ZBarcode_Buffer_Vector(sym.get(), 0);
  if (rc >= ZINT_ERROR || sym->vector == nullptr) {
    return unexpected(
        DocumentError{std::string(what) + " of \"" + shown(e.text) + "\": " + sym->errtxt});
  }
  return sym;
}

}  // namespace

Expected<void, DocumentError> draw_barcode(cairo_t* cr, const Element& e, double unit_pt) {
  auto sym = encode(e);
  if (!sym) return unexpected(sym.error());
  const zint_vector& v = *(*sym)->vector;
  if (v.width <= 0 || v.height <= 0) return unexpected(DocumentError{"empty barcode"});
  double sx = 0, sy = 0;
  if (e.type == ElementType::qr) {
    sx = sy = std::min(e.w, e.h) * unit_pt / std::max(v.width, v.height);
  } else {
    const double module = v.width / std::max(1, (*sym)->width);
    sx = std::min(e.w * unit_pt / v.width, kMaxModulePt / module);
    sy = e.h * unit_pt / v.height;
  }
  const double x0 = e.x * unit_pt, y0 = e.y * unit_pt;
  cairo_set_source_rgb(cr, 0, 0, 0);
  for (const zint_vector_rect* r = v.rectangles; r != nullptr; r = r->next) {
    if (r->colour != -1 && r->colour != 7) continue;  // foreground or black only
    cairo_rectangle(cr, x0 + r->x * sx, y0 + r->y * sy, r->width * sx, r->height * sy);
  }
  cairo_fill(cr);
  return {};
}

}  // namespace fulfil::drivers::docs
