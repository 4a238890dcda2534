#pragma once
// Internal to agent/: what goes on a printed document, from the store's own records.
#include <string>
#include <vector>

#include "domain/domain.hpp"
#include "domain/store.hpp"
#include "drivers/documents.hpp"

namespace fulfil::agent::printing {

struct DocumentFacts {
  std::string store_id;
  std::string store_name;
  int package_no = 1;  // shipping and return labels: which package
  std::string return_ref;
  int dpi = 203;
  std::int64_t now_ms = 0;
};

// Refuses the action sheet, which belongs to a station, not an order (saying so).
inline constexpr const char* kActionSheetIsNoOrders =
    "the action sheet is a station's, not an order's: print it with POST "
    "/api/v1/action-sheet/print";
Result<drivers::OrderDocument> order_document(Store& store, drivers::DocumentKind kind,
                                              const std::string& order_id,
                                              const DocumentFacts& facts);

// A station's action sheet (empty station: any desk) with the store's box types.
drivers::OrderDocument action_sheet_document(const std::string& station,
                                             const std::vector<std::string>& box_types,
                                             const DocumentFacts& facts);

}  // namespace fulfil::agent::printing
