#pragma once
// The printing module: what only some printers need, kept out of fulfild's address space
// until one is configured. Drawing PDFs takes cairo, pango (with glib, fontconfig,
// harfbuzz, freetype, X11's client libraries) and zint; CUPS queues take libcups (with
// GnuTLS, avahi, D-Bus and Kerberos). Mapped into every daemon they cost ~5 MB of resident
// memory, most of it relocations and start-up work of libraries a store with raw TCP label
// printers never calls. So they live in a plugin, fulfil_printing.so, that the drivers load
// (dlopen, RTLD_NOW | RTLD_LOCAL) on the first need: a printer of kind cups or of language
// pdf configured (at start or by a remote configuration), or a PDF rendered on request.
//
// The interface is narrow on purpose: blocking calls on plain structs, no Asio and no
// symbols of the daemon, so the module links nothing of fulfild and fulfild nothing of it.
// The asynchronous side (the worker pool, posting results to the io_context) stays in the
// daemon (printers/cups_printer.cpp). Calls may come from several worker threads at once.
//
// Versioned by the factory's symbol name: a change to this interface bumps
// kPrintingModuleVersion, so a module of another build refuses to load rather than crash.
#include <optional>
#include <string>
#include <vector>

#include "config/expected.hpp"
#include "drivers/document_layout.hpp"
#include "drivers/documents.hpp"
#include "drivers/printer.hpp"

namespace fulfil::drivers {

class PrintingModule {
 public:
  // PDF: the layout drawn with cairo, one PDF page per layout page. Texts are one line
  // each, already cleaned and cut by the templates.
  virtual Expected<std::string, DocumentError> write_pdf(const docs::Layout& layout) = 0;

  // CUPS, each call on a connection of its own with the printer's timeout (see
  // printers/cups_printer.cpp for what each answers).
  virtual SubmitResult cups_submit(const PrinterConfig& printer, const PrintRequest& request) = 0;
  virtual ExternalJob cups_job_state(const PrinterConfig& printer, int external_id) = 0;
  virtual std::optional<int> cups_find_job(const PrinterConfig& printer,
                                           const std::string& job_id) = 0;
  virtual PrinterStatus cups_status(const PrinterConfig& printer) = 0;
  virtual std::vector<CupsDestination> cups_destinations(const std::string& server,
                                                         std::string* error) = 0;

 protected:
  // The module owns its one instance for the life of the process (it is never unloaded).
  ~PrintingModule() = default;
};

inline constexpr int kPrintingModuleVersion = 1;
// extern "C" PrintingModule* fulfil_printing_module_v1(): the module's only export.
#define FULFIL_PRINTING_MODULE_FACTORY fulfil_printing_module_v1
inline constexpr const char* kPrintingModuleFactory = "fulfil_printing_module_v1";
inline constexpr const char* kPrintingModuleFile = "fulfil_printing.so";

// Whether a printer needs the module: CUPS queues, and printers that take PDF.
bool needs_printing_module(const PrinterConfig& printer);

// The module, loaded on the first call: from $FULFIL_PRINTING_MODULE (a file; the tests
// point it at the build's), else beside the executable (the build tree), else in
// ../lib/fulfild/ from it (the package: /usr/lib/fulfild). A failure says where it looked
// and why; it is tried again on the next call (a package installed meanwhile).
Expected<PrintingModule*, std::string> printing_module();

}  // namespace fulfil::drivers
