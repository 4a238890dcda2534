// Queues of a CUPS server. libcups lives in the printing module (drivers/printing_module.hpp)
// and blocks, so every call runs on the worker pool (the module makes a connection of its
// own per call) and the result is posted back to the io_context. The requests copy what
// they need, so they outlive the Printer safely.
#include "drivers/printing_module.hpp"
#include "printers.hpp"

namespace fulfil::drivers::printers {
namespace {

class CupsPrinter final : public Printer {
 public:
  CupsPrinter(boost::asio::io_context& io, boost::asio::thread_pool& workers,
              const PrinterConfig& c, PrintingModule& module)
      : Printer(c, io), workers_(workers), module_(module) {}

  void submit(PrintRequest request, std::function<void(SubmitResult)> done) override {
    run_blocking(
        *io_, workers_,
        [&m = module_, c = config_, request = std::move(request)] {
          return m.cups_submit(c, request);
        },
        std::move(done));
  }

  void job_state(int external_id, std::function<void(ExternalJob)> done) override {
    run_blocking(
        *io_, workers_,
        [&m = module_, c = config_, external_id] { return m.cups_job_state(c, external_id); },
        std::move(done));
  }

  void find_job(const std::string& job_id, std::function<void(std::optional<int>)> done) override {
    run_blocking(
        *io_, workers_, [&m = module_, c = config_, job_id] { return m.cups_find_job(c, job_id); },
        std::move(done));
  }

  void query_status(std::function<void(PrinterStatus)> done) override {
    run_blocking(
        *io_, workers_, [&m = module_, c = config_] { return m.cups_status(c); }, std::move(done));
  }

 private:
  boost::asio::thread_pool& workers_;
  PrintingModule& module_;  // lives as long as the process
};

}  // namespace

std::unique_ptr<Printer> make_cups_printer(boost::asio::io_context& io,
                                           boost::asio::thread_pool& workers,
                                           const PrinterConfig& config, PrintingModule& module) {
  return std::make_unique<CupsPrinter>(io, workers, config, module);
}

}  // namespace fulfil::drivers::printers
