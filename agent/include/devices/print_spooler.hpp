#pragma once
// Sends the print queue's jobs to the store's printers and follows them until they have
// printed. One lane per printer keeps a desk's labels in the order they were asked for; a
// printer that cannot be reached keeps its jobs queued and is tried again with a growing
// wait; a CUPS job is tracked by its id until CUPS says it completed. At start, jobs a
// crash left half-way are resumed: one CUPS already has is found by name and tracked, not
// sent again.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "config/settings.hpp"
#include "domain/print_jobs.hpp"
#include "domain/store.hpp"

namespace fulfil::drivers {
enum class DocumentKind;
enum class DocumentFormat;
struct PrinterConfig;
}  // namespace fulfil::drivers

namespace fulfil::agent {

struct DocumentRequest {
  std::string kind;  // shipping_label, packing_slip, pick_list, pickup_shelf_label,
                     // return_label (action sheets: print_action_sheet)
  std::string order_id;
  std::string station;  // whose printer for `kind`, unless `printer` names one
  std::string printer;
  int copies = 1;
  std::string return_ref;  // return labels
};

class PrintSpooler {
 public:
  // `changed` runs when a printer's state or a job's state changed (terminals refresh).
  PrintSpooler(boost::asio::io_context& io, Store& store, const config::Settings& settings,
               std::function<void()> changed);
  ~PrintSpooler();

  void start();  // resumes what a restart found half-way, then sends what is queued
  void stop();
  void kick();  // jobs were committed: send them
  // printers[] or printing changed in the settings: new lanes take over from the old ones
  // without losing or doubling a job (the queue is in the database; lanes only carry it).
  void reconfigure();

  // Renders the document(s) and queues them (one job per package for shipping labels),
  // inside the caller's transaction. Errors say what was missing (no printer for this
  // kind at the station, an order without an address...).
  Result<std::vector<PrintJob>> print_document(const DocumentRequest& request,
                                               const CommandContext& ctx);
  Result<PrintJob> print_test_label(const std::string& printer, const CommandContext& ctx);
  // A station's action sheet (its action barcodes and the store's box types), queued as
  // one job of kind action_sheet with no order: at `printer` if named, else at the
  // station's printer for pick lists, else for packing slips, else for shipping labels
  // (a page printer gets an A4 page, a label printer 4x6 labels).
  Result<PrintJob> print_action_sheet(const std::string& station, const std::string& printer,
                                      const CommandContext& ctx);
  // The action sheet in `format` ("zpl" or "pdf"), for inspection.
  Result<std::string> render_action_sheet(const std::string& station, const std::string& format);
  // The document as it would be printed, in `format` ("zpl" or "pdf"), for inspection.
  Result<std::string> render(const DocumentRequest& request, const std::string& format);

  // Each printer: kind, language, state, reasons, queued jobs, last error.
  nlohmann::json status() const;
  std::vector<std::string> alarms() const;

 private:
  Result<std::string> document_bytes(drivers::DocumentKind kind, const DocumentRequest& request,
                                     int package_no, const drivers::PrinterConfig& printer,
                                     drivers::DocumentFormat format, const CommandContext& ctx);
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fulfil::agent
