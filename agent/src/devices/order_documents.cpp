#include "order_documents.hpp"

#include <algorithm>

#include "codes/gtin.hpp"

namespace fulfil::agent::printing {
namespace {

drivers::DocumentLine document_line(Store& store, const OrderLine& line) {
  drivers::DocumentLine out;
  out.sku = line.sku;
  out.quantity = line.quantity;
  out.picked = line.picked;
  out.ordered = line.quantity;
  out.short_units = line.rejected;
  out.short_reason = line.reject_reason;
  if (auto level = store.inventory().level(line.sku)) {
    out.title = level->title;
    out.bin = level->bin;
  }
  for (const auto& barcode : store.inventory().barcodes_of(line.sku))
    if (auto gtin = drivers::normalize_gtin(barcode)) {
      out.gtin = *gtin;
      break;
    }
  return out;
}

// A pick list: every line as ordered. A packing slip: what the parcel (the package, or the
// whole order when it has not been packed, as a pickup order's bag) holds, each line's
// shortfall with it; a line short-picked entirely is on the first package's slip, at 0.
std::vector<drivers::DocumentLine> lines_for(Store& store, const FulfilmentOrder& o,
                                             drivers::DocumentKind kind, const Package* package) {
  std::vector<drivers::DocumentLine> out;
  for (const auto& line : o.lines) {
    auto l = document_line(store, line);
    if (kind == drivers::DocumentKind::pick_list) {
      out.push_back(std::move(l));
      continue;
    }
    if (!package) {
      l.quantity = line.quantity - line.rejected;
      out.push_back(std::move(l));
      continue;
    }
    bool packed = false;
    for (const auto& item : package->items)
      if (item.line_no == line.line_no) {
        l.quantity = l.picked = item.quantity;
        packed = true;
      }
    if (packed || (line.picked == 0 && line.rejected > 0 && package->package_no == 1)) {
      if (!packed) l.quantity = l.picked = 0;
      out.push_back(std::move(l));
    }
  }
  return out;
}

// A wave's pick list: each order's lines with its tote, by bin; the QR holds the list's
// name, which a terminal's scan opens.
Result<drivers::OrderDocument> wave_document(Store& store, std::int64_t id,
                                             const DocumentFacts& facts) {
  auto list = store.pick_lists().find(id);
  if (!list) return fail(DomainErrc::not_found, "no pick list " + pick_list_name(id));
  drivers::OrderDocument d;
  d.kind = drivers::DocumentKind::pick_list;
  d.store_id = facts.store_id;
  d.store_name = facts.store_name;
  d.order_id = d.order_ref = d.order_qr = list->name();
  d.printed_at_ms = facts.now_ms;
  d.dpi = facts.dpi;
  for (const auto& o : list->orders) d.totes.push_back(o.order_ref);
  for (const auto& stop : list->stops)
    for (const auto& slot : stop.slots) {
      auto order = store.orders().find(slot.order_id);
      for (const auto& line : order->lines)
        if (line.line_no == slot.line_no) {
          auto l = document_line(store, line);
          l.tote = slot.tote;
          d.lines.push_back(std::move(l));
        }
    }
  return d;
}

}  // namespace

Result<drivers::OrderDocument> order_document(Store& store, drivers::DocumentKind kind,
                                              const std::string& order_id,
                                              const DocumentFacts& facts) {
  if (kind == drivers::DocumentKind::action_sheet)
    return fail(DomainErrc::invalid_argument, kActionSheetIsNoOrders);
  if (kind == drivers::DocumentKind::pick_list && order_id.rfind("PL-", 0) == 0)
    if (auto list = pick_list_id_from(order_id)) return wave_document(store, *list, facts);
  auto o = store.orders().find(order_id);
  if (!o) return fail(DomainErrc::not_found, "no fulfilment order " + order_id);
  drivers::OrderDocument d;
  d.kind = kind;
  d.store_id = facts.store_id;
  d.store_name = facts.store_name;
  d.order_id = o->id;
  d.order_ref = o->order_ref;
  d.customer_name = o->customer.name;
  const auto& a = o->address;
  d.ship_to = {a.name.empty() ? o->customer.name : a.name,
               a.line1,
               a.line2,
               a.city,
               a.region,
               a.postcode,
               a.country};
  d.order_qr = o->id;  // scanning the pick list's QR at a terminal opens the order
  d.carrier = o->carrier;
  d.tracking = o->tracking;
  d.shelf = o->pickup_shelf;
  // The pickup code is the customer's alone: no document carries it (see documents.hpp).
  d.return_ref = facts.return_ref;
  d.printed_at_ms = facts.now_ms;
  d.dpi = facts.dpi;
  d.package_count = std::max<int>(1, static_cast<int>(o->packages.size()));
  const Package* package = nullptr;
  if (kind == drivers::DocumentKind::shipping_label ||
      kind == drivers::DocumentKind::return_label || kind == drivers::DocumentKind::packing_slip) {
    for (const auto& p : o->packages)
      if (p.package_no == facts.package_no) package = &p;
    if (!package && !o->packages.empty() && kind != drivers::DocumentKind::packing_slip)
      return fail(DomainErrc::not_found,
                  "order " + o->order_ref + " has no package " + std::to_string(facts.package_no));
  }
  if (package) {
    d.package_no = package->package_no;
    d.box_type = package->box_type;
    d.weight_g = package->weight_g;
    if (!package->tracking.empty()) d.tracking = package->tracking;  // the parcel's own
  }
  d.lines =
      lines_for(store, *o, kind, kind == drivers::DocumentKind::pick_list ? nullptr : package);
  if (kind == drivers::DocumentKind::pick_list)
    std::stable_sort(d.lines.begin(), d.lines.end(),
                     [](const auto& x, const auto& y) { return x.bin < y.bin; });
  return d;
}

drivers::OrderDocument action_sheet_document(const std::string& station,
                                             const std::vector<std::string>& box_types,
                                             const DocumentFacts& facts) {
  drivers::OrderDocument d;
  d.kind = drivers::DocumentKind::action_sheet;
  d.store_id = facts.store_id;
  d.store_name = facts.store_name;
  d.station = station;
  d.box_types = box_types;
  d.printed_at_ms = facts.now_ms;
  d.dpi = facts.dpi;
  return d;
}

}  // namespace fulfil::agent::printing
