// Pick lists (waves): gather accepted orders into one walk, scan items into totes, short
// the units not found, print the list, close it. Each pick is the order's own transition.
#include "api_support.hpp"
#include "devices/print_spooler.hpp"
#include "domain/order_lifecycle.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

json pick_list_json(Routes& r, const PickList& l) {
  json orders = json::array();
  for (const auto& o : l.orders)
    orders.push_back({{"tote", o.tote},
                      {"order_id", o.order_id},
                      {"order_ref", o.order_ref},
                      {"customer_name", o.customer_name},
                      {"state", state_name(o.state)},
                      {"units", o.units},
                      {"picked", o.picked},
                      {"short", o.short_units}});
  json stops = json::array();
  for (const auto& s : l.stops) {
    json slots = json::array();
    for (const auto& t : s.slots)
      slots.push_back({{"tote", t.tote},
                       {"order_id", t.order_id},
                       {"order_ref", t.order_ref},
                       {"line_no", t.line_no},
                       {"quantity", t.quantity},
                       {"picked", t.picked},
                       {"short", t.short_units},
                       {"open", t.open}});
    stops.push_back({{"bin", s.bin},
                     {"sku", s.sku},
                     {"title", s.title},
                     {"barcodes", r.store.inventory().barcodes_of(s.sku)},
                     {"open", s.open()},
                     {"slots", slots}});
  }
  return {{"id", l.name()},
          {"state", pick_list_state_name(l.state)},
          {"created_by", l.created_by},
          {"created_at", l.created_at},
          {"closed_at", l.closed_at ? json(l.closed_at) : json(nullptr)},
          {"open_units", l.open_units()},
          {"orders", orders},
          {"stops", stops}};
}

std::optional<PickList> list_named(Routes& r, const std::string& name, ApiResponse& error) {
  auto id = pick_list_id_from(name);
  auto list = id ? r.store.pick_lists().find(*id) : std::nullopt;
  if (!list) error = api_error(ApiErrc::not_found, "no pick list " + name);
  return list;
}

ApiResponse list_response(Routes& r, std::int64_t id, unsigned status = 200) {
  return json_response(pick_list_json(r, *r.store.pick_lists().find(id)), status);
}

// {"orders": [ids in tote order]} or {"rule": {"method", "max_orders", "max_units"}}.
ApiResponse create(Routes& r, const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
  Body b(req, {"orders", "rule"});
  if (b && b.given("orders") == b.given("rule"))
    return api_error(ApiErrc::missing_field, "give either 'orders' or 'rule'");
  Result<PickList> made = fail(DomainErrc::invalid_argument, "");
  if (b.given("orders")) {
    std::vector<std::string> ids;
    int n = 0;
    for (const auto& id : b.array("orders", true, kMaxPickListOrders + 1)) {
      const std::string where = "field 'orders[" + std::to_string(n++) + "]'";
      if (!id.is_string() || id.get<std::string>().empty() || id.get<std::string>().size() > 64)
        return api_error(ApiErrc::invalid_field, where + " must be an order id");
      ids.push_back(id.get<std::string>());
    }
    if (!b) return b.error();
    made = r.store.pick_lists().create(ids, ctx);
  } else {
    Body given(b.object("rule", true), {"method", "max_orders", "max_units"}, "rule.");
    const auto method = given.text("method", false, 20);
    PickListRule rule;
    rule.max_orders = static_cast<std::size_t>(
        given.integer("max_orders", false, 1, static_cast<std::int64_t>(kMaxPickListOrders), 5));
    rule.max_units = given.integer("max_units", false, 1, 10000, 0);
    if (!b.take(given) || !b) return b.error();
    if (!method.empty() && !(rule.method = method_from(method)))
      return api_error(ApiErrc::invalid_field,
                       "field 'rule.method': unknown delivery method '" + method + "'");
    made = r.store.pick_lists().create(rule, ctx);
  }
  if (!made) return domain_error(made.error());
  auto body = pick_list_json(r, *made);
  body["printing"] = print_for_step(r, {"pick_list"}, made->name(), c, ctx);
  return json_response(body, 201);
}

// A scan resolves the barcode (or a SKU typed in) and puts one unit into its tote. Wrong
// items and over-scans are refused with their own codes, as in an order.
ApiResponse scan(Routes& r, const ApiRequest& req, const CommandContext& ctx) {
  ApiResponse error;
  auto list = list_named(r, req.params[0], error);
  if (!list) return error;
  Body b(req, {"barcode"});
  const auto barcode = b.text("barcode", true, 100);
  if (!b) return b.error();
  auto count = [&](const char* result) { r.counters.scans[result]++; };
  auto sku = r.store.inventory().sku_for_barcode(barcode);
  if (!sku && r.store.inventory().level(barcode)) sku = barcode;
  if (!sku) {
    count("unknown_barcode");
    return api_error(ApiErrc::unknown_barcode,
                     "barcode '" + barcode + "' is not in this store's catalog");
  }
  if (list->state == PickListState::open) {
    const PickStop* stop = nullptr;
    for (const auto& s : list->stops)
      if (s.sku == *sku) stop = &s;
    if (!stop) {
      count("wrong_item");
      return api_error(ApiErrc::wrong_item,
                       "wrong item: SKU " + *sku + " is not on pick list " + list->name());
    }
    if (stop->open() == 0) {
      count("over_scan");
      return api_error(ApiErrc::over_scan,
                       "SKU " + *sku + " is already fully picked for pick list " + list->name());
    }
  }
  auto picked = r.store.pick_lists().pick(list->id, *sku, ctx);
  if (!picked) {
    count("refused");
    return domain_error(picked.error());
  }
  count("ok");
  auto level = r.store.inventory().level(*sku);
  return json_response({{"sku", *sku},
                        {"title", level ? level->title : ""},
                        {"tote", picked->tote},
                        {"order_id", picked->order_id},
                        {"order_ref", picked->order_ref},
                        {"line_no", picked->line_no},
                        {"line_open", picked->line_open},
                        {"order_picked", picked->order_picked},
                        {"list_closed", picked->list_closed},
                        {"pick_list", pick_list_json(r, *r.store.pick_lists().find(list->id))}});
}

ApiResponse short_pick(Routes& r, const ApiRequest& req, const CommandContext& ctx) {
  ApiResponse error;
  auto list = list_named(r, req.params[0], error);
  if (!list) return error;
  Body b(req, {"sku", "quantity", "reason"});
  const auto sku = b.text("sku", true, 64);
  const auto qty = b.integer("quantity", true, 1, 10000);
  const auto reason = b.text("reason", true, 40);
  if (!b) return b.error();
  auto shorted = r.store.pick_lists().short_pick(list->id, sku, qty, reason, ctx);
  if (!shorted) return domain_error(shorted.error());
  json shorts = json::array();
  for (const auto& s : *shorted)
    shorts.push_back({{"tote", s.tote},
                      {"order_id", s.order_id},
                      {"line_no", s.line_no},
                      {"quantity", s.quantity},
                      {"state", state_name(s.state)}});
  return json_response(
      {{"shorts", shorts}, {"pick_list", pick_list_json(r, *r.store.pick_lists().find(list->id))}});
}

void add_lists(Routes& r) {
  r.add("GET", "/api/v1/pick-lists", Role::associate,
        [&r](const ApiRequest&, const Caller&, const CommandContext&) {
          json lists = json::array();
          for (const auto& l : r.store.pick_lists().open_lists())
            lists.push_back(pick_list_json(r, l));
          return json_response({{"pick_lists", lists}});
        });
  r.add("POST", "/api/v1/pick-lists", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return create(r, req, c, ctx);
        });
  r.add("GET", "/api/v1/pick-lists/*", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          ApiResponse error;
          auto list = list_named(r, req.params[0], error);
          if (!list) return error;
          return json_response(pick_list_json(r, *list));
        });
}

void add_walk(Routes& r) {
  r.add("POST", "/api/v1/pick-lists/*/scan", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          return scan(r, req, ctx);
        });
  r.add("POST", "/api/v1/pick-lists/*/short-pick", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          return short_pick(r, req, ctx);
        });
  r.add("POST", "/api/v1/pick-lists/*/close", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          ApiResponse error;
          auto list = list_named(r, req.params[0], error);
          if (!list) return error;
          Body b(req, {});
          if (!b) return b.error();
          auto closed = r.store.pick_lists().close(list->id, ctx);
          if (!closed) return domain_error(closed.error());
          return list_response(r, list->id);
        });
  r.add("POST", "/api/v1/pick-lists/*/print", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          ApiResponse error;
          auto list = list_named(r, req.params[0], error);
          if (!list) return error;
          Body b(req, {"printer"});
          const auto printer = b.text("printer", false, 64);
          if (!b) return b.error();
          if (!r.printing)
            return api_error(ApiErrc::printing_unavailable, "printing is not running");
          auto jobs = r.printing->print_document(
              {"pick_list", list->name(), c.station, printer, 1, ""}, ctx);
          if (!jobs) return domain_error(jobs.error());
          json out = json::array();
          for (const auto& j : *jobs) out.push_back(print_job_json(j));
          return json_response({{"jobs", out}}, 202);
        });
}

}  // namespace

void add_pick_list_routes(Routes& r) {
  add_lists(r);
  add_walk(r);
}

}  // namespace fulfil::agent::api
