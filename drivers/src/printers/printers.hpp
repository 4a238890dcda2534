#pragma once
// The printer backends behind make_printer, and what they share.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>

#include "drivers/printer.hpp"

namespace fulfil::drivers::printers {

std::unique_ptr<Printer> make_cups_printer(boost::asio::io_context& io,
                                           boost::asio::thread_pool& workers,
                                           const PrinterConfig& config);
std::unique_ptr<Printer> make_raw_tcp_printer(boost::asio::io_context& io,
                                              const PrinterConfig& config);
std::unique_ptr<Printer> make_file_printer(boost::asio::io_context& io,
                                           boost::asio::thread_pool& workers,
                                           const PrinterConfig& config);

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

// The name CUPS jobs get: our job id first, so find_job can match it after a crash.
std::string cups_job_name(const std::string& job_id, const std::string& title);
// Whether a CUPS job name is the one cups_job_name gave `job_id` ("PJ-4" is not "PJ-42").
bool cups_job_name_matches(const std::string& name, const std::string& job_id);

}  // namespace fulfil::drivers::printers
