// Loading the printing module (drivers/printing_module.hpp) on the first need. dlopen with
// RTLD_NOW, so a module missing one of its libraries fails here, at the first need, with
// the loader's message, not at some later call; RTLD_LOCAL, so nothing it brings (cairo,
// glib, libcups) can interpose on the daemon's own symbols. Never dlclose'd.
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "drivers/printing_module.hpp"

namespace fulfil::drivers {
namespace {

namespace fs = std::filesystem;

// Where to look, in order: the override, the executable's folder (the build tree), and
// ../lib/fulfild from it (the package installs fulfild in /usr/bin, the module in
// /usr/lib/fulfild). /proc/self/exe names the program even under qemu-user.
std::vector<fs::path> module_paths() {
  if (const char* file = std::getenv("FULFIL_PRINTING_MODULE"); file && *file) return {file};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path dir = exe.parent_path();
  return {dir / kPrintingModuleFile,
          (dir / ".." / "lib" / "fulfild" / kPrintingModuleFile).lexically_normal()};
}

Expected<PrintingModule*, std::string> load_from(const fs::path& file) {
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    return unexpected("cannot load the printing module " + file.string() + ": " +
                      (why ? why : "unknown error"));
  }
  using Factory = PrintingModule* (*)();
  void* symbol = ::dlsym(handle, kPrintingModuleFactory);
  if (!symbol)
    return unexpected("the printing module " + file.string() + " has no " + kPrintingModuleFactory +
                      ": it was built for another fulfild version");
  Factory factory = nullptr;
  std::memcpy(&factory, &symbol, sizeof factory);  // object pointer -> function pointer
  return factory();
}

Expected<PrintingModule*, std::string> load() {
  std::string looked;
  for (const fs::path& file : module_paths()) {
    std::error_code ec;
    if (fs::exists(file, ec)) return load_from(file);
    looked += (looked.empty() ? "" : ", ") + file.string();
  }
  return unexpected("the printing module " + std::string(kPrintingModuleFile) +
                    " is not installed (looked for " + (looked.empty() ? "it" : looked) +
                    "); CUPS printers and PDF documents need it");
}

}  // namespace

bool needs_printing_module(const PrinterConfig& printer) {
  return printer.kind == PrinterKind::cups || printer.language == PrinterLanguage::pdf;
}

Expected<PrintingModule*, std::string> printing_module() {
  // Worker threads (CUPS calls) and the loop (rendering) may ask at once.
  static std::mutex mutex;
  static PrintingModule* loaded = nullptr;
  const std::lock_guard lock(mutex);
  if (loaded) return loaded;
  auto module = load();
  if (module) loaded = *module;
  return module;
}

std::vector<CupsDestination> cups_destinations(const std::string& server, std::string* error) {
  auto module = printing_module();
  if (!module) {
    if (error) *error = module.error();
    return {};
  }
  return (*module)->cups_destinations(server, error);
}

}  // namespace fulfil::drivers
