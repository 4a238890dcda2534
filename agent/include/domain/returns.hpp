#pragma once
// Customer returns received at the store ("return anywhere"): with or without the original
// order, each line given a disposition that decides where the units go.
#include <optional>
#include <string>
#include <vector>

#include "domain/domain.hpp"
#include "domain/outbox.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

enum class Disposition {
  restock,     // back on the shelf: on_hand += qty
  unsellable,  // kept but not sellable (damaged, opened): on_hand and unsellable += qty
  to_vendor,   // sent back to the supplier, never enters store stock: no stock movement
};
std::optional<Disposition> disposition_from(std::string_view name);
std::string_view disposition_name(Disposition d);

struct ReturnLine {
  std::string sku;
  std::int64_t quantity = 0;
  Disposition disposition = Disposition::restock;
  std::string reason;  // the customer's reason, free text
};

struct ReturnRequest {
  // A shipped or collected order of this store, if known: its id or, when no order has
  // that id, the customer's order number (as FulfilmentOrders::id_for_ref resolves it).
  std::optional<std::string> order_id;
  std::vector<ReturnLine> lines;
  std::string note;
};

struct ReturnReceipt {
  std::string return_id;
  std::optional<std::string> order_id;  // the order's id the return was booked against
};

class Returns {
 public:
  Returns(Database& db, Outbox& outbox) : db_(db), outbox_(outbox) {}
  Result<ReturnReceipt> receive(const ReturnRequest& request, const CommandContext& ctx);
  // Units of `sku` already returned against `order_id`.
  std::int64_t returned_quantity(const std::string& order_id, const std::string& sku);

 private:
  Result<void> check_against_order(const ReturnRequest& request, const std::string& order_id);
  Database& db_;
  Outbox& outbox_;
};

}  // namespace fulfil::agent
