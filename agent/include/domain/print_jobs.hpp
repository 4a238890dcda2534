#pragma once
// The durable print queue. A job (what, for which order and station, on which printer, the
// document's bytes, copies) is committed before anything is sent; the spooler moves it
// queued -> sending -> submitted (a CUPS job being tracked) -> printed, or back to queued
// to retry while the printer is away, or to failed. A restart finds every job where it was.
// Jobs can be printed again by id; finished jobs are pruned by age.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/domain.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

enum class PrintJobState { queued, sending, submitted, printed, failed, cancelled };
std::string_view print_job_state_name(PrintJobState s);
std::optional<PrintJobState> print_job_state_from(std::string_view name);

struct PrintJob {
  std::int64_t id = 0;   // shown as "PJ-<id>"
  std::string kind;      // shipping_label, packing_slip, pick_list, pickup_shelf_label,
                         // return_label, test_label
  std::string order_id;  // empty for a test label
  std::string station;
  std::string printer;
  std::string format;    // zpl | pdf
  std::string document;  // the bytes sent to the printer
  int copies = 1;
  PrintJobState state = PrintJobState::queued;
  int attempts = 0;
  std::string last_error;
  std::optional<std::int64_t> external_id;  // the CUPS job id
  std::optional<std::int64_t> reprint_of;
  std::string requested_by;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::int64_t printed_at = 0;
  std::string name() const { return "PJ-" + std::to_string(id); }
};
std::optional<std::int64_t> print_job_id_from(std::string_view name);  // "PJ-42" or "42"

struct NewPrintJob {
  std::string kind;
  std::string order_id;
  std::string station;
  std::string printer;
  std::string format;
  std::string document;
  int copies = 1;
  std::optional<std::int64_t> reprint_of;
};

struct PrintJobFilter {
  std::optional<PrintJobState> state;
  std::string order_id;
  std::string printer;
  std::size_t limit = 100;
};

// A shipping label the carrier made (through the brand's cloud): printed byte for byte
// instead of the store's fallback label.
struct CarrierLabel {
  std::string order_id;
  int package_no = 1;
  std::string carrier;
  std::string tracking;
  std::string format;  // zpl | pdf
  std::string document;
  std::int64_t received_at = 0;
};

class PrintJobs {
 public:
  explicit PrintJobs(Database& db) : db_(db) {}
  // Inside the caller's transaction (with the change that asked for it, when there is one).
  Result<PrintJob> enqueue(const NewPrintJob& job, const CommandContext& ctx);
  // The same document again, on the same or another printer.
  Result<PrintJob> reprint(std::int64_t id, const std::string& printer, const CommandContext& ctx);
  Result<PrintJob> cancel(std::int64_t id, const CommandContext& ctx);

  std::optional<PrintJob> find(std::int64_t id, bool with_document = false);
  std::vector<PrintJob> list(const PrintJobFilter& filter);  // newest first, no documents
  // The oldest job of `printer` waiting to be sent, with its document.
  std::optional<PrintJob> next_queued(const std::string& printer);
  // Jobs a restart finds half-way: sending (maybe sent) and submitted (being tracked).
  std::vector<PrintJob> in_flight();
  // Jobs in `state` last changed at or after `since`.
  std::int64_t count(PrintJobState state, std::int64_t since = 0);

  // The spooler's transitions; each commits on its own. Each leaves only the states its
  // row of the queue's lifecycle names (print_jobs.cpp: kPrintJobSteps) and returns
  // whether the job was in one: a late report about a job that has moved on (finished,
  // cancelled) changes nothing.
  bool mark_sending(std::int64_t id, std::int64_t now);
  bool mark_submitted(std::int64_t id, std::int64_t external_id, std::int64_t now);
  bool mark_printed(std::int64_t id, std::int64_t now);
  bool mark_retry(std::int64_t id, const std::string& error, std::int64_t now);
  bool mark_failed(std::int64_t id, const std::string& error, std::int64_t now);

  // A newer label for the same package replaces the older one.
  void store_carrier_label(const CarrierLabel& label);
  std::optional<CarrierLabel> carrier_label(const std::string& order_id, int package_no);

  // Deletes printed, failed and cancelled jobs last changed before `before`.
  std::int64_t prune(std::int64_t before);

 private:
  bool set_state(std::int64_t id, PrintJobState s, const std::string& error, std::int64_t now,
                 bool count_attempt);
  Database& db_;
};

}  // namespace fulfil::agent
