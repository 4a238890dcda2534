// The POS feed: the store's tills post their walk-in sales and returns here as they ring
// them up (role pos; managers may too), and read back what a transaction was answered
// when they reconcile.
#include "api_support.hpp"
#include "config/json_input.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

ApiResponse post_transaction(Routes& r, const ApiRequest& req, const CommandContext& ctx) {
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
  // A till names itself in the body: one paired box may run several tills.
  auto t = till_transaction_from_json(*doc, "");
  if (!t) return api_error(ApiErrc::invalid_field, t.error());
  auto out = r.store.till_sales().apply(*t, ctx);
  if (!out) return domain_error(out.error());
  // 201: applied now; 200: applied before, this is the first answer again.
  return json_response(till_outcome_json(*out), out->duplicate ? 200 : 201);
}

}  // namespace

void add_pos_routes(Routes& r) {
  r.add("POST", "/api/v1/pos/transactions", Role::pos,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          return post_transaction(r, req, ctx);
        });
  r.add("GET", "/api/v1/pos/transactions/*/*", Role::pos,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          auto out = r.store.till_sales().find(req.params[0], req.params[1]);
          if (!out)
            return api_error(
                ApiErrc::not_found,
                "till " + req.params[0] + " has no applied transaction " + req.params[1]);
          return json_response(till_outcome_json(*out));
        });
}

}  // namespace fulfil::agent::api
