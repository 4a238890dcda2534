#pragma once
// The printer backends behind make_printer, and what they share.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>

#include "drivers/printer.hpp"
#include "drivers/printing_module.hpp"

namespace fulfil::drivers::printers {

std::unique_ptr<Printer> make_cups_printer(boost::asio::io_context& io,
                                           boost::asio::thread_pool& workers,
                                           const PrinterConfig& config, PrintingModule& module);
std::unique_ptr<Printer> make_raw_tcp_printer(boost::asio::io_context& io,
                                              const PrinterConfig& config);
std::unique_ptr<Printer> make_file_printer(boost::asio::io_context& io,
                                           boost::asio::thread_pool& workers,
                                           const PrinterConfig& config);
// A printer that needs the printing module when it cannot be loaded: `why` says so.
std::unique_ptr<Printer> make_unavailable_printer(boost::asio::io_context& io,
                                                  const PrinterConfig& config, std::string why);

// Runs `work` on the worker pool and hands its result to `done` on the io_context. The
// work guard keeps io.run() from returning while a blocking call is still out.
template <typename Work, typename Done>
void run_blocking(boost::asio::io_context& io, boost::asio::thread_pool& workers, Work work,
                  Done done) {
  boost::asio::post(workers, [&io, guard = boost::asio::make_work_guard(io), work = std::move(work),
                              done = std::move(done)]() mutable {
    auto result = work();
    boost::asio::post(io, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  });
}

}  // namespace fulfil::drivers::printers
