#pragma once
// A scanner under test on its own io_context: collects its scans and status changes, and
// runs the loop against a deadline so that a hang fails the test instead of blocking it.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "drivers/scanner.hpp"

namespace fulfil::test {

struct ScannerHarness {
  boost::asio::io_context io;
  std::vector<drivers::Scan> scans;
  std::vector<drivers::ScannerStatus> statuses;
  std::unique_ptr<drivers::Scanner> scanner;

  void start(const drivers::ScannerConfig& c) {
    scanner = drivers::make_scanner(
        io, c, [this](drivers::Scan s) { scans.push_back(std::move(s)); },
        [this](const drivers::ScannerStatus& s) { statuses.push_back(s); });
    REQUIRE(scanner);
    scanner->start();
  }
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.run_for(std::chrono::milliseconds(5));
      io.restart();
    }
    return true;
  }
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }
  std::vector<std::string> data() const {
    std::vector<std::string> out;
    for (const auto& s : scans) out.push_back(s.data);
    return out;
  }
};

}  // namespace fulfil::test
