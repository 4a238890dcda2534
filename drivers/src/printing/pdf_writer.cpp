// Layout -> PDF with cairo, in the printing module; all text through pango, which shapes every
// script and lets fontconfig pick a font per script (DejaVu Sans for Latin, Lohit for Devanagari).
// Text is set with pango_layout_set_text, not markup, so no field can be read as markup.
#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include <memory>

#include "pdf_barcode.hpp"
#include "pdf_writer.hpp"

namespace fulfil::drivers::docs {
namespace {

struct CairoDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
  void operator()(cairo_t* c) const { cairo_destroy(c); }
  void operator()(PangoLayout* l) const { g_object_unref(l); }
  void operator()(PangoFontDescription* f) const { pango_font_description_free(f); }
};
template <class T>
using Owned = std::unique_ptr<T, CairoDeleter>;

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void draw_text(cairo_t* cr, const Element& e, double unit) {
  if (e.text.empty()) return;
  Owned<PangoLayout> layout(pango_cairo_create_layout(cr));
  Owned<PangoFontDescription> font(
      pango_font_description_from_string(e.bold ? "DejaVu Sans,Lohit Devanagari,sans-serif Bold"
                                                : "DejaVu Sans,Lohit Devanagari,sans-serif"));
  // Layout heights are line heights; the font's em is 3/4 of that.
  pango_font_description_set_absolute_size(font.get(), e.h * unit * 0.75 * PANGO_SCALE);
  pango_layout_set_font_description(layout.get(), font.get());
  pango_layout_set_width(layout.get(), static_cast<int>(e.w * unit * PANGO_SCALE));
  pango_layout_set_ellipsize(layout.get(), PANGO_ELLIPSIZE_END);  // one line, cut with "…"
  pango_layout_set_single_paragraph_mode(layout.get(), TRUE);
  // The daemon has cut the text to what one line can hold (documents/document_kinds.cpp).
  pango_layout_set_text(layout.get(), e.text.c_str(), static_cast<int>(e.text.size()));
  cairo_move_to(cr, e.x * unit, e.y * unit);
  pango_cairo_show_layout(cr, layout.get());
}

void draw_rule(cairo_t* cr, const Element& e, double unit) {
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, e.x * unit, e.y * unit, e.w * unit, e.h * unit);
  cairo_fill(cr);
}

Expected<void, DocumentError> draw_page(cairo_t* cr, const Page& page, double unit) {
  for (const Element& e : page.elements) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (e.type == ElementType::text) {
      draw_text(cr, e, unit);
    } else if (e.type == ElementType::rule) {
      draw_rule(cr, e, unit);
    } else if (auto r = draw_barcode(cr, e, unit); !r) {
      return r;
    }
  }
  return {};
}

Expected<std::string, DocumentError> fail(std::string what, cairo_status_t status) {
  return unexpected(DocumentError{what + ": " + cairo_status_to_string(status)});
}

}  // namespace

Expected<std::string, DocumentError> draw_pdf(const Layout& layout) {
  std::string out;
  Owned<cairo_surface_t> surface(cairo_pdf_surface_create_for_stream(
      append, &out, layout.width * layout.unit_pt, layout.height * layout.unit_pt));
  if (auto s = cairo_surface_status(surface.get()); s != CAIRO_STATUS_SUCCESS) {
    return fail("cannot create the PDF", s);
  }
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "fulfild");
  Owned<cairo_t> cr(cairo_create(surface.get()));
  for (const Page& page : layout.pages) {
    if (auto r = draw_page(cr.get(), page, layout.unit_pt); !r) return unexpected(r.error());
    cairo_show_page(cr.get());
  }
  if (auto s = cairo_status(cr.get()); s != CAIRO_STATUS_SUCCESS) {
    return fail("cannot draw the PDF", s);
  }
  cr.reset();
  cairo_surface_finish(surface.get());
  if (auto s = cairo_surface_status(surface.get()); s != CAIRO_STATUS_SUCCESS) {
    return fail("cannot write the PDF", s);
  }
  return out;
}

}  // namespace fulfil::drivers::docs
