#include "domain/order_codec.hpp"

#include "payload_fields.hpp"

namespace fulfil::agent {

using nlohmann::json;

namespace payload {

Address address_from(const json& a, const std::string& path) {
  if (!a.is_object()) bad(path, "expected an object");
  return {text(a, "name", path, false),   text(a, "line1", path, false),
          text(a, "line2", path, false),  text(a, "city", path, false),
          text(a, "region", path, false), text(a, "postcode", path, false),
          text(a, "country", path, false)};
}

}  // namespace payload

namespace {

using namespace payload;

FulfilmentOrder decode(const json& p) {
  const std::string path = "payload";
  if (!p.is_object()) bad(path, "expected an object");
  FulfilmentOrder o;
  o.id = text(p, "id", path);
  o.order_ref = text(p, "order_ref", path, false);
  const std::string method = text(p, "delivery_method", path);
  if (!method_from(method)) bad(path + ".delivery_method", "expected \"ship\" or \"pickup\"");
  o.method = *method_from(method);
  o.currency = text(p, "currency", path);
  const json& c = field(p, "customer", path);
  if (!c.is_object()) bad(path + ".customer", "expected an object");
  o.customer = {text(c, "name", path + ".customer"), text(c, "email", path + ".customer", false),
                text(c, "phone", path + ".customer", false)};
  if (p.contains("address")) o.address = address_from(p.at("address"), path + ".address");
  o.accept_by = integer(p, "accept_by", path, false);
  o.ship_by = integer(p, "ship_by", path, false);
  o.pickup_code = text(p, "pickup_code", path, false);
  const json& lines = array(p, "lines", path);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string lp = path + ".lines[" + std::to_string(i) + "]";
    const json& l = lines[i];
    if (!l.is_object()) bad(lp, "expected an object");
    o.lines.push_back({static_cast<int>(integer(l, "line_no", lp, true)), text(l, "sku", lp),
                       integer(l, "quantity", lp, true), integer(l, "unit_price_minor", lp, false),
                       0, 0, ""});
  }
  return o;
}

FulfilmentOrder decode_transfer(const json& p) {
  const std::string path = "payload";
  if (!p.is_object()) bad(path, "expected an object");
  FulfilmentOrder o;
  o.kind = OrderKind::transfer;
  o.method = DeliveryMethod::ship;
  o.id = text(p, "transfer_id", path);
  o.order_ref = text(p, "reference", path, false);
  if (o.order_ref.empty()) o.order_ref = o.id;
  o.currency = text(p, "currency", path, false);
  const std::string dp = path + ".destination_store";
  const json& d = field(p, "destination_store", path);
  if (!d.is_object()) bad(dp, "expected an object");
  o.destination_store = text(d, "id", dp);
  o.customer = {text(d, "name", dp), text(d, "email", dp, false), text(d, "phone", dp, false)};
  o.address = address_from(field(d, "address", dp), dp + ".address");
  o.accept_by = integer(p, "accept_by", path, false);
  o.ship_by = integer(p, "ship_by", path, false);
  o.notes = text(p, "notes", path, false);
  const json& lines = array(p, "lines", path);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string lp = path + ".lines[" + std::to_string(i) + "]";
    const json& l = lines[i];
    if (!l.is_object()) bad(lp, "expected an object");
    o.lines.push_back({static_cast<int>(i + 1), text(l, "sku", lp),
                       integer(l, "quantity", lp, true), 0, 0, 0, ""});
  }
  return o;
}

}  // namespace

json transfer_request_json(const FulfilmentOrder& o) {
  json lines = json::array();
  for (const auto& l : o.lines) lines.push_back({{"sku", l.sku}, {"quantity", l.quantity}});
  json store = {
      {"id", o.destination_store}, {"name", o.customer.name}, {"address", address_json(o.address)}};
  if (!o.customer.email.empty()) store["email"] = o.customer.email;
  if (!o.customer.phone.empty()) store["phone"] = o.customer.phone;
  json j = {{"transfer_id", o.id}, {"destination_store", store}, {"lines", lines}};
  if (!o.order_ref.empty() && o.order_ref != o.id) j["reference"] = o.order_ref;
  if (!o.currency.empty()) j["currency"] = o.currency;
  if (o.accept_by) j["accept_by"] = o.accept_by;
  if (o.ship_by) j["ship_by"] = o.ship_by;
  if (!o.notes.empty()) j["notes"] = o.notes;
  return j;
}

Expected<FulfilmentOrder, std::string> transfer_order_from(const json& payload) {
  try {
    return decode_transfer(payload);
  } catch (const PayloadError& e) {
    return unexpected(e.message);
  }
}

json routed_order_json(const FulfilmentOrder& o) {
  json lines = json::array();
  for (const auto& l : o.lines)
    lines.push_back({{"line_no", l.line_no},
                     {"sku", l.sku},
                     {"quantity", l.quantity},
                     {"unit_price_minor", l.unit_price_minor}});
  json j = {{"id", o.id},
            {"order_ref", o.order_ref},
            {"delivery_method", method_name(o.method)},
            {"currency", o.currency},
            {"customer", customer_json(o.customer)},
            {"lines", lines}};
  if (o.method == DeliveryMethod::ship) j["address"] = address_json(o.address);
  if (o.accept_by) j["accept_by"] = o.accept_by;
  if (o.ship_by) j["ship_by"] = o.ship_by;
  if (!o.pickup_code.empty()) j["pickup_code"] = o.pickup_code;
  return j;
}

Expected<FulfilmentOrder, std::string> routed_order_from(const json& payload) {
  try {
    return decode(payload);
  } catch (const PayloadError& e) {
    return unexpected(e.message);
  }
}

}  // namespace fulfil::agent
