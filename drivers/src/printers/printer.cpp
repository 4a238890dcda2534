// Names, configuration entries, the factory, and the defaults for printers that have no
// jobs of their own on the device (raw TCP, file).
#include "drivers/printer.hpp"

#include <map>
#include <stdexcept>

#include "config/log.hpp"
#include "drivers/printing_module.hpp"
#include "printers.hpp"

namespace fulfil::drivers {

std::string_view printer_kind_name(PrinterKind k) {
  switch (k) {
    case PrinterKind::cups:
      return "cups";
    case PrinterKind::raw_tcp:
      return "raw_tcp";
    case PrinterKind::file:
      return "file";
  }
  return "unknown";
}

std::string_view printer_language_name(PrinterLanguage l) {
  switch (l) {
    case PrinterLanguage::zpl:
      return "zpl";
    case PrinterLanguage::pdf:
      return "pdf";
  }
  return "unknown";
}

std::string_view external_job_state_name(ExternalJobState s) {
  switch (s) {
    case ExternalJobState::pending:
      return "pending";
    case ExternalJobState::processing:
      return "processing";
    case ExternalJobState::completed:
      return "completed";
    case ExternalJobState::stopped:
      return "stopped";
    case ExternalJobState::cancelled:
      return "cancelled";
    case ExternalJobState::aborted:
      return "aborted";
    case ExternalJobState::unknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view printer_state_name(PrinterState s) {
  switch (s) {
    case PrinterState::idle:
      return "idle";
    case PrinterState::printing:
      return "printing";
    case PrinterState::stopped:
      return "stopped";
    case PrinterState::offline:
      return "offline";
    case PrinterState::unknown:
      return "unknown";
  }
  return "unknown";
}

// Keys are the PrinterConfig field names; the timeout is given in milliseconds.
PrinterConfig printer_config_from(const nlohmann::json& e) {
  static const std::map<std::string, PrinterKind> kinds{
      {"cups", PrinterKind::cups}, {"raw_tcp", PrinterKind::raw_tcp}, {"file", PrinterKind::file}};
  static const std::map<std::string, PrinterLanguage> languages{{"zpl", PrinterLanguage::zpl},
                                                                {"pdf", PrinterLanguage::pdf}};
  PrinterConfig c;
  c.id = e.at("id");
  c.kind = kinds.at(e.at("kind"));
  c.language = languages.at(e.value("language", std::string(printer_language_name(c.language))));
  c.dpi = e.value("dpi", c.dpi);
  c.cups_queue = e.value("cups_queue", "");
  c.cups_server = e.value("cups_server", "");
  c.host = e.value("host", "");
  c.port = e.value("port", c.port);
  c.directory = e.value("directory", "");
  c.timeout = std::chrono::milliseconds(e.value("timeout_ms", c.timeout.count()));
  return c;
}

void Printer::job_state(int, std::function<void(ExternalJob)> done) {
  ExternalJob job{ExternalJobState::unknown, "no external jobs on this printer"};
  if (!io_) return done(std::move(job));
  boost::asio::post(*io_, [done = std::move(done), job = std::move(job)] { done(job); });
}

void Printer::find_job(const std::string&, std::function<void(std::optional<int>)> done) {
  if (!io_) return done(std::nullopt);
  boost::asio::post(*io_, [done = std::move(done)] { done(std::nullopt); });
}

// A printer that needs the printing module loads it here, when it is configured (at start
// or by a new configuration); printers that need none never map it.
std::unique_ptr<Printer> make_printer(boost::asio::io_context& io,
                                      boost::asio::thread_pool& workers,
                                      const PrinterConfig& config) {
  PrintingModule* module = nullptr;
  if (needs_printing_module(config)) {
    auto loaded = printing_module();
    if (!loaded) {
      log::error("print", "a configured printer needs the printing module, which cannot be loaded",
                 {{"printer", config.id}, {"error", loaded.error()}});
      return printers::make_unavailable_printer(io, config, loaded.error());
    }
    module = *loaded;
  }
  switch (config.kind) {
    case PrinterKind::cups:
      return printers::make_cups_printer(io, workers, config, *module);
    case PrinterKind::raw_tcp:
      return printers::make_raw_tcp_printer(io, config);
    case PrinterKind::file:
      return printers::make_file_printer(io, workers, config);
  }
  return nullptr;
}

}  // namespace fulfil::drivers
