#pragma once
// A printed document laid out: pages of positioned text, rules and barcodes, with every
// variable text already cleaned (documents_internal.hpp's templates make it). The ZPL
// writer and the PDF writer of the printing module (printing_module.hpp) only draw it.
#include <string>
#include <vector>

namespace fulfil::drivers::docs {

enum class ElementType { text, code128, qr, rule };

struct Element {
  ElementType type = ElementType::text;
  double x = 0, y = 0;  // top left, in layout units
  double w = 0;         // text: the box it is cut to; barcodes: the widest it may be
  double h = 0;         // text: character height; barcodes: symbol height; rule: thickness
  std::string text;     // text: cleaned display text; barcodes: the data
  bool bold = false;
};

struct Page {
  std::vector<Element> elements;
};

struct Layout {
  double width = 0, height = 0;  // in layout units
  double unit_pt = 1;            // PDF points per unit
  std::vector<Page> pages;
};

}  // namespace fulfil::drivers::docs
