// Document kinds and formats by name, and render_document: check, lay out, write.
#include <array>
#include <utility>

#include "documents_internal.hpp"

namespace fulfil::drivers {
namespace {

constexpr std::array<std::pair<DocumentKind, std::string_view>, 6> kKinds{{
    {DocumentKind::shipping_label, "shipping_label"},
    {DocumentKind::packing_slip, "packing_slip"},
    {DocumentKind::pick_list, "pick_list"},
    {DocumentKind::pickup_shelf_label, "pickup_shelf_label"},
    {DocumentKind::return_label, "return_label"},
    {DocumentKind::action_sheet, "action_sheet"},
}};
static_assert(kKinds.size() == static_cast<std::size_t>(DocumentKind::action_sheet) + 1);

bool is_list(DocumentKind k) {
  return k == DocumentKind::packing_slip || k == DocumentKind::pick_list ||
         k == DocumentKind::action_sheet;
}

}  // namespace

std::string_view document_kind_name(DocumentKind k) {
  for (const auto& [kind, name] : kKinds) {
    if (kind == k) return name;
  }
  return "unknown";
}

std::optional<DocumentKind> document_kind_from(std::string_view name) {
  for (const auto& [kind, n] : kKinds) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

std::string_view document_format_name(DocumentFormat f) {
  return f == DocumentFormat::zpl ? "zpl" : "pdf";
}

Expected<std::string, DocumentError> render_document(const OrderDocument& doc,
                                                     DocumentFormat format) {
  if (auto r = docs::check_document(doc); !r) return unexpected(r.error());
  if (format == DocumentFormat::zpl) {
    if (auto r = docs::check_zpl_options(doc); !r) return unexpected(r.error());
    return docs::write_zpl(docs::label_layout(doc), doc);
  }
  // Page printers get A4 for the lists (and the action sheet) and a 4x6 in page for the
  // labels.
  return docs::write_pdf(is_list(doc.kind) ? docs::page_layout(doc) : docs::label_layout(doc));
}

}  // namespace fulfil::drivers
