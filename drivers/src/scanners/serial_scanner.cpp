// Serial scanners (RS-232, or USB CDC-ACM which appears as /dev/ttyACM*): the line
// settings come from config, and reads are framed by the configured suffix.
#include <termios.h>
#include <boost/asio/serial_port.hpp>

#include <array>

#include "scanner_base.hpp"

namespace fulfil::drivers::scanners {
namespace {

namespace asio = boost::asio;

class SerialScanner final : public ScannerBase {
 public:
  SerialScanner(asio::io_context& io, const ScannerConfig& c, ScanHandler s, StatusHandler st)
      : ScannerBase(io, c, std::move(s), std::move(st)), port_(io), framer_(c) {}
  ~SerialScanner() override { close_device(); }

 protected:
  std::optional<std::string> open_device() override {
    boost::system::error_code ec;
    port_.open(config_.device, ec);
    if (ec) return "cannot open " + config_.device + ": " + ec.message();
    if (auto error = configure()) {
      port_.close(ec);
      return error;
    }
    framer_ = LineFramer(config_);
    connected(config_.device + " at " + std::to_string(config_.baud) + " baud");
    read();
    return std::nullopt;
  }

  void close_device() override {
    boost::system::error_code ignored;
    if (port_.is_open()) port_.close(ignored);
  }

 private:
  std::optional<std::string> configure() {
    using P = asio::serial_port;
    boost::system::error_code ec;
    const auto parity = config_.parity == "even"  ? P::parity::even
                        : config_.parity == "odd" ? P::parity::odd
                                                  : P::parity::none;
    auto set = [&](const auto& option, const std::string& what) -> std::optional<std::string> {
      port_.set_option(option, ec);
      if (ec) return "cannot set " + what + " on " + config_.device + ": " + ec.message();
      return std::nullopt;
    };
    const auto stop = config_.stop_bits == 2 ? P::stop_bits::two : P::stop_bits::one;
    if (auto e = set(P::baud_rate(static_cast<unsigned>(config_.baud)),
                     std::to_string(config_.baud) + " baud"))
      return e;
    if (auto e = set(P::character_size(static_cast<unsigned>(config_.data_bits)),
                     std::to_string(config_.data_bits) + " data bits"))
      return e;
    if (auto e = set(P::parity(parity), config_.parity + " parity")) return e;
    if (auto e = set(P::stop_bits(stop), std::to_string(config_.stop_bits) + " stop bits"))
      return e;
    if (auto e = set(P::flow_control(P::flow_control::none), "no flow control")) return e;
    // Asio leaves the line discipline's echo and canonical mode alone; a scanner's
    // bytes must arrive raw, as they were sent.
    termios t{};
    if (::tcgetattr(port_.native_handle(), &t) != 0)
      return "cannot read the settings of " + config_.device;
    t.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ECHOE | ISIG | IEXTEN);
    t.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | ICRNL | INLCR | IGNCR | ISTRIP);
    t.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    t.c_cflag |= CLOCAL | CREAD;
    if (::tcsetattr(port_.native_handle(), TCSANOW, &t) != 0)
      return "cannot set raw mode on " + config_.device;
    return std::nullopt;
  }

  void read() {
    port_.async_read_some(
        asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t n) {
          if (ec == asio::error::operation_aborted || !running()) return;
          if (ec) return lost(config_.device + ": " + ec.message());
          framer_.feed({buffer_.data(), n}, [this](std::string read) { deliver(std::move(read)); });
          read();
        });
  }

  asio::serial_port port_;
  LineFramer framer_;
  std::array<char, 512> buffer_{};
};

}  // namespace

std::unique_ptr<Scanner> make_serial_scanner(asio::io_context& io, const ScannerConfig& config,
                                             Scanner::ScanHandler on_scan,
                                             Scanner::StatusHandler on_status) {
  return std::make_unique<SerialScanner>(io, config, std::move(on_scan), std::move(on_status));
}

}  // namespace fulfil::drivers::scanners
