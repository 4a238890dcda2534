#pragma once
// Draws a Code 128 or QR element on a cairo context from zint's vector output.
#include <cairo.h>

#include "config/expected.hpp"
#include "drivers/document_layout.hpp"
#include "drivers/documents.hpp"

namespace fulfil::drivers::docs {

// unit_pt: points per layout unit. Fails (zint's reason in the message) if zint refuses
// the data.
Expected<void, DocumentError> draw_barcode(cairo_t* cr, const Element& e, double unit_pt);

}  // namespace fulfil::drivers::docs
