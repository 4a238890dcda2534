// Layout -> ZPL II. Each page becomes one label: ^XA^CI28 (fields are UTF-8) ... ^XZ.
// Every piece of data goes out as ^FH_^FD<zpl_field_data>^FS; everything else written
// here is a constant of the template or a number, so no field can add a command.
#include <algorithm>
#include <cmath>

#include "documents_internal.hpp"

namespace fulfil::drivers::docs {
namespace {

class ZplOut {
 public:
  explicit ZplOut(const OrderDocument& doc) : scale_(doc.dpi / kLabelDpi), font_(doc.zpl_font) {}

  int dots(double v) const { return static_cast<int>(std::lround(v * scale_)); }
  std::string pos(const Element& e) const {
    return "^FO" + std::to_string(dots(e.x)) + "," + std::to_string(dots(e.y));
  }
  // ^A0 is the printer's resident scalable font; ^A@ names a TrueType font stored on it
  // (which Devanagari needs: ^A0 has no Indic glyphs). Width = height keeps ^A0's shapes.
  std::string font(const Element& e) const {
    const std::string hw = std::to_string(dots(e.h)) + "," + std::to_string(dots(e.h));
    return font_.empty() ? "^A0N," + hw : "^A@N," + hw + "," + font_;
  }
  double scale() const { return scale_; }

 private:
  double scale_;
  std::string font_;
};

// ^A0's glyphs average a little over half the height wide; 0.6 leaves room for capitals.
std::size_t max_chars(const Element& e) {
  return static_cast<std::size_t>(std::max(1.0, std::floor(e.w / (0.6 * e.h))));
}

void text(std::string& out, const ZplOut& z, const Element& e) {
  out += z.pos(e) + z.font(e) + "^FH_^FD" + zpl_field_data(truncate_chars(e.text, max_chars(e))) +
         "^FS\n";
}

void rule(std::string& out, const ZplOut& z, const Element& e) {
  const std::string t = std::to_string(std::max(1, z.dots(e.h)));
  out += z.pos(e) + "^GB" + std::to_string(z.dots(e.w)) + "," + t + "," + t + "^FS\n";
}

// Code 128 takes 11 modules a character plus 35 for start, check and stop codes and quiet
// zones; the module is the widest (up to 3 dots at 203 dpi) that keeps it within e.w.
void code128(std::string& out, const ZplOut& z, const Element& e) {
  const double modules = 11.0 * static_cast<double>(e.text.size()) + 35;
  const double module203 = std::clamp(std::floor(e.w / modules), 1.0, 3.0);
  const int module = std::max(1, static_cast<int>(std::lround(module203 * z.scale())));
  out += z.pos(e) + "^BY" + std::to_string(module) + "^BCN," + std::to_string(z.dots(e.h)) +
         ",N,N,N^FH_^FD" + zpl_code128_data(e.text) + "^FS\n";
}

// ^BQN,2,m: model 2 QR, m dots a module. "QA," in the field data asks for error
// correction level Q and automatic encoding; the data follows, escaped like any field.
void qr(std::string& out, const ZplOut& z, const Element& e) {
  const int mag = std::clamp(static_cast<int>(std::floor(e.w * z.scale() / 35)), 1, 10);
  out +=
      z.pos(e) + "^BQN,2," + std::to_string(mag) + "^FH_^FDQA," + zpl_field_data(e.text) + "^FS\n";
}

}  // namespace

std::string write_zpl(const Layout& layout, const OrderDocument& doc) {
  const ZplOut z(doc);
  std::string out;
  for (const Page& page : layout.pages) {
    out += "^XA^CI28^PW" + std::to_string(z.dots(layout.width)) + "^LL" +
           std::to_string(z.dots(layout.height)) + "^LH0,0\n";
    for (const Element& e : page.elements) {
      switch (e.type) {
        case ElementType::text:
          text(out, z, e);
          break;
        case ElementType::rule:
          rule(out, z, e);
          break;
        case ElementType::code128:
          code128(out, z, e);
          break;
        case ElementType::qr:
          qr(out, z, e);
          break;
      }
    }
    out += "^XZ\n";
  }
  return out;
}

}  // namespace fulfil::drivers::docs
