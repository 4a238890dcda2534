// The POS feed: the store's tills post their walk-in sales and returns here as they ring
// them up (role pos; managers may too), and read back what a transaction was answered
// when they reconcile.
#include "api_support.hpp"
#include "config/json_input.hpp"
#include "domain/till_sales.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

// A till's token is bound to the till it was paired for (its station): it may post and
// read that till's transactions only. Managers may act for any till.
std::optional<ApiResponse> other_till(const Caller& caller, const std::string& till_id) {
  if (caller.role != Role::pos || till_id == caller.station) return std::nullopt;
  if (caller.station.empty())  // paired before tills were bound to their till id
    return api_error(ApiErrc::forbidden,
                     "this till was paired without its till id: pair it again with station "
                     "set to the till_id it posts as");
  const bool plain = check_till_id("till_id", till_id).has_value();
  return api_error(ApiErrc::forbidden, "this terminal is paired as till '" + caller.station +
                                           "': it may not act for " +
                                           (plain ? "till '" + till_id + "'" : "another till"));
}

ApiResponse post_transaction(Routes& r, const ApiRequest& req, const Caller& caller,
                             const CommandContext& ctx) {
  // The API's own checks first, so a till gets the same codes as every other client
  // (malformed_json, unknown_field, missing_field); the shape is then the codec's, which
  // the drop folder shares.
  Body b(req, {"till_id", "transaction_id", "kind", "lines", "occurred_at"});
  int n = 0;
  for (const auto& l : b.array("lines", true, kMaxTillLines)) {
    Body lb(l, {"sku", "barcode", "quantity"}, "lines[" + std::to_string(n++) + "].");
    if (!b.take(lb)) break;
  }
  if (!b) return b.error();
  auto doc = parse_json(req.body);
  if (!doc) return api_error(ApiErrc::malformed_json, doc.error());
  // A till names itself in the body (the drop folder's files may leave it out).
  auto t = till_transaction_from_json(*doc, "");
  if (!t) return api_error(ApiErrc::invalid_field, t.error());
  // An empty till_id is the domain's to refuse (required), as for a manager.
  if (auto refusal = t->till_id.empty() ? std::nullopt : other_till(caller, t->till_id))
    return *refusal;
  auto out = r.store.till_sales().apply(*t, ctx);
  if (!out) return domain_error(out.error());
  // 201: applied now; 200: applied before, this is the first answer again.
  return json_response(till_outcome_json(*out), out->duplicate ? 200 : 201);
}

}  // namespace

void add_pos_routes(Routes& r) {
  r.add("POST", "/api/v1/pos/transactions", Role::pos,
        [&r](const ApiRequest& req, const Caller& caller, const CommandContext& ctx) {
          return post_transaction(r, req, caller, ctx);
        });
  r.add("GET", "/api/v1/pos/transactions/*/*", Role::pos,
        [&r](const ApiRequest& req, const Caller& caller, const CommandContext&) {
          if (auto refusal = other_till(caller, req.params[0])) return *refusal;
          auto out = r.store.till_sales().find(req.params[0], req.params[1]);
          if (!out)
            return api_error(
                ApiErrc::not_found,
                "till " + req.params[0] + " has no applied transaction " + req.params[1]);
          return json_response(till_outcome_json(*out));
        });
}

}  // namespace fulfil::agent::api
