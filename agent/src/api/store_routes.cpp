// Stock lookup, returns, adjustments and counts, and what a store's IT looks at: devices,
// the outbox, the running configuration, the audit trail and Prometheus metrics.
#include <sstream>

#include "api_support.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

json level_json(const StockLevel& l, Inventory& inventory) {
  return {{"sku", l.sku},
          {"title", l.title},
          {"bin", l.bin},
          {"barcodes", inventory.barcodes_of(l.sku)},
          {"on_hand", l.on_hand},
          {"reserved", l.reserved},
          {"unsellable", l.unsellable},
          {"safety_stock", l.safety_stock},
          {"available", l.available()}};
}

void add_inventory(Routes& r) {
  r.add("GET", "/api/v1/inventory", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          const auto q = req.query_value("q");
          if (q.empty() || q.size() > 100)
            return api_error(ApiErrc::invalid_query, "q (1 to 100 characters) is required");
          auto found = r.store.inventory().search(q, 50);
          if (!found) return api_error(ApiErrc::invalid_query, "q: " + found.error().message);
          json items = json::array();
          for (const auto& l : found->items) items.push_back(level_json(l, r.store.inventory()));
          return json_response({{"items", items}, {"truncated", found->truncated}});
        });
  r.add("GET", "/api/v1/inventory/*", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          auto l = r.store.inventory().level(req.params[0]);
          if (!l) return api_error(ApiErrc::not_found, "no SKU " + req.params[0]);
          return json_response(level_json(*l, r.store.inventory()));
        });
  r.add("POST", "/api/v1/inventory/adjustments", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          Body b(req, {"sku", "kind", "quantity", "reason"});
          StockAdjustment a;
          a.sku = b.text("sku", true, 64);
          const auto kind = b.text("kind", true, 20);
          a.quantity = b.integer("quantity", true, -1'000'000, 1'000'000);
          a.reason = b.text("reason", false, 200);
          if (!b) return b.error();
          auto k = adjustment_kind_from(kind);
          if (!k)
            return api_error(ApiErrc::invalid_field,
                             "kind '" + kind + "' is not receipt, correction, damage or disposal");
          a.kind = *k;
          if (auto done = r.store.inventory().adjust(a, ctx); !done)
            return domain_error(done.error());
          return json_response(level_json(*r.store.inventory().level(a.sku), r.store.inventory()));
        });
  // Items scanned one after another under one reason, reviewed, posted together.
  r.add("POST", "/api/v1/inventory/adjustment-batches", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          Body b(req, {"reason", "note", "lines"});
          AdjustmentBatch batch;
          batch.reason = b.text("reason", true, 40);
          batch.note = b.text("note", false, 200);
          const auto lines = b.array("lines", true, kMaxBatchLines);
          for (std::size_t i = 0; b && i < lines.size(); ++i) {
            Body lb(lines[i], {"code", "quantity"}, "lines[" + std::to_string(i) + "]");
            AdjustmentLine line{lb.text("code", true, 100),
                                lb.integer("quantity", false, 1, 10000, 1)};
            if (!b.take(lb)) break;
            batch.lines.push_back(std::move(line));
          }
          if (!b) return b.error();
          auto after = r.store.inventory().adjust_batch(batch, ctx);
          if (!after) return domain_error(after.error());
          json items = json::array();
          for (const auto& l : *after) items.push_back(level_json(l, r.store.inventory()));
          return json_response({{"reason", batch.reason}, {"lines", items}});
        });
  r.add("POST", "/api/v1/inventory/counts", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          Body b(req, {"entries", "note"});
          CycleCount count;
          count.note = b.text("note", false, 200);
          int n = 0;
          for (const auto& e : b.array("entries", true, 10000)) {
            Body eb(e, {"sku", "on_hand", "unsellable"}, "entries[" + std::to_string(n++) + "].");
            CountEntry entry{eb.text("sku", true, 64), eb.integer("on_hand", true, 0, 10'000'000),
                             std::nullopt};
            if (eb.has("unsellable"))
              entry.unsellable = eb.integer("unsellable", true, 0, 10'000'000);
            if (!b.take(eb)) break;
            count.entries.push_back(entry);
          }
          if (!b) return b.error();
          auto diffs = r.store.inventory().post_count(count, ctx);
          if (!diffs) return domain_error(diffs.error());
          json out = json::array();
          for (const auto& d : *diffs)
            out.push_back({{"sku", d.sku},
                           {"on_hand_delta", d.on_hand_delta},
                           {"unsellable_delta", d.unsellable_delta}});
          return json_response({{"differences", out}});
        });
}

void add_returns(Routes& r) {
  r.add("POST", "/api/v1/returns", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          Body b(req, {"order_id", "lines", "note"});
          ReturnRequest rr;
          if (auto id = b.text("order_id", false, 64); !id.empty()) rr.order_id = id;
          rr.note = b.text("note", false, 200);
          int n = 0;
          for (const auto& l : b.array("lines", true, 200)) {
            Body lb(l, {"sku", "barcode", "quantity", "disposition", "reason"},
                    "lines[" + std::to_string(n++) + "].");
            ReturnLine line;
            line.sku = lb.text("sku", false, 64);
            const auto barcode = lb.text("barcode", false, 100);
            line.quantity = lb.integer("quantity", true, 1, 10000);
            const auto disposition = lb.text("disposition", true, 20);
            line.reason = lb.text("reason", false, 200);
            if (!b.take(lb)) break;
            if (line.sku.empty() == barcode.empty())
              return api_error(ApiErrc::invalid_field, "each return line needs a sku or a barcode");
            if (!barcode.empty()) {
              auto sku = r.store.inventory().sku_for_barcode(barcode);
              if (!sku)
                return api_error(ApiErrc::unknown_barcode,
                                 "barcode '" + barcode + "' is not in this store's catalog");
              line.sku = *sku;
            }
            auto d = disposition_from(disposition);
            if (!d)
              return api_error(
                  ApiErrc::invalid_field,
                  "disposition '" + disposition + "' is not restock, unsellable or to_vendor");
            line.disposition = *d;
            rr.lines.push_back(line);
          }
          if (!b) return b.error();
          auto receipt = r.store.returns().receive(rr, ctx);
          if (!receipt) return domain_error(receipt.error());
          return json_response(
              {{"return_id", receipt->return_id},
               {"order_id", receipt->order_id ? json(*receipt->order_id) : json(nullptr)}},
              201);
        });
}

json adjustment_reason_codes() {
  json out = json::array();
  for (const auto& reason : kAdjustmentReasons) out.push_back(reason.code);
  return out;
}

// What each reason does to stock, for the terminal to say before the associate confirms.
json reason_effects_json(const OrderPolicy& policy) {
  json out = json::object();
  for (const auto& e : policy.reason_effects)
    out[e.reason] = {{"stock", stock_effect_name(e.stock)},
                     {"avoid_store_hours", e.avoid_store_hours}};
  return out;
}

void add_admin(Routes& r) {
  r.add("GET", "/api/v1/reference", Role::associate,
        [&r](const ApiRequest&, const Caller&, const CommandContext&) {
          const auto& o = r.settings.orders;
          return json_response(
              {{"store", {{"id", r.settings.store.id}, {"name", r.settings.store.name}}},
               {"reject_reasons", r.store.orders().policy().reject_reasons},
               {"short_pick_reasons", r.store.orders().policy().short_pick_reasons},
               {"carriers", o.carriers},
               {"box_types", o.box_types},
               {"pickup_code_max_attempts", r.store.orders().policy().pickup_code_max_attempts},
               {"pickup_return_after_days",
                r.store.orders().policy().return_uncollected_after_ms / (24 * 3600 * 1000)},
               // The terminals' SLA clocks turn "nearing" this close to their deadline.
               {"sla",
                {{"accept_warn_ms", std::int64_t{o.accept_warn_minutes} * 60 * 1000},
                 {"ship_warn_ms", std::int64_t{o.ship_warn_minutes} * 60 * 1000}}},
               {"pause_reasons", kPauseReasons},
               {"reason_effects", reason_effects_json(r.store.orders().policy())},
               {"dispositions", {"restock", "unsellable", "to_vendor"}},
               {"adjustment_kinds", {"receipt", "correction", "damage", "disposal"}},
               {"adjustment_reasons", adjustment_reason_codes()}});
        });
  r.add("GET", "/api/v1/devices", Role::associate,
        [&r](const ApiRequest&, const Caller&, const CommandContext&) {
          // Printer drivers register here as they are configured (issue 6).
          const json health = r.component_health();
          return json_response({{"scanners", r.scanners ? r.scanners() : json::array()},
                                {"printers", json::array()},
                                {"cloud", health.value("sync", json(nullptr))},
                                {"terminals_connected", r.connected_terminals()}});
        });
  r.add("GET", "/api/v1/outbox", Role::manager,
        [&r](const ApiRequest&, const Caller&, const CommandContext& ctx) {
          const auto st = r.store.outbox().stats();
          json dead = json::array();
          for (const auto& e : r.store.outbox().dead(100))
            dead.push_back({{"seq", e.seq},
                            {"event_id", e.event_id},
                            {"type", e.type},
                            {"subject", e.subject},
                            {"created_at", e.created_at},
                            {"attempts", e.attempts},
                            {"reason", e.last_error}});
          // The cloud link's own view (last contact, its alarms), as /health shows it.
          const json link = r.component_health().value("sync", json(nullptr));
          return json_response(
              {{"pending", st.pending},
               {"dead", st.dead},
               {"oldest_pending_age_s",
                st.oldest_pending_at ? (ctx.now_ms - st.oldest_pending_at) / 1000 : 0},
               {"last_seq", st.last_seq},
               {"dead_letters", dead},
               {"link", link}});
        });
  r.add("POST", "/api/v1/outbox/dead-letters/*/retry", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          auto event = r.store.outbox().retry_dead(req.params[0]);
          if (!event) return domain_error(event.error());
          return json_response({{"seq", event->seq},
                                {"event_id", event->event_id},
                                {"type", event->type},
                                {"subject", event->subject},
                                {"state", event->state}});
        });
  r.add("GET", "/api/v1/audit", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          AuditQuery q;
          const auto limit = query_limit(req, 100);
          if (!limit) return limit.error();
          const auto since = query_integer(req, "since", 0, kMaxTimeMs);
          if (!since) return since.error();
          const auto until = query_integer(req, "until", 0, kMaxTimeMs);
          if (!until) return until.error();
          q.limit = *limit;
          q.since = *since;
          q.until = *until;
          q.actor = req.query_value("actor");
          q.action = req.query_value("action");
          q.order_id = req.query_value("order");
          q.refused_only = req.query_value("refused") == "1";
          json rows = json::array();
          for (const auto& e : r.store.terminals().audit_entries(q))
            rows.push_back({{"at", e.at},
                            {"actor", e.actor},
                            {"role", e.role},
                            {"action", e.action},
                            {"status", e.status},
                            {"detail", e.detail}});
          return json_response({{"entries", rows}});
        });
}

void metric(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

// Prometheus text format; no customer data, so it needs no token (scrapers on the LAN).
void add_metrics(Routes& r) {
  r.server.route("GET", "/metrics", [&r](const ApiRequest&) {
    std::ostringstream out;
    metric(out, "fulfild_orders", "gauge", "Fulfilment orders by state.");
    for (const auto& [state, n] : r.store.orders().count_by_state())
      out << "fulfild_orders{state=\"" << state << "\"} " << n << '\n';
    const auto st = r.store.outbox().stats();
    metric(out, "fulfild_outbox_pending", "gauge", "Events waiting for the cloud.");
    out << "fulfild_outbox_pending " << st.pending << '\n';
    metric(out, "fulfild_outbox_dead", "gauge", "Events the cloud refused (dead letters).");
    out << "fulfild_outbox_dead " << st.dead << '\n';
    metric(out, "fulfild_outbox_oldest_pending_age_seconds", "gauge",
           "Age of the oldest pending event.");
    out << "fulfild_outbox_oldest_pending_age_seconds "
        << (st.oldest_pending_at ? (now_ms() - st.oldest_pending_at) / 1000 : 0) << '\n';
    const json cloud = r.component_health().value("sync", json::object());
    metric(out, "fulfild_sync_failures_total", "counter", "Failed requests to the cloud.");
    out << "fulfild_sync_failures_total{direction=\"upload\"} " << cloud.value("upload_failures", 0)
        << '\n';
    out << "fulfild_sync_failures_total{direction=\"feed\"} " << cloud.value("feed_failures", 0)
        << '\n';
    metric(out, "fulfild_sync_events_sent_total", "counter", "Events the cloud acknowledged.");
    out << "fulfild_sync_events_sent_total " << cloud.value("events_sent", 0) << '\n';
    metric(out, "fulfild_scans_total", "counter",
           "Scans by result (no_session: a station scanner's read with no order open).");
    for (const char* result :
         {"ok", "wrong_item", "over_scan", "unknown_barcode", "refused", "no_session"})
      out << "fulfild_scans_total{result=\"" << result << "\"} " << r.counters.scans[result]
          << '\n';
    metric(out, "fulfild_api_requests_total", "counter", "Terminal API requests by status class.");
    for (const char* cls : {"2xx", "4xx", "5xx"})
      out << "fulfild_api_requests_total{status=\"" << cls << "\"} " << r.counters.requests[cls]
          << '\n';
    metric(out, "fulfild_terminals_connected", "gauge", "Terminals with an open WebSocket.");
    out << "fulfild_terminals_connected " << r.connected_terminals() << '\n';
    metric(out, "fulfild_pairing_refused_total", "counter",
           "Wrong or rate-limited pairing attempts.");
    out << "fulfild_pairing_refused_total " << r.counters.pairing_refused << '\n';
    ApiResponse resp;
    resp.content_type = "text/plain; version=0.0.4";
    resp.body = out.str();
    return resp;
  });
}

}  // namespace

void add_store_routes(Routes& r) {
  add_inventory(r);
  add_returns(r);
  add_admin(r);
  add_metrics(r);
}

}  // namespace fulfil::agent::api
