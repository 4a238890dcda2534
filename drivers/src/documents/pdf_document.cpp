// PDF through the printing module (drivers/printing_module.hpp), which this first PDF loads
// when no PDF or CUPS printer has yet. The texts are cut here, with the daemon's UTF-8
// handling, so the module draws exactly what the layout says.
#include "documents_internal.hpp"
#include "drivers/printing_module.hpp"

namespace fulfil::drivers::docs {
namespace {

// Pango would shape any length; a field never needs more than this on one line.
constexpr std::size_t kMaxTextChars = 300;

}  // namespace

Expected<std::string, DocumentError> write_pdf(const Layout& layout) {
  auto module = printing_module();
  if (!module) return unexpected(DocumentError{"cannot write a PDF: " + module.error()});
  Layout cut = layout;
  for (Page& page : cut.pages)
    for (Element& e : page.elements)
      if (e.type == ElementType::text) e.text = truncate_chars(e.text, kMaxTextChars);
  return (*module)->write_pdf(cut);
}

}  // namespace fulfil::drivers::docs
