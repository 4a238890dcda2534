#pragma once
// Internal to agent/: what goes on a printed document, from the store's own records.
#include <string>

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

Result<drivers::OrderDocument> order_document(Store& store, drivers::DocumentKind kind,
                                              const std::string& order_id,
                                              const DocumentFacts& facts);

}  // namespace fulfil::agent::printing
