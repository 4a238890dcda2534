#pragma once
// Printers of the kinds stores have: queues of a CUPS server (thermal label printers
// taking raw ZPL, page printers taking PDF), label printers reached straight on TCP port
// 9100 (JetDirect), and a folder (the demo and tests). The agent's print queue owns the
// jobs and their durability; a Printer only sends one document and reports on it.
//
// Everything completes on the agent's io_context. Blocking libraries (libcups) run on the
// worker pool given to make_printer and post their results back.
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fulfil::drivers {

enum class PrinterKind { cups, raw_tcp, file };
std::string_view printer_kind_name(PrinterKind k);

// What a printer takes. A label printer takes ZPL; a page printer PDF.
enum class PrinterLanguage { zpl, pdf };
std::string_view printer_language_name(PrinterLanguage l);

// One `printers[]` entry of the configuration.
struct PrinterConfig {
  std::string id;  // "desk1-zebra"
  PrinterKind kind = PrinterKind::file;
  PrinterLanguage language = PrinterLanguage::zpl;
  int dpi = 203;  // label printers: 203 or 300 dots per inch (templates scale to it)

  // cups: the queue (destination) name, and the server: empty for the system's default
  // (CUPS_SERVER, client.conf, /run/cups/cups.sock), else "host:port" or a socket path.
  std::string cups_queue;
  std::string cups_server;

  // raw_tcp: the printer's address; 9100 is JetDirect's port.
  std::string host;
  std::uint16_t port = 9100;

  // file: each job becomes a file in this folder.
  std::string directory;

  std::chrono::milliseconds timeout{15000};  // connect/send, and each CUPS request
};
PrinterConfig printer_config_from(const nlohmann::json& entry);

struct PrintRequest {
  std::string job_id;  // the queue's id ("PJ-42"); CUPS job names carry it (see find_job)
  std::string title;   // for people: "Shipping label FO-1001 1/2"
  PrinterLanguage format = PrinterLanguage::zpl;  // what `document` is
  std::string document;                           // the bytes to print, sent as they are
  int copies = 1;
};

struct SubmitResult {
  bool ok = false;
  // When not ok: whether trying again later may work (printer offline, connection
  // refused, CUPS unreachable) or not (no such queue, document refused).
  bool retryable = true;
  std::string error;
  // cups: the job's id on the server; it is tracked until it completes. Printers that
  // have printed (or written) everything when submit completes leave it empty.
  std::optional<int> external_id;
};

enum class ExternalJobState {
  pending,
  processing,
  completed,
  stopped,
  cancelled,
  aborted,
  unknown
};
std::string_view external_job_state_name(ExternalJobState s);

struct ExternalJob {
  ExternalJobState state = ExternalJobState::unknown;
  std::string reasons;  // job-state-reasons, e.g. "job-completed-successfully"
};

enum class PrinterState { idle, printing, stopped, offline, unknown };
std::string_view printer_state_name(PrinterState s);

struct PrinterStatus {
  std::string id;
  PrinterKind kind = PrinterKind::file;
  PrinterState state = PrinterState::unknown;
  // printer-state-reasons as CUPS names them ("media-empty-error", "offline-report",
  // "paused", ...), without "none".
  std::vector<std::string> reasons;
  std::string detail;  // printer-state-message, or why it cannot be reached
};

class Printer {
 public:
  virtual ~Printer() = default;
  const PrinterConfig& config() const { return config_; }

  // Sends one document. The handler runs on the io_context, exactly once.
  virtual void submit(PrintRequest request, std::function<void(SubmitResult)> done) = 0;
  // For printers that report external ids (CUPS): where the job is now.
  virtual void job_state(int external_id, std::function<void(ExternalJob)> done);
  // After a crash between sending a job and recording its external id: the id of a job
  // on the printer whose name carries `job_id`, so it is tracked rather than sent again.
  virtual void find_job(const std::string& job_id, std::function<void(std::optional<int>)> done);
  // The printer's state and reasons (media out, paused, offline...).
  virtual void query_status(std::function<void(PrinterStatus)> done) = 0;

  // Destroying a Printer while requests are in flight is safe: they own what they use,
  // finish (bounded by the timeout) and still call their handlers, so a job CUPS accepted
  // is never lost track of. Handlers must not assume the Printer still exists.

 protected:
  explicit Printer(PrinterConfig config) : config_(std::move(config)) {}
  // With the io_context, the default job_state/find_job complete on it like the rest.
  Printer(PrinterConfig config, boost::asio::io_context& io)
      : config_(std::move(config)), io_(&io) {}
  PrinterConfig config_;
  boost::asio::io_context* io_ = nullptr;
};

std::unique_ptr<Printer> make_printer(boost::asio::io_context& io,
                                      boost::asio::thread_pool& workers,
                                      const PrinterConfig& config);

// The queues a CUPS server offers (for `fulfilctl printers`). Blocking.
struct CupsDestination {
  std::string name;
  std::string info;
  std::string make_and_model;
  std::string device_uri;
  PrinterState state = PrinterState::unknown;
  std::vector<std::string> reasons;
  bool is_default = false;
};
// On failure `error` says why (server unreachable...) and the list is empty.
std::vector<CupsDestination> cups_destinations(const std::string& server, std::string* error);

}  // namespace fulfil::drivers
