// What the store takes: the day's capacity, its opening hours and a manager's pause
// ("closing early", "short staffed"), which the cloud's router hears at once.
#include "api_support.hpp"

namespace fulfil::agent::api {

void add_capacity_routes(Routes& r) {
  r.add("GET", "/api/v1/capacity", Role::associate,
        [&r](const ApiRequest&, const Caller&, const CommandContext& ctx) {
          return json_response(capacity_json(r.store.orders().capacity().status(ctx.now_ms)));
        });
  r.add("POST", "/api/v1/capacity/pause", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          Body b(req, {"reason", "note", "until"});
          StorePause p;
          p.reason = b.text("reason", true, 40);
          p.note = b.text("note", false, 200);
          p.paused_until = b.integer("until", false, 0, std::int64_t{1} << 50);
          if (!b) return b.error();
          auto st = r.store.orders().capacity().pause(p, ctx);
          if (!st) return domain_error(st.error());
          return json_response(capacity_json(*st));
        });
  r.add("POST", "/api/v1/capacity/resume", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          Body b(req, {});
          if (!b) return b.error();
          auto st = r.store.orders().capacity().resume(ctx);
          if (!st) return domain_error(st.error());
          return json_response(capacity_json(*st));
        });
}

}  // namespace fulfil::agent::api
