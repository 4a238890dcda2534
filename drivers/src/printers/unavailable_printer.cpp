// A configured printer whose printing module cannot be loaded (printing_module.hpp): the
// lane exists, so jobs for it queue up and wait rather than vanish, and its status is
// offline with the loader's reason, which the print spooler raises as an alarm. Installing
// the module and reloading the configuration (or restarting) brings the real printer.
#include "printers.hpp"

namespace fulfil::drivers::printers {
namespace {

class UnavailablePrinter final : public Printer {
 public:
  UnavailablePrinter(boost::asio::io_context& io, const PrinterConfig& c, std::string why)
      : Printer(c, io), why_(std::move(why)) {}

  void submit(PrintRequest, std::function<void(SubmitResult)> done) override {
    SubmitResult r;
    r.retryable = true;
    r.error = why_;
    boost::asio::post(*io_, [done = std::move(done), r = std::move(r)] { done(r); });
  }

  void query_status(std::function<void(PrinterStatus)> done) override {
    PrinterStatus s;
    s.id = config_.id;
    s.kind = config_.kind;
    s.state = PrinterState::offline;
    s.detail = why_;
    boost::asio::post(*io_, [done = std::move(done), s = std::move(s)] { done(s); });
  }

 private:
  std::string why_;
};

}  // namespace

std::unique_ptr<Printer> make_unavailable_printer(boost::asio::io_context& io,
                                                  const PrinterConfig& config, std::string why) {
  return std::make_unique<UnavailablePrinter>(io, config, std::move(why));
}

}  // namespace fulfil::drivers::printers
