// Network scanners: sleds and fixed-mount readers that serve their reads as text lines on a
// TCP port. The agent connects out, reads lines, and reconnects when the link drops.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>

#include "scanner_base.hpp"

namespace fulfil::drivers::scanners {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class NetworkScanner final : public ScannerBase {
 public:
  NetworkScanner(asio::io_context& io, const ScannerConfig& c, ScanHandler s, StatusHandler st)
      : ScannerBase(io, c, std::move(s), std::move(st)), resolver_(io), socket_(io), framer_(c) {}
  ~NetworkScanner() override { close_device(); }

 protected:
  std::optional<std::string> open_device() override {
    // Connecting is asynchronous; a failure arrives later as lost(), which retries.
    const std::uint64_t attempt = ++attempt_;
    resolver_.async_resolve(
        config_.host, std::to_string(config_.port),
        [this, attempt](boost::system::error_code ec, tcp::resolver::results_type results) {
          // Aborted: the scanner may be gone (closed or destroyed); touch nothing.
          if (ec == asio::error::operation_aborted || attempt != attempt_ || !running()) return;
          if (ec) return lost("cannot resolve " + config_.host + ": " + ec.message());
          asio::async_connect(
              socket_, results,
              [this, attempt](boost::system::error_code ec, const tcp::endpoint&) {
                // Aborted: the scanner may be gone (closed or destroyed); touch nothing.
                if (ec == asio::error::operation_aborted || attempt != attempt_ || !running())
                  return;
                if (ec) return lost("cannot connect to " + address() + ": " + ec.message());
                framer_ = LineFramer(config_);
                connected(address());
                read(attempt);
              });
        });
    return std::nullopt;
  }

  void close_device() override {
    ++attempt_;
    resolver_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  std::string address() const { return config_.host + ":" + std::to_string(config_.port); }

  void read(std::uint64_t attempt) {
    socket_.async_read_some(
        asio::buffer(buffer_), [this, attempt](boost::system::error_code ec, std::size_t n) {
          // Aborted: the scanner may be gone (closed or destroyed); touch nothing.
          if (ec == asio::error::operation_aborted || attempt != attempt_ || !running()) return;
          if (ec == asio::error::eof) return lost(address() + " closed the connection");
          if (ec) return lost(address() + ": " + ec.message());
          framer_.feed({buffer_.data(), n}, [this](std::string read) { deliver(std::move(read)); });
          read(attempt);
        });
  }

  tcp::resolver resolver_;
  tcp::socket socket_;
  LineFramer framer_;
  std::uint64_t attempt_ = 0;  // completions of an older connection are ignored
  std::array<char, 1024> buffer_{};
};

}  // namespace

std::unique_ptr<Scanner> make_network_scanner(asio::io_context& io, const ScannerConfig& config,
                                              Scanner::ScanHandler on_scan,
                                              Scanner::StatusHandler on_status) {
  return std::make_unique<NetworkScanner>(io, config, std::move(on_scan), std::move(on_status));
}

}  // namespace fulfil::drivers::scanners
