// Printing from the terminal: documents for an order, the print queue, reprints by id,
// printers and their state, a test label, a desk's action sheet. Jobs are committed with
// the request that asked for them and sent by the spooler after the commit.
#include <algorithm>
#include <cctype>

#include "api_support.hpp"
#include "devices/print_spooler.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

}  // namespace

json print_job_json(const PrintJob& j) {
  return {
      {"id", j.name()},
      {"kind", j.kind},
      {"order_id", j.order_id.empty() ? json(nullptr) : json(j.order_id)},
      {"station", j.station},
      {"printer", j.printer},
      {"format", j.format},
      {"copies", j.copies},
      {"state", print_job_state_name(j.state)},
      {"attempts", j.attempts},
      {"last_error", j.last_error},
      {"external_id", j.external_id ? json(*j.external_id) : json(nullptr)},
      {"reprint_of", j.reprint_of ? json("PJ-" + std::to_string(*j.reprint_of)) : json(nullptr)},
      {"requested_by", j.requested_by},
      {"created_at", j.created_at},
      {"updated_at", j.updated_at},
      {"printed_at", j.printed_at}};
}

namespace {

json job_json(const PrintJob& j) {
  return print_job_json(j);
}

json jobs_json(const std::vector<PrintJob>& jobs) {
  json out = json::array();
  for (const auto& j : jobs) out.push_back(job_json(j));
  return out;
}

std::optional<ApiResponse> no_printing(Routes& r) {
  if (!r.printing) return api_error(ApiErrc::printing_unavailable, "printing is not running");
  return std::nullopt;
}

std::optional<PrintJob> job_of(Routes& r, const std::string& name, ApiResponse& error) {
  const auto id = print_job_id_from(name);
  auto job = id ? r.store.print_jobs().find(*id) : std::nullopt;
  if (!job) error = api_error(ApiErrc::not_found, "no print job " + name);
  return job;
}

void add_order_printing(Routes& r) {
  r.add("POST", "/api/v1/orders/*/print", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          if (auto e = no_printing(r)) return *e;
          Body b(req, {"kind", "copies", "printer", "return_ref"});
          DocumentRequest d;
          d.kind = b.text("kind", true, 40);
          d.copies = static_cast<int>(b.integer("copies", false, 1, 99, 1));
          d.printer = b.text("printer", false, 64);
          d.return_ref = b.text("return_ref", false, 64);
          if (!b) return b.error();
          d.order_id = req.params[0];
          d.station = c.station;
          auto jobs = r.printing->print_document(d, ctx);
          if (!jobs) return domain_error(jobs.error());
          return json_response({{"jobs", jobs_json(*jobs)}}, 202);
        });
  r.add("GET", "/api/v1/orders/*/documents/*", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          if (auto e = no_printing(r)) return *e;
          std::string format = req.query_value("format");
          if (format.empty()) format = "pdf";
          auto bytes = r.printing->render(
              {req.params[1], req.params[0], "", "", 1, req.query_value("return_ref")}, format);
          if (!bytes) return domain_error(bytes.error());
          ApiResponse out;
          out.body = std::move(*bytes);
          out.content_type = format == "pdf" ? "application/pdf" : "application/vnd.zebra.zpl";
          return out;
        });
}

void add_print_queue(Routes& r) {
  r.add("GET", "/api/v1/print-jobs", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          PrintJobFilter f;
          if (auto s = req.query_value("state"); !s.empty()) {
            f.state = print_job_state_from(s);
            if (!f.state) return api_error(ApiErrc::invalid_query, "unknown job state '" + s + "'");
          }
          f.order_id = req.query_value("order_id");
          f.printer = req.query_value("printer");
          const auto limit = query_limit(req, 100);
          if (!limit) return limit.error();
          f.limit = static_cast<std::size_t>(*limit);
          return json_response({{"jobs", jobs_json(r.store.print_jobs().list(f))}});
        });
  r.add("GET", "/api/v1/print-jobs/*", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          ApiResponse error;
          auto job = job_of(r, req.params[0], error);
          return job ? json_response(job_json(*job)) : error;
        });
  r.add("POST", "/api/v1/print-jobs/*/reprint", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          Body b(req, {"printer"});
          const auto printer = b.text("printer", false, 64);
          if (!b) return b.error();
          ApiResponse error;
          auto job = job_of(r, req.params[0], error);
          if (!job) return error;
          const auto window_ms = r.settings.printing.associate_reprint_window_s * 1000;
          if (c.role != Role::manager && ctx.now_ms - job->created_at > window_ms)
            return api_error(ApiErrc::forbidden,
                             job->name() + " is older than " +
                                 std::to_string(r.settings.printing.associate_reprint_window_s) +
                                 " s: a manager reprints it");
          auto again = r.store.print_jobs().reprint(job->id, printer, ctx);
          if (!again) return domain_error(again.error());
          return json_response(job_json(*again), 202);
        });
  r.add("POST", "/api/v1/print-jobs/*/cancel", Role::associate,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          Body b(req, {});
          if (!b) return b.error();
          ApiResponse error;
          auto job = job_of(r, req.params[0], error);
          if (!job) return error;
          auto cancelled = r.store.print_jobs().cancel(job->id, ctx);
          if (!cancelled) return domain_error(cancelled.error());
          return json_response(job_json(*cancelled));
        });
}

void add_printers(Routes& r) {
  r.add(
      "GET", "/api/v1/printers", Role::associate,
      [&r](const ApiRequest&, const Caller&, const CommandContext&) {
        return json_response({{"printers", r.printing ? r.printing->status() : json::array()},
                              {"alarms", r.printing ? json(r.printing->alarms()) : json::array()}});
      });
  r.add("POST", "/api/v1/printers/*/test", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          if (auto e = no_printing(r)) return *e;
          Body b(req, {});
          if (!b) return b.error();
          auto job = r.printing->print_test_label(req.params[0], ctx);
          if (!job) return domain_error(job.error());
          return json_response(job_json(*job), 202);
        });
}

// The station an action sheet is for: the one named, else the caller's own (empty: none,
// a sheet for any desk). A station name as stations[].id spells it; an associate at a desk
// prints only that desk's sheet, as with the desk's scanner session.
std::optional<ApiResponse> refuse_sheet_station(const std::string& station, const Caller& c) {
  const bool name_ok =
      station.empty() ||
      (station.size() <= 64 && std::isalnum(static_cast<unsigned char>(station[0])) &&
       std::all_of(station.begin(), station.end(), [](char ch) {
         return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-';
       }));
  if (!name_ok)
    return api_error(ApiErrc::invalid_station,
                     "station '" + station +
                         "' is not a station name (letters, digits, '_', '.', '-'; at most 64)");
  if (c.role == Role::associate && !c.station.empty() && station != c.station)
    return api_error(ApiErrc::forbidden, "this terminal belongs to station " + c.station +
                                             ": it prints that station's action sheet only");
  return std::nullopt;
}

void add_action_sheet(Routes& r) {
  r.add("POST", "/api/v1/action-sheet/print", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext& ctx) {
          if (auto e = no_printing(r)) return *e;
          Body b(req, {"station", "printer"});
          auto station = b.text("station", false, 64);
          const auto printer = b.text("printer", false, 64);
          if (!b) return b.error();
          if (station.empty()) station = c.station;
          if (auto refusal = refuse_sheet_station(station, c)) return *refusal;
          auto job = r.printing->print_action_sheet(station, printer, ctx);
          if (!job) return domain_error(job.error());
          return json_response({{"jobs", json::array({job_json(*job)})}}, 202);
        });
  r.add("GET", "/api/v1/action-sheet", Role::associate,
        [&r](const ApiRequest& req, const Caller& c, const CommandContext&) {
          if (auto e = no_printing(r)) return *e;
          std::string format = req.query_value("format");
          if (format.empty()) format = "pdf";
          std::string station = req.query_value("station");
          if (station.empty()) station = c.station;
          if (auto refusal = refuse_sheet_station(station, c)) return *refusal;
          auto bytes = r.printing->render_action_sheet(station, format);
          if (!bytes) return domain_error(bytes.error());
          ApiResponse out;
          out.body = std::move(*bytes);
          out.content_type = format == "pdf" ? "application/pdf" : "application/vnd.zebra.zpl";
          return out;
        });
}

}  // namespace

void add_print_routes(Routes& r) {
  add_order_printing(r);
  add_print_queue(r);
  add_printers(r);
  add_action_sheet(r);
}

// What a workflow step prints by itself (print_on_pack, print_on_ready_for_pickup): queued
// with the step; a missing printer does not undo the step, it is reported with it.
json print_for_step(Routes& r, const std::vector<std::string>& kinds, const std::string& order_id,
                    const Caller& c, const CommandContext& ctx) {
  json out = {{"jobs", json::array()}, {"problems", json::array()}};
  if (!r.printing || c.station.empty() || kinds.empty()) return out;
  for (const auto& kind : kinds) {
    auto jobs = r.printing->print_document({kind, order_id, c.station, "", 1, ""}, ctx);
    if (!jobs) {
      out["problems"].push_back(kind + ": " + jobs.error().message);
      continue;
    }
    for (const auto& j : *jobs) out["jobs"].push_back(job_json(j));
  }
  return out;
}

}  // namespace fulfil::agent::api
