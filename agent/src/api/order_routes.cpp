// The workflow: queue, detail, accept/reject, pick by scan, short pick, pack, handover to
// carriers (manifests) and to customers (pickup codes).
#include <algorithm>
#include <charconv>

#include "api_support.hpp"
#include "config/remote_config.hpp"
#include "domain/order_codec.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

json line_json(const OrderLine& l, Inventory& inventory) {
  auto level = inventory.level(l.sku);
  return {{"line_no", l.line_no},
          {"sku", l.sku},
          {"title", level ? level->title : ""},
          {"bin", level ? level->bin : ""},
          {"barcodes", inventory.barcodes_of(l.sku)},
          {"quantity", l.quantity},
          {"picked", l.picked},
          {"rejected", l.rejected},
          {"open", l.open()},
          {"reject_reason", l.reject_reason},
          {"unit_price_minor", l.unit_price_minor},
          // What is physically in the store beside what may still be promised: an
          // associate deciding to accept sees both.
          {"on_hand", level ? level->on_hand : 0},
          {"available", level ? level->available() : 0}};
}

json claim_json(const std::optional<OrderClaim>& claim, const Caller& caller) {
  if (!claim) return nullptr;
  return {{"holder", claim->holder},
          {"holder_name", claim->holder_name},
          {"claimed_at", claim->claimed_at},
          {"mine", claim->holder == caller.actor().str()}};
}

// A transfer's receiving store; null for a customer's order.
json destination_json(OrderKind kind, const std::string& id, const std::string& name) {
  if (kind != OrderKind::transfer) return nullptr;
  return {{"id", id}, {"name", name}};
}

json order_json(const FulfilmentOrder& o, Inventory& inventory, FulfilmentOrders& orders,
                const Caller& caller, const std::optional<OrderClaim>& claim, std::int64_t now) {
  const OrderPolicy& policy = orders.policy();
  const bool overdue = orders.uncollected_overdue(o, now);
  json lines = json::array();
  for (const auto& l : o.lines) lines.push_back(line_json(l, inventory));
  // The pick walk: by bin, so the associate crosses the store once.
  json pick_walk = lines;
  std::stable_sort(pick_walk.begin(), pick_walk.end(), [](const json& a, const json& b) {
    return a["bin"].get<std::string>() < b["bin"].get<std::string>();
  });
  json packages = json::array();
  for (const auto& p : o.packages) {
    json items = json::array();
    for (const auto& i : p.items)
      items.push_back({{"line_no", i.line_no}, {"quantity", i.quantity}});
    packages.push_back({{"package_no", p.package_no},
                        {"box_type", p.box_type},
                        {"weight_g", p.weight_g},
                        {"tracking", p.tracking},
                        {"items", items}});
  }
  // What a terminal may offer now: the state machine's actions, less the cloud's own
  // (cancel, expire), finishing a pick with lines still open, unlocking an unlocked
  // pickup, and returning a pickup to stock before it is overdue.
  const bool all_resolved =
      std::all_of(o.lines.begin(), o.lines.end(), [](const OrderLine& l) { return l.open() == 0; });
  json actions = json::array();
  for (auto a : all_actions()) {
    if (a == OrderAction::expire || a == OrderAction::cancel || o.on_hold) continue;
    if (a == OrderAction::complete_picking && !all_resolved) continue;
    if (a == OrderAction::unlock_pickup && o.pickup_attempts == 0) continue;
    if (a == OrderAction::return_uncollected && !overdue) continue;
    if (allows(o.state, o.method, a)) actions.push_back(action_name(a));
  }
  json out = {{"id", o.id},
              {"order_ref", o.order_ref},
              {"state", state_name(o.state)},
              {"method", method_name(o.method)},
              {"customer", customer_json(o.customer)},
              {"address", address_json(o.address)},
              {"currency", o.currency},
              {"routed_at", o.routed_at},
              {"accept_by", o.accept_by},
              {"ship_by", o.ship_by},
              {"on_hold", o.on_hold},
              {"capacity_flag", o.capacity_flag},
              {"kind", order_kind_name(o.kind)},
              {"destination_store", destination_json(o.kind, o.destination_store, o.customer.name)},
              {"notes", o.notes},
              {"lines", lines},
              {"pick_walk", pick_walk},
              {"packages", packages},
              {"reject_reason", o.reject_reason},
              {"carrier", o.carrier},
              {"tracking", o.tracking},
              {"pickup_shelf", o.pickup_shelf},
              {"pickup_attempts", o.pickup_attempts},
              {"pickup_locked", o.pickup_attempts >= policy.pickup_code_max_attempts},
              {"ready_at", o.ready_at},
              {"uncollected_overdue", overdue},
              {"pickup_notices", o.pickup_notices},
              {"allowed_actions", actions},
              {"claim", claim_json(claim, caller)},
              {"updated_at", o.updated_at}};
  // The customer proves collection with the code; associates must not be able to read it.
  if (caller.role == Role::manager) out["pickup_code"] = o.pickup_code;
  return out;
}

// The queue is polled by every terminal, so its body is written as text rather than built
// as a json tree and dumped: the tree's allocations and its serializer were most of the
// request's time (perf). With the tree, adding each summary's customer name and line count
// took tests/bench's queue (100 orders) from about 1700 to 1300 requests/s; as text it
// serves 2000 to 2900 on the same machine. Keys in the order a json object has them.
void append_string(std::string& out, std::string_view s) {
  const bool plain = std::all_of(
      s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (plain) {
    out += '"';
    out += s;
    out += '"';
  } else {  // escapes, and bytes that are not UTF-8 replaced, as json_response does
    out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

void append_number(std::string& out, std::int64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// The queue's body as text with the places that depend on the clock left open: `now`, and
// each order's accept_in_ms and uncollected_overdue. Built from SQLite once per change to
// the data; a terminal's refresh only fills in the time (render).
class QueueBody {
 public:
  QueueBody(const OrderPage& page, const std::map<std::string, std::int64_t>& counts) {
    head_ = "{\"counts\":" + json(counts).dump() + ",\"now\":";
    rows_.reserve(page.orders.size());
    for (const auto& o : page.orders) rows_.push_back(row(o));
    tail_ = std::string("],\"truncated\":") + (page.truncated ? "true" : "false") + "}";
  }

  ApiResponse render(const FulfilmentOrders& orders, std::int64_t now) const {
    ApiResponse r;
    std::string& out = r.body;
    std::size_t size = head_.size() + tail_.size() + 64;
    for (const auto& row : rows_)
      size += row.head.size() + row.middle.size() + row.tail.size() + 32;
    out.reserve(size);
    out += head_;
    append_number(out, now);
    out += ",\"orders\":[";
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      const Row& row = rows_[i];
      if (i) out += ',';
      out += row.head;
      append_number(out, row.state == OrderState::routed ? row.accept_by - now : 0);
      out += row.middle;
      out += orders.uncollected_overdue(row.state, row.ready_at, now) ? "true" : "false";
      out += row.tail;
    }
    out += tail_;
    return r;
  }

 private:
  struct Row {
    std::string head;    // up to accept_in_ms's value
    std::string middle;  // from there up to uncollected_overdue's value
    std::string tail;
    OrderState state = OrderState::routed;
    std::int64_t accept_by = 0;
    std::int64_t ready_at = 0;
  };

  static Row row(const OrderSummary& s) {
    Row r{
        "{\"accept_by\":", ",\"capacity_flag\":", ",\"units\":", s.state, s.accept_by, s.ready_at};
    append_number(r.head, s.accept_by);
    r.head += ",\"accept_in_ms\":";
    std::string& out = r.middle;
    append_string(out, s.capacity_flag);
    out += ",\"customer_name\":";
    append_string(out, s.customer_name);
    out += ",\"destination_store\":";
    if (s.kind == OrderKind::transfer) {
      out += "{\"id\":";
      append_string(out, s.destination_store);
      out += ",\"name\":";
      append_string(out, s.customer_name);
      out += '}';
    } else {
      out += "null";
    }
    out += ",\"id\":";
    append_string(out, s.id);
    out += ",\"kind\":";
    append_string(out, order_kind_name(s.kind));
    out += ",\"lines\":";
    append_number(out, s.lines);
    out += ",\"method\":";
    append_string(out, method_name(s.method));
    out += ",\"order_ref\":";
    append_string(out, s.order_ref);
    out += ",\"ready_at\":";
    append_number(out, s.ready_at);
    out += ",\"routed_at\":";
    append_number(out, s.routed_at);
    out += ",\"ship_by\":";
    append_number(out, s.ship_by);
    out += ",\"state\":";
    append_string(out, state_name(s.state));
    out += ",\"uncollected_overdue\":";
    append_number(r.tail, s.units);
    r.tail += '}';
    return r;
  }

  std::string head_;
  std::vector<Row> rows_;
  std::string tail_;
};

// Queue bodies by query, valid while the database's data version is the one they were
// built at: every committed change (an order routed, picked, expired; a count changing)
// moves that version, so a body is never older than the last commit. The caller's role
// does not change the queue, so it is not part of the key.
class QueueCache {
 public:
  std::shared_ptr<const QueueBody> find(std::uint64_t version, const std::string& key) {
    if (version != version_) {
      bodies_.clear();
      version_ = version;
      return nullptr;
    }
    auto it = bodies_.find(key);
    return it == bodies_.end() ? nullptr : it->second;
  }
  void keep(std::uint64_t version, const std::string& key, std::shared_ptr<const QueueBody> body) {
    // Typed searches make many keys: a bounded cache forgets them all at once.
    if (version != version_ || bodies_.size() >= kMaxBodies) {
      bodies_.clear();
      version_ = version;
    }
    bodies_[key] = std::move(body);
  }

 private:
  static constexpr std::size_t kMaxBodies = 8;  // about 34 KiB each with 100 orders
  std::uint64_t version_ = 0;
  std::map<std::string, std::shared_ptr<const QueueBody>> bodies_;
};

json proof_json(const std::optional<PickupProof>& p) {
  if (!p) return nullptr;
  json j = {{"method", p->method == PickupProof::Method::code ? "code" : "id_check"},
            {"id_type", p->id_type},
            {"id_last_digits", p->id_last_digits},
            {"collected_by", p->collected_by},
            {"signed", !p->signature_png.empty()},
            {"collected_at", p->collected_at},
            {"actor", p->actor}};
  return j;
}

json order_json(Routes& r, const FulfilmentOrder& o, const Caller& c, std::int64_t now) {
  json out = order_json(o, r.store.inventory(), r.store.orders(), c,
                        r.store.orders().claims().of(o.id), now);
  if (o.state == OrderState::collected)
    out["pickup_proof"] = proof_json(r.store.orders().pickup_proof(o.id));
  auto place = r.store.pick_lists().place_of(o.id);
  out["pick_list"] = place
                         ? json{{"id", pick_list_name(place->pick_list_id)}, {"tote", place->tote}}
                         : json(nullptr);
  return out;
}

// The order as it is after a command, or the command's error.
ApiResponse after(Routes& r, const Result<void>& result, const std::string& id, const Caller& c,
                  const CommandContext& ctx) {
  if (!result) return domain_error(result.error());
  auto o = r.store.orders().find(id);
  return json_response(order_json(r, *o, c, ctx.now_ms));
}

// The order as after the step, with what the step printed.
ApiResponse with_printing(ApiResponse order, const json& printed) {
  auto body = json::parse(order.body);
  body["printing"] = printed;
  order.body = body.dump();
  return order;
}

json order_named(Routes& r, const std::string& id, const char* matched) {
  auto o = r.store.orders().find(id);
  return {{"kind", "order"},
          {"matched", matched},
          {"order_id", o->id},
          {"order_ref", o->order_ref},
          {"state", state_name(o->state)}};
}

// Scan-to-open: what a code names, tried in a fixed order (the OpenAPI document lists it).
ApiResponse lookup(Routes& r, const ApiRequest& req) {
  // Scanners end a read with CR or LF; spaces around a typed code mean nothing either.
  auto code = req.query_value("code");
  const auto first = code.find_first_not_of(" \t\r\n");
  code = first == std::string::npos
             ? std::string()
             : code.substr(first, code.find_last_not_of(" \t\r\n") - first + 1);
  if (code.empty() || code.size() > 200)
    return api_error(ApiErrc::invalid_query, "code (1 to 200 characters) is required");
  auto& orders = r.store.orders();
  if (orders.find(code)) return json_response(order_named(r, code, "order_id"));
  // A printed pick list's QR code holds its name.
  if (auto list = code.rfind("PL-", 0) == 0 ? pick_list_id_from(code) : std::nullopt)
    if (r.store.pick_lists().find(*list))
      return json_response({{"kind", "pick_list"},
                            {"matched", "pick_list"},
                            {"pick_list_id", pick_list_name(*list)}});
  // A count sheet's code: the count session it names.
  if (auto id = code.rfind("CS-", 0) == 0 ? count_session_id_from(code) : std::nullopt)
    if (r.store.count_sessions().find(*id, false))
      return json_response({{"kind", "count_session"},
                            {"matched", "count_session"},
                            {"count_session_id", count_session_name(*id)}});
  if (auto id = orders.id_for_ref(code)) return json_response(order_named(r, *id, "order_ref"));
  if (auto parcel = orders.find_parcel(code)) {
    auto out = order_named(r, parcel->order_id,
                           parcel->by == ParcelMatch::By::package ? "package" : "tracking");
    if (parcel->package_no) out["package_no"] = *parcel->package_no;
    return json_response(out);
  }
  // An inbound shipment's id or one of its labels (ASN, SSCC, PO number).
  if (auto shipment = r.store.receiving().id_for_barcode(code))
    return json_response(
        {{"kind", "shipment"},
         {"matched", *shipment == code ? "shipment_id" : "shipment_label"},
         {"shipment_id", *shipment},
         {"state", shipment_state_name(r.store.receiving().find(*shipment)->state)}});
  auto& inventory = r.store.inventory();
  auto sku = inventory.sku_for_barcode(code);
  const char* matched = "barcode";
  if (!sku && inventory.level(code)) {
    sku = code;
    matched = "sku";
  }
  if (auto level = sku ? inventory.level(*sku) : std::nullopt)
    return json_response({{"kind", "item"},
                          {"matched", matched},
                          {"sku", level->sku},
                          {"title", level->title},
                          {"bin", level->bin}});
  return api_error(ApiErrc::not_found, "nothing in this store is known by '" + code +
                                           "': not an order number, parcel or item barcode");
}

void add_order_queue(Routes& r) {
  auto cache = std::make_shared<QueueCache>();
  r.add("GET", "/api/v1/orders", Role::associate,
        [&r, cache](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          std::optional<OrderState> state;
          if (auto s = req.query_value("state"); !s.empty()) {
            state = state_from(s);
            if (!state) return api_error(ApiErrc::invalid_query, "unknown order state '" + s + "'");
          }
          std::optional<DeliveryMethod> method;
          if (auto m = req.query_value("method"); !m.empty()) {
            method = method_from(m);
            if (!method)
              return api_error(ApiErrc::invalid_query, "unknown delivery method '" + m + "'");
          }
          // kind=transfer: only transfers to other stores; kind=customer: none of them.
          std::optional<OrderKind> kind;
          if (auto k = req.query_value("kind"); !k.empty()) {
            kind = order_kind_from(k);
            if (!kind)
              return api_error(ApiErrc::invalid_query,
                               "kind must be customer or transfer, not '" + k + "'");
          }
          const auto limit = query_limit(req, 200);
          if (!limit) return limit.error();
          // overdue=true: only pickups waiting longer than pickup.return_after_days.
          std::optional<std::int64_t> overdue_at;
          if (auto v = req.query_value("overdue"); v == "true")
            overdue_at = ctx.now_ms;
          else if (!v.empty() && v != "false")
            return api_error(ApiErrc::invalid_query,
                             "overdue must be true or false, not '" + v + "'");
          // Every parameter the answer depends on, as parsed. overdue=true is not cached:
          // which orders it lists changes with the clock, not only with the data.
          auto& db = r.store.db();
          const bool cacheable = !overdue_at && !db.in_transaction();
          const std::uint64_t version = cacheable ? db.data_version() : 0;
          std::string key;
          for (std::string_view part : {state ? state_name(*state) : std::string_view(),
                                        method ? method_name(*method) : std::string_view(),
                                        kind ? order_kind_name(*kind) : std::string_view()})
            (key += part) += '|';
          key += std::to_string(*limit) + '|' + req.query_value("q");
          if (cacheable)
            if (auto body = cache->find(version, key))
              return body->render(r.store.orders(), ctx.now_ms);
          // The domain trims q and refuses one too long; a blank q searches nothing.
          auto page = r.store.orders().search({state, method, req.query_value("q"),
                                               static_cast<std::size_t>(*limit), overdue_at, kind});
          if (!page) return api_error(ApiErrc::invalid_query, "q: " + page.error().message);
          auto body = std::make_shared<const QueueBody>(*page, r.store.orders().count_by_state());
          if (cacheable) cache->keep(version, key, body);
          return body->render(r.store.orders(), ctx.now_ms);
        });
  r.add(
      "GET", "/api/v1/lookup", Role::associate,
      [&r](const ApiRequest& req, const Caller&, const CommandContext&) { return lookup(r, req); });
  r.add("GET", "/api/v1/orders/*", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          auto o = r.store.orders().find(req.params[0]);
          if (!o) return api_error(ApiErrc::not_found, "no fulfilment order " + req.params[0]);
          return json_response(order_json(r, *o, c, ctx.now_ms));
        });
}

// Commands that take nothing but the order: POST with an empty body (or {}).
using PlainCommand = Result<void> (FulfilmentOrders::*)(const std::string&, const CommandContext&);

void add_plain(Routes& r, const std::string& action, Role role, PlainCommand command) {
  r.add("POST", "/api/v1/orders/*/" + action, role,
        [&r, command](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          Body b(req, {});
          if (!b) return b.error();
          return after(r, (r.store.orders().*command)(req.params[0], ctx), req.params[0], c, ctx);
        });
}

void add_decisions(Routes& r) {
  // Accept, in full with no body, or in part: {"lines": [{"line_no", "quantity"}], "reason"}.
  r.add("POST", "/api/v1/orders/*/accept", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          Body b(req, {"lines", "reason"});
          std::vector<AcceptedLine> lines;
          int n = 0;
          for (const auto& l : b.array("lines", false, 500)) {
            Body lb(l, {"line_no", "quantity"}, "lines[" + std::to_string(n++) + "].");
            AcceptedLine line{static_cast<int>(lb.integer("line_no", true, 1, 100000)),
                              lb.integer("quantity", true, 0, 10000)};
            if (!b.take(lb)) break;
            lines.push_back(line);
          }
          const auto reason = b.text("reason", false, 40);
          if (!b) return b.error();
          return after(r, r.store.orders().accept(req.params[0], lines, reason, ctx), req.params[0],
                       c, ctx);
        });
  add_plain(r, "unaccept", Role::associate, &FulfilmentOrders::unaccept);
  r.add("POST", "/api/v1/orders/*/reject", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          Body b(req, {"reason"});
          const auto reason = b.text("reason", true, 40);
          if (!b) return b.error();
          return after(r, r.store.orders().reject(req.params[0], reason, ctx), req.params[0], c,
                       ctx);
        });
  add_plain(r, "start-picking", Role::associate, &FulfilmentOrders::start_picking);
  add_plain(r, "complete-picking", Role::associate, &FulfilmentOrders::complete_picking);
}

// A scan resolves the barcode to a SKU and picks one unit of it. A wrong item or an
// over-scan is refused with its own code, so the terminal can sound the right alarm.
}  // namespace

ApiResponse scan_into_order(Routes& r, const std::string& id, const std::string& barcode,
                            const Caller& c, const CommandContext& ctx) {
  auto count = [&](const char* result) { r.counters.scans[result]++; };
  auto order = r.store.orders().find(id);
  if (!order) return api_error(ApiErrc::not_found, "no fulfilment order " + id);
  auto sku = r.store.inventory().sku_for_barcode(barcode);
  if (!sku) {
    count("unknown_barcode");
    return api_error(ApiErrc::unknown_barcode,
                     "barcode '" + barcode + "' is not in this store's catalog");
  }
  const auto& lines = order->lines;
  const bool on_order =
      std::any_of(lines.begin(), lines.end(), [&](const OrderLine& l) { return l.sku == *sku; });
  const bool open = std::any_of(lines.begin(), lines.end(),
                                [&](const OrderLine& l) { return l.sku == *sku && l.open() > 0; });
  // Only where picking is allowed: elsewhere the domain refuses the transition itself.
  const bool picking = allows(order->state, order->method, OrderAction::pick_item);
  if (picking && !on_order) {
    count("wrong_item");
    return api_error(ApiErrc::wrong_item,
                     "wrong item: SKU " + *sku + " is not on order " + order->order_ref);
  }
  if (picking && !open) {
    count("over_scan");
    return api_error(ApiErrc::over_scan,
                     "SKU " + *sku + " is already fully picked for order " + order->order_ref);
  }
  auto picked = r.store.orders().pick_item(id, *sku, 1, ctx);
  if (!picked) {
    count("refused");
    return domain_error(picked.error());
  }
  count("ok");
  auto now = r.store.orders().find(id);
  return json_response({{"sku", *sku},
                        {"line_no", picked->line_no},
                        {"line_picked", picked->line_picked},
                        {"line_open", picked->line_open},
                        {"all_lines_resolved", picked->all_lines_resolved},
                        {"order", order_json(r, *now, c, ctx.now_ms)}});
}

namespace {

ApiResponse scan(Routes& r, const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
  Body b(req, {"barcode"});
  const auto barcode = b.text("barcode", true, 100);
  if (!b) return b.error();
  return scan_into_order(r, req.params[0], barcode, c, ctx);
}

void add_picking(Routes& r) {
  r.add("POST", "/api/v1/orders/*/scan", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return scan(r, req, c, ctx);
        });
  r.add("POST", "/api/v1/orders/*/pick", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          Body b(req, {"sku", "quantity"});
          const auto sku = b.text("sku", true, 64);
          const auto qty = b.integer("quantity", false, 1, 10000, 1);
          if (!b) return b.error();
          auto picked = r.store.orders().pick_item(req.params[0], sku, qty, ctx);
          if (!picked) return domain_error(picked.error());
          return after(r, {}, req.params[0], c, ctx);
        });
  r.add("POST", "/api/v1/orders/*/short-pick", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          Body b(req, {"line_no", "quantity", "reason"});
          const auto line = b.integer("line_no", true, 1, 100000);
          const auto qty = b.integer("quantity", true, 1, 10000);
          const auto reason = b.text("reason", true, 40);
          if (!b) return b.error();
          return after(
              r,
              r.store.orders().short_pick(req.params[0], static_cast<int>(line), qty, reason, ctx),
              req.params[0], c, ctx);
        });
}

std::optional<ApiResponse> parse_packages(const ApiRequest& req, std::vector<Package>& out) {
  Body b(req, {"packages"});
  auto packages = b.array("packages", true, 50);
  int n = 0;
  for (const auto& p : packages) {
    const std::string where = "packages[" + std::to_string(n) + "].";
    Body pb(p, {"box_type", "weight_g", "items"}, where);
    Package pkg;
    pkg.package_no = ++n;
    pkg.box_type = pb.text("box_type", true, 40);
    pkg.weight_g = pb.integer("weight_g", true, 1, 1'000'000);
    int k = 0;
    for (const auto& i : pb.array("items", true, 500)) {
      Body ib(i, {"line_no", "quantity"}, where + "items[" + std::to_string(k++) + "].");
      PackageItem item{static_cast<int>(ib.integer("line_no", true, 1, 100000)),
                       ib.integer("quantity", true, 1, 10000)};
      if (!pb.take(ib)) break;
      pkg.items.push_back(item);
    }
    if (!b.take(pb)) break;
    out.push_back(std::move(pkg));
  }
  if (!b) return b.error();
  return std::nullopt;
}

void add_packing(Routes& r) {
  r.add("POST", "/api/v1/orders/*/pack", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          std::vector<Package> packages;
          if (auto bad = parse_packages(req, packages)) return *bad;
          for (const auto& p : packages)
            if (std::find(r.settings.orders.box_types.begin(), r.settings.orders.box_types.end(),
                          p.box_type) == r.settings.orders.box_types.end())
              return api_error(
                  ApiErrc::invalid_field,
                  "box type '" + p.box_type + "' is not one of this store's box types");
          auto packed = r.store.orders().pack(req.params[0], packages, ctx);
          if (!packed) return domain_error(packed.error());
          return with_printing(
              after(r, {}, req.params[0], c, ctx),
              print_for_step(r, r.settings.printing.print_on_pack, req.params[0], c, ctx));
        });
  // Nothing printed at pack is taken back: labels already out are thrown away by hand.
  add_plain(r, "unpack", Role::associate, &FulfilmentOrders::unpack);
}

bool known_carrier(Routes& r, const std::string& carrier) {
  const auto& cs = r.settings.orders.carriers;
  return std::find(cs.begin(), cs.end(), carrier) != cs.end();
}

// One courier collection: every parcel of the listed orders, shipped together or not at
// all, and the manifest the courier signs.
ApiResponse manifest(Routes& r, const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
  Body b(req, {"carrier", "parcels"});
  const auto carrier = b.text("carrier", true, 40);
  const auto parcels = b.array("parcels", true, 500);
  if (!b) return b.error();
  if (!known_carrier(r, carrier))
    return api_error(ApiErrc::invalid_field,
                     "carrier '" + carrier + "' is not configured for this store");
  Transaction tx(r.store.db());
  json listed = json::array();
  std::int64_t weight = 0, count = 0;
  int n = 0;
  for (const auto& p : parcels) {
    Body pb(p, {"order_id", "tracking"}, "parcels[" + std::to_string(n++) + "].");
    const auto id = pb.text("order_id", true, 64);
    const auto tracking = pb.text("tracking", false, 64);
    if (!pb) return pb.error();
    if (auto shipped = r.store.orders().ship(id, carrier, tracking, ctx); !shipped)
      return domain_error(shipped.error());
    const auto o = r.store.orders().find(id);
    for (const auto& pkg : o->packages) {
      weight += pkg.weight_g;
      ++count;
      listed.push_back({{"order_id", o->id},
                        {"order_ref", o->order_ref},
                        {"package_no", pkg.package_no},
                        {"box_type", pkg.box_type},
                        {"weight_g", pkg.weight_g},
                        {"tracking", pkg.tracking.empty() ? o->tracking : pkg.tracking},
                        {"recipient", o->address.name.empty() ? o->customer.name : o->address.name},
                        {"postcode", o->address.postcode},
                        {"country", o->address.country}});
    }
  }
  tx.commit();
  return json_response({{"manifest_id", "M-" + new_uuid().substr(0, 8)},
                        {"carrier", carrier},
                        {"store_id", r.settings.store.id},
                        {"created_at", ctx.now_ms},
                        {"created_by", c.actor().str()},
                        {"parcel_count", count},
                        {"total_weight_g", weight},
                        {"parcels", listed}},
                       201);
}

void add_handover(Routes& r) {
  r.add("POST", "/api/v1/orders/*/ship", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          Body b(req, {"carrier", "tracking", "packages"});
          const auto carrier = b.text("carrier", true, 40);
          const auto tracking = b.text("tracking", false, 64);
          // Optional: the carrier's number for each parcel.
          std::vector<PackageTracking> packages;
          int n = 0;
          for (const auto& p : b.array("packages", false, 50)) {
            Body pb(p, {"package_no", "tracking"}, "packages[" + std::to_string(n++) + "].");
            PackageTracking t{static_cast<int>(pb.integer("package_no", true, 1, 50)),
                              pb.text("tracking", true, 64)};
            if (!b.take(pb)) break;
            packages.push_back(std::move(t));
          }
          if (!b) return b.error();
          if (!known_carrier(r, carrier))
            return api_error(ApiErrc::invalid_field,
                             "carrier '" + carrier + "' is not configured for this store");
          return after(r, r.store.orders().ship(req.params[0], carrier, tracking, packages, ctx),
                       req.params[0], c, ctx);
        });
  r.add("POST", "/api/v1/manifests", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return manifest(r, req, c, ctx);
        });
  r.add("POST", "/api/v1/orders/*/ready-for-pickup", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          Body b(req, {"shelf"});
          const auto raw_shelf = b.text("shelf", false, 200);
          if (!b) return b.error();
          std::string shelf;  // optional; given, it must be a valid shelf name
          if (b.given("shelf")) {
            auto checked = staging_shelf(raw_shelf);
            if (!checked)
              return api_error(ApiErrc::invalid_field, "field 'shelf': " + checked.error().message);
            shelf = std::move(*checked);
          }
          auto code = r.store.orders().ready_for_pickup(req.params[0], shelf, ctx);
          if (!code) return domain_error(code.error());
          return with_printing(after(r, {}, req.params[0], c, ctx),
                               print_for_step(r, r.settings.printing.print_on_ready_for_pickup,
                                              req.params[0], c, ctx));
        });
  r.add(
      "POST", "/api/v1/orders/*/collect", Role::associate,
      [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
        Body b(req, {"code", "id_type", "id_last_digits", "collected_by", "signature_png_base64"});
        PickupProof proof;
        proof.code = b.text("code", false, 32);
        proof.id_type = b.text("id_type", false, 20);
        proof.id_last_digits = b.text("id_last_digits", false, 6);
        proof.collected_by = b.text("collected_by", false, 80);
        const auto signature =
            b.text("signature_png_base64", false, (kMaxSignatureBytes + 2) / 3 * 4);
        if (!b) return b.error();
        if (proof.code.empty() == proof.id_type.empty())
          return api_error(ApiErrc::invalid_field,
                           "give the customer's pickup 'code', or (a manager) an ID check: "
                           "'id_type' and 'id_last_digits'");
        if (!proof.id_type.empty()) {
          // The code proves the customer; without it only a manager vouches for an ID.
          if (c.role != Role::manager)
            return api_error(ApiErrc::forbidden,
                             "only a manager can hand over by ID check: ask one to verify "
                             "the customer's ID");
          proof.method = PickupProof::Method::id_check;
        }
        if (!signature.empty()) {
          auto png = config::base64_decode(signature);
          if (!png)
            return api_error(ApiErrc::invalid_field,
                             "field 'signature_png_base64' is not base64: " + png.error());
          proof.signature_png = std::move(*png);
        }
        auto result = r.store.orders().collect(req.params[0], proof, ctx);
        if (!result && result.error().code == DomainErrc::wrong_pickup_code) {
          auto o = r.store.orders().find(req.params[0]);
          auto e = api_error(ApiErrc::wrong_pickup_code, result.error().message);
          auto body = nlohmann::json::parse(e.body);
          body["error"]["attempts_left"] =
              std::max(0, r.store.orders().policy().pickup_code_max_attempts - o->pickup_attempts);
          e.body = body.dump();
          return e;
        }
        return after(r, result, req.params[0], c, ctx);
      });
  add_plain(r, "unlock-pickup", Role::manager, &FulfilmentOrders::unlock_pickup);
  // Any associate may have the customer told again; only a manager ends an order its
  // customer never came for.
  add_plain(r, "pickup-notice", Role::associate, &FulfilmentOrders::send_pickup_notice);
  add_plain(r, "return-uncollected", Role::manager, &FulfilmentOrders::return_uncollected);
}

// A manager frees an order another terminal is picking; the next terminal to pick into it
// takes it. Releasing an unclaimed order changes nothing and is not an error.
void add_claims(Routes& r) {
  r.add("POST", "/api/v1/orders/*/release-claim", Role::manager,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          Body b(req, {});
          if (!b) return b.error();
          auto o = r.store.orders().find(req.params[0]);
          if (!o) return api_error(ApiErrc::not_found, "no fulfilment order " + req.params[0]);
          if (r.store.orders().claims().release(o->id) && r.notify_terminals)
            r.notify_terminals({{"type", "claim"}, {"order_id", o->id}, {"claim", nullptr}});
          return json_response(order_json(r, *o, c, ctx.now_ms));
        });
}

}  // namespace

void add_order_routes(Routes& r) {
  add_order_queue(r);
  add_decisions(r);
  add_picking(r);
  add_packing(r);
  add_handover(r);
  add_claims(r);
}

}  // namespace fulfil::agent::api
