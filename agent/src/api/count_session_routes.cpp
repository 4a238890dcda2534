// Count sessions: a manager plans a count of bins or SKUs, associates count it blind by
// scanning, the manager reviews the variances (with what moved while counting), sends lines
// back for recounting, approves (the differences post to the ledger) or cancels.
#include "api_support.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

// Blind counting: what the books hold is shown to managers only, and only once counting is
// over (in review, and on a closed session), so nobody counts towards a figure.
bool count_shows_figures(const Caller& c, const CountSession& s) {
  return c.role == Role::manager && s.state != CountSessionState::counting;
}

json count_line_json(const CountLine& l, bool figures) {
  json out = {{"sku", l.sku},
              {"title", l.title},
              {"bin", l.bin},
              {"counted", l.counted ? json(*l.counted) : json(nullptr)},
              {"counted_by", l.counted_by},
              {"counted_at", l.counted_at ? json(l.counted_at) : json(nullptr)},
              {"open", l.open},
              {"round", l.round}};
  if (!figures) return out;
  json moves = json::array();
  for (const auto& m : l.movements)
    moves.push_back({{"ledger_id", m.ledger_id},
                     {"kind", m.kind},
                     {"delta", m.delta},
                     {"reason", m.reason},
                     {"actor", m.actor},
                     {"at", m.at},
                     {"after_count", m.after_count}});
  out["snapshot_on_hand"] = l.snapshot_on_hand;
  out["moved_before_count"] = l.moved_before_count;
  out["expected"] = l.expected();
  out["variance"] = l.variance() ? json(*l.variance()) : json(nullptr);
  out["moved_after_count"] = l.moved_after_count;
  out["on_hand_now"] = l.on_hand_now();
  out["posted_delta"] = l.posted_delta ? json(*l.posted_delta) : json(nullptr);
  out["movements"] = moves;
  return out;
}

json count_session_json(const CountSession& s, const Caller& c) {
  const bool figures = count_shows_figures(c, s);
  json lines = json::array();
  for (const auto& l : s.lines) lines.push_back(count_line_json(l, figures));
  auto when = [](std::int64_t t) { return t ? json(t) : json(nullptr); };
  return {{"id", s.name()},
          {"state", count_session_state_name(s.state)},
          {"note", s.note},
          {"plan", {{"bins", s.plan.bins}, {"skus", s.plan.skus}}},
          {"created_by", s.created_by},
          {"created_at", s.created_at},
          {"submitted_at", when(s.submitted_at)},
          {"closed_by", s.closed_by},
          {"closed_at", when(s.closed_at)},
          {"cancel_reason", s.cancel_reason},
          {"line_count", s.lines.size()},
          {"counted_lines", s.counted_lines()},
          {"open_lines", s.open_lines()},
          {"figures", figures},
          {"lines", lines}};
}

json count_summary_json(const CountSessionSummary& s) {
  return {{"id", s.name()},
          {"state", count_session_state_name(s.state)},
          {"note", s.note},
          {"created_by", s.created_by},
          {"created_at", s.created_at},
          {"closed_at", s.closed_at ? json(s.closed_at) : json(nullptr)},
          {"line_count", s.lines},
          {"counted_lines", s.counted_lines}};
}

std::optional<CountSession> count_session_named(Routes& r, const std::string& name,
                                                ApiResponse& error, bool with_lines = true) {
  auto id = count_session_id_from(name);
  auto s = id ? r.store.count_sessions().find(*id, with_lines) : std::nullopt;
  if (!s) error = api_error(ApiErrc::not_found, "no count session " + name);
  return s;
}

// Every terminal showing the session fetches it again (no outbox event says it changed).
void notify_count_session(Routes& r, const CountSession& s) {
  if (r.notify_terminals)
    r.notify_terminals({{"type", "count_session"},
                        {"count_session_id", s.name()},
                        {"state", count_session_state_name(s.state)}});
}

ApiResponse count_session_changed(Routes& r, const CountSession& s, const Caller& c,
                                  unsigned status = 200) {
  notify_count_session(r, s);
  return json_response(count_session_json(s, c), status);
}

// An array of non-empty strings of at most `max_len` characters.
Expected<std::vector<std::string>, ApiResponse> count_string_list(Body& b, const char* key,
                                                                  bool required,
                                                                  std::size_t max_items,
                                                                  std::size_t max_len) {
  std::vector<std::string> out;
  int n = 0;
  for (const auto& v : b.array(key, required, max_items)) {
    const std::string where = std::string("field '") + key + "[" + std::to_string(n++) + "]'";
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > max_len)
      return unexpected(api_error(
          ApiErrc::invalid_field,
          where + " must be a string of 1 to " + std::to_string(max_len) + " characters"));
    out.push_back(v.get<std::string>());
  }
  return out;
}

ApiResponse plan_count(Routes& r, const ApiRequest& req, const Caller& c,
                       const CommandContext& ctx) {
  Body b(req, {"bins", "skus", "note"});
  CountPlan p;
  auto bins = count_string_list(b, "bins", false, 50, 40);
  if (!bins) return bins.error();
  auto skus = count_string_list(b, "skus", false, kMaxCountSessionLines, 64);
  if (!skus) return skus.error();
  p.bins = std::move(*bins);
  p.skus = std::move(*skus);
  p.note = b.text("note", false, 200);
  if (!b) return b.error();
  if (p.bins.empty() && p.skus.empty())
    return api_error(ApiErrc::missing_field, "give 'bins' or 'skus' to count");
  auto made = r.store.count_sessions().plan(p, ctx);
  if (!made) return domain_error(made.error());
  return count_session_changed(r, *made, c, 201);
}

// A scan resolves the barcode (or a SKU typed in) and counts `quantity` units (1 when not
// given). Unknown barcodes and items not on the plan are refused with their own codes.
ApiResponse scan_count(Routes& r, const ApiRequest& req, const Caller& c,
                       const CommandContext& ctx) {
  ApiResponse error;
  auto s = count_session_named(r, req.params[0], error, false);
  if (!s) return error;
  Body b(req, {"barcode", "quantity"});
  const auto barcode = b.text("barcode", true, 100);
  const auto quantity = b.integer("quantity", false, 1, kMaxCountScanQuantity, 1);
  if (!b) return b.error();
  auto& sessions = r.store.count_sessions();
  auto sku = sessions.sku_for_code(barcode);
  if (!sku)
    return api_error(ApiErrc::unknown_barcode,
                     "barcode '" + barcode + "' is not in this store's catalog");
  if (s->state == CountSessionState::counting && !sessions.has_line(s->id, *sku)) {
    const auto level = r.store.inventory().level(*sku);
    return api_error(ApiErrc::wrong_item,
                     "wrong item: SKU " + *sku + " is not on count " + s->name() +
                         (level && !level->bin.empty() ? " (its bin is " + level->bin + ")" : "") +
                         ": it is not counted here");
  }
  auto line = sessions.scan(s->id, barcode, quantity, ctx);
  if (!line) return domain_error(line.error());
  const auto after = *sessions.find(s->id);
  notify_count_session(r, after);
  return json_response({{"sku", line->sku},
                        {"title", line->title},
                        {"bin", line->bin},
                        {"quantity", quantity},
                        {"counted", line->counted.value_or(0)},
                        {"count_session", count_session_json(after, c)}});
}

ApiResponse count_none_found(Routes& r, const ApiRequest& req, const Caller& c,
                             const CommandContext& ctx) {
  ApiResponse error;
  auto s = count_session_named(r, req.params[0], error, false);
  if (!s) return error;
  Body b(req, {"sku"});
  const auto sku = b.text("sku", true, 64);
  if (!b) return b.error();
  auto line = r.store.count_sessions().none_found(s->id, sku, ctx);
  if (!line) return domain_error(line.error());
  return count_session_changed(r, *r.store.count_sessions().find(s->id), c);
}

ApiResponse recount_lines(Routes& r, const ApiRequest& req, const Caller& c,
                          const CommandContext& ctx) {
  ApiResponse error;
  auto s = count_session_named(r, req.params[0], error, false);
  if (!s) return error;
  Body b(req, {"skus"});
  auto skus = count_string_list(b, "skus", true, kMaxCountSessionLines, 64);
  if (!skus) return skus.error();
  if (!b) return b.error();
  auto done = r.store.count_sessions().recount(s->id, *skus, ctx);
  if (!done) return domain_error(done.error());
  return count_session_changed(r, *done, c);
}

// submit, approve and cancel: a step with no more than an optional reason.
template <class Step>
ApiResponse count_step(Routes& r, const ApiRequest& req, const Caller& c, bool takes_reason,
                       Step&& command) {
  ApiResponse error;
  auto s = count_session_named(r, req.params[0], error, false);
  if (!s) return error;
  Body b = takes_reason ? Body(req, {"reason"}) : Body(req, {});
  const auto reason = takes_reason ? b.text("reason", false, 200) : std::string();
  if (!b) return b.error();
  Result<CountSession> done = command(s->id, reason);
  if (!done) return domain_error(done.error());
  return count_session_changed(r, *done, c);
}

void add_count_sessions(Routes& r) {
  r.add("GET", "/api/v1/count-sessions", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          const auto state = req.query_value("state");
          if (!state.empty() && state != "open" && state != "all")
            return api_error(ApiErrc::invalid_query,
                             "state must be open or all, not '" + state + "'");
          const auto limit = query_limit(req, 50);
          if (!limit) return limit.error();
          json out = json::array();
          for (const auto& s :
               r.store.count_sessions().list(state != "all", static_cast<std::size_t>(*limit)))
            out.push_back(count_summary_json(s));
          return json_response({{"count_sessions", out}});
        });
  r.add("POST", "/api/v1/count-sessions", Role::manager,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return plan_count(r, req, c, ctx);
        });
  r.add("GET", "/api/v1/count-sessions/*", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext&) {
          ApiResponse error;
          auto s = count_session_named(r, req.params[0], error);
          if (!s) return error;
          return json_response(count_session_json(*s, c));
        });
}

void add_count_counting(Routes& r) {
  r.add("POST", "/api/v1/count-sessions/*/scan", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return scan_count(r, req, c, ctx);
        });
  r.add("POST", "/api/v1/count-sessions/*/none-found", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return count_none_found(r, req, c, ctx);
        });
  r.add("POST", "/api/v1/count-sessions/*/submit", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return count_step(r, req, c, false, [&](std::int64_t id, const std::string&) {
            return r.store.count_sessions().submit(id, ctx);
          });
        });
}

void add_count_review(Routes& r) {
  r.add("POST", "/api/v1/count-sessions/*/recount", Role::manager,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return recount_lines(r, req, c, ctx);
        });
  r.add("POST", "/api/v1/count-sessions/*/approve", Role::manager,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return count_step(r, req, c, false, [&](std::int64_t id, const std::string&) {
            return r.store.count_sessions().approve(id, ctx);
          });
        });
  r.add("POST", "/api/v1/count-sessions/*/cancel", Role::manager,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          return count_step(r, req, c, true, [&](std::int64_t id, const std::string& reason) {
            return r.store.count_sessions().cancel(id, reason, ctx);
          });
        });
}

}  // namespace

void add_count_session_routes(Routes& r) {
  add_count_sessions(r);
  add_count_counting(r);
  add_count_review(r);
}

}  // namespace fulfil::agent::api
