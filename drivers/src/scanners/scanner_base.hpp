#pragma once
// What every scanner driver shares: its status, handing reads to the agent, and the
// reconnect loop. A driver implements open_device() (start reading, return an error
// message on failure) and close_device(); it calls deliver() for each read and
// lost(reason) when the device goes away, and the base schedules the next open.
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <string>

#include "drivers/scanner.hpp"

namespace fulfil::drivers::scanners {

class ScannerBase : public Scanner {
 public:
  ScannerBase(boost::asio::io_context& io, ScannerConfig config, ScanHandler on_scan,
              StatusHandler on_status);
  ~ScannerBase() override;

  void start() final;
  void stop() final;
  ScannerStatus status() const final { return status_; }

 protected:
  // Returns an error message, or nothing once the device is open and reading.
  virtual std::optional<std::string> open_device() = 0;
  virtual void close_device() = 0;

  void deliver(std::string data);
  void reject_read(const std::string& why);
  void lost(const std::string& reason);  // closes the device and schedules a reconnect
  void connected(const std::string& detail);

  boost::asio::io_context& io_;
  const ScannerConfig config_;
  bool running() const { return running_; }

 private:
  void try_open();
  void set_state(ScannerState s, const std::string& detail);

  ScanHandler on_scan_;
  StatusHandler on_status_;
  ScannerStatus status_;
  boost::asio::steady_timer retry_;
  bool running_ = false;
};

// Splits a byte stream into reads at the configured suffix and strips the configured
// prefix. Shared by the serial and network scanners, whose devices send text lines.
class LineFramer {
 public:
  explicit LineFramer(const ScannerConfig& config);
  // Feeds bytes; calls on_read for each complete read.
  template <class F>
  void feed(std::string_view bytes, F&& on_read) {
    for (char c : bytes) {
      if (auto read = push(c)) on_read(std::move(*read));
    }
  }
  static constexpr std::size_t kMaxRead = 4096;  // a longer "read" is noise, not a barcode

 private:
  std::optional<std::string> push(char c);
  std::string prefix_;
  char end_;  // '\r' for enter (which also accepts '\n'), '\t' or 0x03
  bool enter_;
  bool after_cr_ = false;  // a '\n' right after the '\r' that ended a read is not a read
  std::string buffer_;
  bool overflow_ = false;
};

std::unique_ptr<Scanner> make_hidpos_scanner(boost::asio::io_context& io,
                                             const ScannerConfig& config,
                                             Scanner::ScanHandler on_scan,
                                             Scanner::StatusHandler on_status);
std::unique_ptr<Scanner> make_wedge_scanner(boost::asio::io_context& io,
                                            const ScannerConfig& config,
                                            Scanner::ScanHandler on_scan,
                                            Scanner::StatusHandler on_status);
std::unique_ptr<Scanner> make_serial_scanner(boost::asio::io_context& io,
                                             const ScannerConfig& config,
                                             Scanner::ScanHandler on_scan,
                                             Scanner::StatusHandler on_status);
std::unique_ptr<Scanner> make_network_scanner(boost::asio::io_context& io,
                                              const ScannerConfig& config,
                                              Scanner::ScanHandler on_scan,
                                              Scanner::StatusHandler on_status);

}  // namespace fulfil::drivers::scanners
