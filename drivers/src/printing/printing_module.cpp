// The printing module's one export: the factory fulfild's drivers look up after loading
// fulfil_printing.so (drivers/printing_module.hpp). Everything else here is hidden
// (-fvisibility=hidden, --exclude-libs), so the module's copies of shared code never bind
// to the daemon's or the other way round.
#include "drivers/printing_module.hpp"

#include "cups_common.hpp"
#include "pdf_writer.hpp"

namespace fulfil::drivers {
namespace {

class CairoCupsModule final : public PrintingModule {
 public:
  Expected<std::string, DocumentError> write_pdf(const docs::Layout& layout) override {
    return docs::draw_pdf(layout);
  }
  SubmitResult cups_submit(const PrinterConfig& printer, const PrintRequest& request) override {
    return printers::cups_submit(printer, request);
  }
  ExternalJob cups_job_state(const PrinterConfig& printer, int external_id) override {
    return printers::cups_job_state(printer, external_id);
  }
  std::optional<int> cups_find_job(const PrinterConfig& printer,
                                   const std::string& job_id) override {
    return printers::cups_find_job(printer, job_id);
  }
  PrinterStatus cups_status(const PrinterConfig& printer) override {
    return printers::cups_status(printer);
  }
  std::vector<CupsDestination> cups_destinations(const std::string& server,
                                                 std::string* error) override {
    return printers::list_cups_destinations(server, error);
  }
};

}  // namespace
}  // namespace fulfil::drivers

// The instance lives as long as the process: fulfild never unloads the module (LeakSanitizer
// reports what a dlclose'd module allocated as leaks, and cairo/fontconfig keep caches).
extern "C" __attribute__((visibility("default"))) fulfil::drivers::PrintingModule*
FULFIL_PRINTING_MODULE_FACTORY() {
  static fulfil::drivers::CairoCupsModule module;
  return &module;
}
