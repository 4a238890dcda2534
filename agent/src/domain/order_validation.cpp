#include "order_validation.hpp"

#include <map>
#include <set>

#include "text_checks.hpp"

namespace fulfil::agent {
namespace {

constexpr std::int64_t kMaxLineQuantity = 10000;
constexpr std::size_t kMaxLines = 500;
constexpr std::size_t kMaxPackages = 50;
constexpr std::int64_t kMaxWeightG = 100000;

Result<void> check_customer(const FulfilmentOrder& o) {
  if (auto ok = check_text("customer.name", o.customer.name, 200, true); !ok) return ok;
  if (auto ok = check_text("customer.email", o.customer.email, 254, false); !ok) return ok;
  return check_text("customer.phone", o.customer.phone, 40, false);
}

// `where`: how the address is named in messages ("address").
Result<void> check_address(const Address& a, bool needed, const std::string& where) {
  if (auto ok = check_text(where + ".name", a.name, 200, false); !ok) return ok;
  if (auto ok = check_text(where + ".line1", a.line1, 200, needed); !ok) return ok;
  if (auto ok = check_text(where + ".line2", a.line2, 200, false); !ok) return ok;
  if (auto ok = check_text(where + ".city", a.city, 100, needed); !ok) return ok;
  if (auto ok = check_text(where + ".region", a.region, 100, false); !ok) return ok;
  if (auto ok = check_text(where + ".postcode", a.postcode, 20, needed); !ok) return ok;
  if (needed || !a.country.empty()) {
    if (a.country.size() != 2 || !std::isupper(static_cast<unsigned char>(a.country[0])) ||
        !std::isupper(static_cast<unsigned char>(a.country[1])))
      return fail(DomainErrc::invalid_argument,
                  where + ".country must be an ISO 3166-1 alpha-2 code such as DE, got '" +
                      a.country + "'");
  }
  return {};
}

Result<void> check_address(const FulfilmentOrder& o) {
  return check_address(o.address, o.method == DeliveryMethod::ship, "address");
}

// A transfer's fields, named as in its transfer.requested payload. Its lines were numbered
// from 1 in the order the payload lists them.
Result<void> check_transfer(const FulfilmentOrder& o) {
  if (auto ok = check_id("transfer_id", o.id); !ok) return ok;
  if (auto ok = check_text("reference", o.order_ref, 64, false); !ok) return ok;
  if (auto ok = check_id("destination_store.id", o.destination_store); !ok) return ok;
  if (auto ok = check_text("destination_store.name", o.customer.name, 200, true); !ok) return ok;
  if (auto ok = check_text("destination_store.email", o.customer.email, 254, false); !ok) return ok;
  if (auto ok = check_text("destination_store.phone", o.customer.phone, 40, false); !ok) return ok;
  if (auto ok = check_address(o.address, true, "destination_store.address"); !ok) return ok;
  if (auto ok = check_text("notes", o.notes, 1000, false); !ok) return ok;
  if (o.accept_by < 0) return fail(DomainErrc::invalid_argument, "accept_by cannot be negative");
  if (o.ship_by < 0) return fail(DomainErrc::invalid_argument, "ship_by cannot be negative");
  if (o.method != DeliveryMethod::ship)
    return fail(DomainErrc::invalid_argument,
                "delivery_method: a transfer is shipped, never collected");
  if (o.lines.empty() || o.lines.size() > kMaxLines)
    return fail(DomainErrc::invalid_argument,
                "lines: a transfer needs 1 to " + std::to_string(kMaxLines) + " lines");
  std::set<std::string> skus;
  for (std::size_t i = 0; i < o.lines.size(); ++i) {
    const OrderLine& l = o.lines[i];
    const std::string where = "lines[" + std::to_string(i) + "]";
    if (auto ok = check_text(where + ".sku", l.sku, 64, true); !ok) return ok;
    if (!skus.insert(l.sku).second)
      return fail(DomainErrc::invalid_argument, where + ": SKU " + l.sku + " is listed twice");
    if (l.quantity <= 0 || l.quantity > kMaxLineQuantity)
      return fail(DomainErrc::invalid_argument,
                  where + ".quantity must be 1 to " + std::to_string(kMaxLineQuantity));
  }
  return {};
}

}  // namespace

Result<void> check_id(std::string_view field, std::string_view id) {
  if (id.empty() || id.size() > 64)
    return fail(DomainErrc::invalid_argument, std::string(field) + " must be 1 to 64 characters");
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != ':')
      return fail(DomainErrc::invalid_argument,
                  std::string(field) + " '" + std::string(id) +
                      "' may only contain letters, digits, '-', '_', '.' and ':'");
  return {};
}

Result<void> validate_routed_order(const FulfilmentOrder& o) {
  // A transfer's own checks name its payload's fields; the rules below hold for it too.
  if (o.kind == OrderKind::transfer)
    if (auto ok = check_transfer(o); !ok) return ok;
  if (auto ok = check_id("order id", o.id); !ok) return ok;
  if (auto ok = check_text("order_ref", o.order_ref, 64, false); !ok) return ok;
  // Nothing is sold in a transfer: its prices are 0 and a currency is optional.
  const bool priced = o.kind == OrderKind::customer || !o.currency.empty();
  if (priced &&
      (o.currency.size() != 3 || !std::all_of(o.currency.begin(), o.currency.end(),
                                              [](char c) { return c >= 'A' && c <= 'Z'; })))
    return fail(DomainErrc::invalid_argument,
                "currency must be an ISO 4217 code such as EUR, got '" + o.currency + "'");
  if (o.accept_by < 0 || o.ship_by < 0)
    return fail(DomainErrc::invalid_argument, "deadlines must be epoch milliseconds");
  if (auto ok = check_customer(o); !ok) return ok;
  if (auto ok = check_address(o); !ok) return ok;
  if (o.lines.empty() || o.lines.size() > kMaxLines)
    return fail(DomainErrc::invalid_argument,
                "an order needs 1 to " + std::to_string(kMaxLines) + " lines");
  std::set<int> numbers;
  for (const auto& l : o.lines) {
    const std::string where = "line " + std::to_string(l.line_no);
    if (l.line_no <= 0 || !numbers.insert(l.line_no).second)
      return fail(DomainErrc::invalid_argument,
                  where + ": line numbers must be positive and unique");
    if (auto ok = check_text(where + " sku", l.sku, 64, true); !ok) return ok;
    if (l.quantity <= 0 || l.quantity > kMaxLineQuantity)
      return fail(DomainErrc::invalid_argument,
                  where + ": quantity must be 1 to " + std::to_string(kMaxLineQuantity));
    if (l.unit_price_minor < 0)
      return fail(DomainErrc::invalid_argument, where + ": unit price cannot be negative");
  }
  return {};
}

Result<void> validate_packages(const FulfilmentOrder& o, const std::vector<Package>& packages) {
  if (packages.empty() || packages.size() > kMaxPackages)
    return fail(DomainErrc::invalid_argument,
                "packing needs 1 to " + std::to_string(kMaxPackages) + " packages");
  std::set<int> numbers;
  std::map<int, std::int64_t> packed;
  for (const auto& p : packages) {
    const std::string where = "package " + std::to_string(p.package_no);
    if (p.package_no <= 0 || !numbers.insert(p.package_no).second)
      return fail(DomainErrc::invalid_argument,
                  where + ": package numbers must be positive and unique");
    if (auto ok = check_text(where + " box_type", p.box_type, 40, true); !ok) return ok;
    if (p.weight_g <= 0 || p.weight_g > kMaxWeightG)
      return fail(DomainErrc::invalid_argument,
                  where + ": weight must be 1 to " + std::to_string(kMaxWeightG) + " g");
    if (p.items.empty()) return fail(DomainErrc::invalid_argument, where + " is empty");
    for (const auto& i : p.items) {
      if (i.quantity <= 0)
        return fail(DomainErrc::invalid_argument, where + ": quantities must be positive");
      packed[i.line_no] += i.quantity;
    }
  }
  for (const auto& entry : packed) {
    const auto line_no = entry.first;  // (clang 14 cannot capture a structured binding)
    auto it = std::find_if(o.lines.begin(), o.lines.end(),
                           [&](const OrderLine& l) { return l.line_no == line_no; });
    if (it == o.lines.end())
      return fail(DomainErrc::invalid_argument, "packages name line " + std::to_string(line_no) +
                                                    ", which order " + o.id + " does not have");
  }
  for (const auto& l : o.lines) {
    const std::int64_t in_boxes = packed.count(l.line_no) ? packed[l.line_no] : 0;
    if (in_boxes != l.picked)
      return fail(DomainErrc::invalid_argument, "line " + std::to_string(l.line_no) + " (SKU " +
                                                    l.sku + "): " + std::to_string(l.picked) +
                                                    " picked but " + std::to_string(in_boxes) +
                                                    " packed");
  }
  return {};
}

}  // namespace fulfil::agent
