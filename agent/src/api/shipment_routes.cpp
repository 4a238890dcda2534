// Receiving inbound shipments: the open ones, one with its lines and totals (what a scan
// screen shows), a scanned item received into it, and "receive and close". Associates do
// all of it: closing approves nothing locally, it reports what arrived to the cloud, which
// settles the discrepancies with the supplier or the sending store.
#include "api_support.hpp"
#include "domain/receiving.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

json optional_ms(const std::optional<std::int64_t>& ms) {
  return ms ? json(*ms) : json(nullptr);
}

json shipment_json(Routes& r, const Shipment& s) {
  json lines = json::array();
  for (const auto& l : s.lines) {
    auto level = r.store.inventory().level(l.sku);
    lines.push_back({{"sku", l.sku},
                     {"title", l.title},
                     {"bin", level ? level->bin : ""},
                     {"expected", l.expected},
                     {"received", l.received},
                     {"damaged", l.damaged},
                     {"open", l.open()},
                     {"discrepancy", discrepancy_name(l.discrepancy())}});
  }
  json found = json::array();
  for (const auto& d : discrepancies_of(s))
    found.push_back({{"sku", d.sku}, {"kind", d.kind}, {"quantity", d.quantity}});
  const auto t = s.totals();
  return {{"id", s.id},
          {"kind", shipment_kind_name(s.kind)},
          {"source", s.source},
          {"state", shipment_state_name(s.state)},
          {"barcodes", s.barcodes},
          {"expected_at", optional_ms(s.expected_at)},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at},
          {"closed_at", optional_ms(s.closed_at)},
          {"closed_by", s.closed_by},
          {"lines", lines},
          {"totals",
           {{"expected", t.expected},
            {"received", t.received},
            {"damaged", t.damaged},
            {"open", t.open}}},
          {"discrepancies", found}};
}

// A shipment by its id or by one of its labels, as scanned.
std::optional<Shipment> shipment_named(Routes& r, const std::string& name, ApiResponse& error) {
  auto id = r.store.receiving().id_for_barcode(name);
  auto shipment = id ? r.store.receiving().find(*id) : std::nullopt;
  if (!shipment) error = api_error(ApiErrc::not_found, "no inbound shipment " + name);
  return shipment;
}

// {"barcode" or "sku", "quantity" (default 1), "damaged" (default false)}.
ApiResponse receive_units(Routes& r, const ApiRequest& req, const CommandContext& ctx) {
  ApiResponse error;
  auto shipment = shipment_named(r, req.params[0], error);
  if (!shipment) return error;
  Body b(req, {"barcode", "sku", "quantity", "damaged"});
  if (b && b.given("barcode") == b.given("sku"))
    return api_error(ApiErrc::missing_field, "give either 'barcode' or 'sku'");
  const auto barcode = b.text("barcode", false, 100);
  const auto sku = b.text("sku", false, 64);
  const auto qty = b.integer("quantity", false, 1, kMaxReceiptQuantity, 1);
  const bool damaged = b.boolean("damaged", false);
  if (!b) return b.error();
  auto count = [&](const char* result) { r.counters.scans[result]++; };
  if (!barcode.empty() && !r.store.inventory().sku_for_barcode(barcode) &&
      !r.store.inventory().level(barcode)) {
    count("unknown_barcode");
    return api_error(ApiErrc::unknown_barcode,
                     "barcode '" + barcode + "' is not in this store's catalog");
  }
  auto got = r.store.receiving().receive(
      {shipment->id, barcode.empty() ? sku : barcode, qty, damaged}, ctx);
  if (!got) {
    count("refused");
    return domain_error(got.error());
  }
  count("ok");
  auto level = r.store.inventory().level(got->sku);
  return json_response({{"sku", got->sku},
                        {"title", level ? level->title : ""},
                        {"quantity", got->quantity},
                        {"damaged", got->damaged},
                        {"discrepancy", discrepancy_name(got->line.discrepancy())},
                        {"shipment", shipment_json(r, *r.store.receiving().find(shipment->id))}});
}

}  // namespace

void add_shipment_routes(Routes& r) {
  r.add("GET", "/api/v1/shipments", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          const auto limit = query_limit(req, 200);
          if (!limit) return limit.error();
          json out = json::array();
          for (const auto& s : r.store.receiving().open_shipments(static_cast<std::size_t>(*limit)))
            out.push_back(shipment_json(r, s));
          return json_response({{"shipments", out}});
        });
  r.add("GET", "/api/v1/shipments/*", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          ApiResponse error;
          auto shipment = shipment_named(r, req.params[0], error);
          if (!shipment) return error;
          return json_response(shipment_json(r, *shipment));
        });
  r.add("POST", "/api/v1/shipments/*/receive", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          return receive_units(r, req, ctx);
        });
  r.add("POST", "/api/v1/shipments/*/close", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          ApiResponse error;
          auto shipment = shipment_named(r, req.params[0], error);
          if (!shipment) return error;
          Body b(req, {});
          if (!b) return b.error();
          auto closed = r.store.receiving().close(shipment->id, ctx);
          if (!closed) return domain_error(closed.error());
          return json_response(shipment_json(r, *closed));
        });
}

}  // namespace fulfil::agent::api
