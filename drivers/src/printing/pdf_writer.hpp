#pragma once
// The printing module's PDF writer: a Layout drawn with cairo, text shaped by pango.
#include <string>

#include "config/expected.hpp"
#include "drivers/document_layout.hpp"
#include "drivers/documents.hpp"

namespace fulfil::drivers::docs {

Expected<std::string, DocumentError> draw_pdf(const Layout& layout);

}  // namespace fulfil::drivers::docs
