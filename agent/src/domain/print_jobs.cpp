#include "domain/print_jobs.hpp"

#include <array>
#include <charconv>

#include "state_names.hpp"

namespace fulfil::agent {
namespace {

constexpr std::array kPrintJobStates{"queued",  "sending", "submitted",
                                     "printed", "failed",  "cancelled"};
static_assert(kPrintJobStates.size() == static_cast<std::size_t>(PrintJobState::cancelled) + 1,
              "a name for every PrintJobState");

// The print queue's lifecycle: the states each change may leave. cancel is a terminal's
// request (queued jobs only); the rest are the spooler's.
struct PrintJobStep {
  PrintJobState to;
  std::string_view from;  // an SQL list of state names
};
using PJ = PrintJobState;
constexpr std::array kPrintJobSteps{
    PrintJobStep{PJ::sending, "('queued')"},
    PrintJobStep{PJ::submitted, "('sending')"},
    PrintJobStep{PJ::printed, "('sending', 'submitted')"},
    PrintJobStep{PJ::queued, "('sending', 'submitted')"},  // a retry
    PrintJobStep{PJ::failed, "('sending', 'submitted')"},
    PrintJobStep{PJ::cancelled, "('queued')"},
};

std::string may_leave(PrintJobState to) {
  return agent::may_leave(kPrintJobSteps, to);
}

constexpr const char* kPrintJobColumns =
    "SELECT id, kind, coalesce(order_id, ''), station, printer, format, copies, state, "
    "attempts, last_error, external_id, reprint_of, requested_by, created_at, updated_at, "
    "coalesce(printed_at, 0), ";

PrintJob read_job(const Statement& s, bool with_document) {
  PrintJob j;
  j.id = s.int64(0);
  j.kind = s.text(1);
  j.order_id = s.text(2);
  j.station = s.text(3);
  j.printer = s.text(4);
  j.format = s.text(5);
  j.copies = static_cast<int>(s.int64(6));
  j.state = print_job_state_from(s.text(7)).value_or(PrintJobState::failed);
  j.attempts = static_cast<int>(s.int64(8));
  j.last_error = s.text(9);
  if (!s.is_null(10)) j.external_id = s.int64(10);
  if (!s.is_null(11)) j.reprint_of = s.int64(11);
  j.requested_by = s.text(12);
  j.created_at = s.int64(13);
  j.updated_at = s.int64(14);
  j.printed_at = s.int64(15);
  if (with_document) j.document = s.blob(16);
  return j;
}

std::string select(bool with_document, const std::string& rest) {
  return std::string(kPrintJobColumns) + (with_document ? "document" : "NULL") +
         " FROM print_job " + rest;
}

}  // namespace

std::string_view print_job_state_name(PrintJobState s) {
  return name_in(kPrintJobStates, s);
}

std::optional<PrintJobState> print_job_state_from(std::string_view name) {
  return value_in<PrintJobState>(kPrintJobStates, name);
}

std::optional<std::int64_t> print_job_id_from(std::string_view name) {
  if (name.starts_with("PJ-")) name.remove_prefix(3);
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (ec != std::errc() || end != name.data() + name.size() || id <= 0) return std::nullopt;
  return id;
}

Result<PrintJob> PrintJobs::enqueue(const NewPrintJob& job, const CommandContext& ctx) {
  if (job.document.empty()) return fail(DomainErrc::invalid_argument, "the document is empty");
  if (job.copies < 1 || job.copies > 99)
    return fail(DomainErrc::invalid_argument, "copies must be from 1 to 99");
  auto s = db_.prepare(
      "INSERT INTO print_job (kind, order_id, station, printer, format, document, copies, "
      "state, requested_by, reprint_of, created_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?9, ?10, ?10)");
  s.bind(1, job.kind);
  if (job.order_id.empty())
    s.bind_null(2);
  else
    s.bind(2, job.order_id);
  s.bind(3, job.station).bind(4, job.printer).bind(5, job.format).bind_blob(6, job.document);
  s.bind(7, job.copies).bind(8, ctx.actor.str());
  if (job.reprint_of)
    s.bind(9, *job.reprint_of);
  else
    s.bind_null(9);
  s.bind(10, ctx.now_ms);
  s.run();
  return *find(db_.last_insert_rowid());
}

Result<PrintJob> PrintJobs::reprint(std::int64_t id, const std::string& printer,
                                    const CommandContext& ctx) {
  auto old = find(id, true);
  if (!old) return fail(DomainErrc::not_found, "no print job PJ-" + std::to_string(id));
  return enqueue({old->kind, old->order_id, old->station, printer.empty() ? old->printer : printer,
                  old->format, old->document, old->copies, old->id},
                 ctx);
}

Result<PrintJob> PrintJobs::cancel(std::int64_t id, const CommandContext& ctx) {
  auto job = find(id);
  if (!job) return fail(DomainErrc::not_found, "no print job PJ-" + std::to_string(id));
  if (!set_state(id, PrintJobState::cancelled, "cancelled by " + ctx.actor.str(), ctx.now_ms,
                 false))
    return fail(DomainErrc::illegal_transition, job->name() + " is " +
                                                    std::string(print_job_state_name(job->state)) +
                                                    ": only a queued job can be cancelled");
  return *find(id);
}

std::optional<PrintJob> PrintJobs::find(std::int64_t id, bool with_document) {
  auto s = db_.prepare(select(with_document, "WHERE id = ?"));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_job(s, with_document);
}

std::vector<PrintJob> PrintJobs::list(const PrintJobFilter& f) {
  auto s = db_.prepare(select(false,
                              "WHERE (?1 IS NULL OR state = ?1) AND (?2 = '' OR order_id = ?2) "
                              "AND (?3 = '' OR printer = ?3) ORDER BY id DESC LIMIT ?4"));
  if (f.state)
    s.bind(1, print_job_state_name(*f.state));
  else
    s.bind_null(1);
  s.bind(2, f.order_id).bind(3, f.printer).bind(4, static_cast<std::int64_t>(f.limit));
  std::vector<PrintJob> out;
  while (s.step()) out.push_back(read_job(s, false));
  return out;
}

std::optional<PrintJob> PrintJobs::next_queued(const std::string& printer) {
  auto s = db_.prepare(select(true, "WHERE state = 'queued' AND printer = ? ORDER BY id LIMIT 1"));
  s.bind(1, printer);
  if (!s.step()) return std::nullopt;
  return read_job(s, true);
}

std::vector<PrintJob> PrintJobs::in_flight() {
  auto s = db_.prepare(select(false, "WHERE state IN ('sending', 'submitted') ORDER BY id"));
  std::vector<PrintJob> out;
  while (s.step()) out.push_back(read_job(s, false));
  return out;
}

std::int64_t PrintJobs::count(PrintJobState state, std::int64_t since) {
  auto s = db_.prepare("SELECT count(*) FROM print_job WHERE state = ? AND updated_at >= ?");
  s.bind(1, print_job_state_name(state)).bind(2, since);
  s.step();
  return s.int64(0);
}

bool PrintJobs::mark_sending(std::int64_t id, std::int64_t now) {
  return set_state(id, PrintJobState::sending, "", now, true);
}

bool PrintJobs::mark_submitted(std::int64_t id, std::int64_t external_id, std::int64_t now) {
  db_.prepare(
         "UPDATE print_job SET state = 'submitted', external_id = ?, updated_at = ? "
         "WHERE id = ?" +
         may_leave(PrintJobState::submitted))
      .bind(1, external_id)
      .bind(2, now)
      .bind(3, id)
      .run();
  return db_.changes() == 1;
}

bool PrintJobs::mark_printed(std::int64_t id, std::int64_t now) {
  db_.prepare(
         "UPDATE print_job SET state = 'printed', last_error = '', printed_at = ?1, "
         "updated_at = ?1 WHERE id = ?2" +
         may_leave(PrintJobState::printed))
      .bind(1, now)
      .bind(2, id)
      .run();
  return db_.changes() == 1;
}

bool PrintJobs::mark_retry(std::int64_t id, const std::string& error, std::int64_t now) {
  return set_state(id, PrintJobState::queued, error, now, false);
}

bool PrintJobs::mark_failed(std::int64_t id, const std::string& error, std::int64_t now) {
  return set_state(id, PrintJobState::failed, error, now, false);
}

bool PrintJobs::set_state(std::int64_t id, PrintJobState state, const std::string& error,
                          std::int64_t now, bool count_attempt) {
  db_.prepare(
         "UPDATE print_job SET state = ?1, last_error = ?2, updated_at = ?3, "
         "attempts = attempts + ?4 WHERE id = ?5" +
         may_leave(state))
      .bind(1, print_job_state_name(state))
      .bind(2, error)
      .bind(3, now)
      .bind(4, count_attempt ? 1 : 0)
      .bind(5, id)
      .run();
  return db_.changes() == 1;
}

void PrintJobs::store_carrier_label(const CarrierLabel& l) {
  auto s = db_.prepare(
      "INSERT INTO carrier_label (order_id, package_no, carrier, tracking, format, document, "
      "received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (order_id, package_no) DO "
      "UPDATE SET carrier = ?3, tracking = ?4, format = ?5, document = ?6, received_at = ?7");
  s.bind(1, l.order_id).bind(2, l.package_no).bind(3, l.carrier).bind(4, l.tracking);
  s.bind(5, l.format).bind_blob(6, l.document).bind(7, l.received_at);
  s.run();
}

std::optional<CarrierLabel> PrintJobs::carrier_label(const std::string& order_id, int package_no) {
  auto s = db_.prepare(
      "SELECT carrier, tracking, format, document, received_at FROM carrier_label "
      "WHERE order_id = ? AND package_no = ?");
  s.bind(1, order_id).bind(2, package_no);
  if (!s.step()) return std::nullopt;
  return CarrierLabel{order_id, package_no, s.text(0), s.text(1), s.text(2), s.blob(3), s.int64(4)};
}

std::int64_t PrintJobs::prune(std::int64_t before) {
  db_.prepare(
         "DELETE FROM print_job WHERE state IN ('printed', 'failed', 'cancelled') AND "
         "updated_at < ?")
      .bind(1, before)
      .run();
  return db_.changes();
}

}  // namespace fulfil::agent
