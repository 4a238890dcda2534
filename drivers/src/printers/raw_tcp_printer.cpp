// Label printers reached straight on their raw TCP port (9100, JetDirect), for stores
// without CUPS. Everything is asynchronous on the io_context; each request owns its socket
// and timer (shared_ptr), so it finishes safely even if the Printer is destroyed first.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>

#include "printers.hpp"
#include "zebra_status.hpp"

namespace fulfil::drivers::printers {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

// After sending, the printer gets this long to close its side; Zebras keep the socket open,
// so waiting for EOF any longer would only delay the result.
constexpr auto linger = 1000ms;
// A ~HS reply comes at once from a Zebra; other printers on 9100 never answer.
constexpr auto status_reply_wait = 3000ms;

// One connection to the printer with a deadline per phase: when it passes, the socket is
// closed, the pending operation fails, and `timed_out` says why.
class TcpExchange : public std::enable_shared_from_this<TcpExchange> {
 public:
  TcpExchange(asio::io_context& io, const PrinterConfig& c)
      : resolver_(io), socket_(io), timer_(io), config_(c) {}
  virtual ~TcpExchange() = default;

 protected:
  std::string address() const { return config_.host + ":" + std::to_string(config_.port); }

  void deadline(std::chrono::steady_clock::duration d) {
    const std::uint64_t phase = ++phase_;
    timed_out_ = false;
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this(), phase](error_code ec) {
      if (ec || phase != self->phase_) return;
      self->timed_out_ = true;
      self->resolver_.cancel();
      error_code ignored;
      self->socket_.close(ignored);
    });
  }

  void stop_deadline() {
    ++phase_;
    timer_.cancel();
  }

  std::string why(const error_code& ec) const {
    return timed_out_ ? "timed out after " + std::to_string(config_.timeout.count()) + " ms"
                      : ec.message();
  }

  // Resolves and connects within the configured timeout; `then` gets an error text or "".
  void connect(std::function<void(std::string)> then) {
    deadline(config_.timeout);
    resolver_.async_resolve(
        config_.host, std::to_string(config_.port),
        [self = shared_from_this(), then = std::move(then)](
            error_code ec, tcp::resolver::results_type results) mutable {
          if (ec) return then("cannot resolve " + self->config_.host + ": " + self->why(ec));
          asio::async_connect(
              self->socket_, results,
              [self, then = std::move(then)](error_code ec, const tcp::endpoint&) {
                self->stop_deadline();
                if (ec) return then("cannot connect to " + self->address() + ": " + self->why(ec));
                then("");
              });
        });
  }

  void close() {
    stop_deadline();
    error_code ignored;
    socket_.close(ignored);
  }

  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  PrinterConfig config_;
  std::uint64_t phase_ = 0;  // a deadline of an earlier phase does nothing
  bool timed_out_ = false;
  std::array<char, 512> buffer_{};
};

class SubmitOp final : public TcpExchange {
 public:
  SubmitOp(asio::io_context& io, const PrinterConfig& c, PrintRequest r,
           std::function<void(SubmitResult)> done)
      : TcpExchange(io, c), request_(std::move(r)), done_(std::move(done)) {}

  void start() {
    connect([self = self()](std::string error) {
      if (!error.empty()) return self->finish(std::move(error));
      self->send();
    });
  }

 private:
  std::shared_ptr<SubmitOp> self() {
    return std::static_pointer_cast<SubmitOp>(shared_from_this());
  }

  void send() {
    // Copies are the document sent again: ZPL label formats print once each.
    const std::size_t copies = static_cast<std::size_t>(std::max(1, request_.copies));
    buffers_.assign(copies, asio::buffer(request_.document));
    deadline(config_.timeout);
    asio::async_write(socket_, buffers_, [self = self()](error_code ec, std::size_t) {
      if (ec) return self->finish("sending to " + self->address() + " failed: " + self->why(ec));
      self->half_close();
    });
  }

  // Done sending: close our side and give the printer a moment to read everything and
  // close its side, so the last bytes are not lost to a reset.
  void half_close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    deadline(linger);
    drain();
  }

  void drain() {
    socket_.async_read_some(asio::buffer(buffer_), [self = self()](error_code ec, std::size_t) {
      if (!ec) return self->drain();
      self->finish("");  // EOF, or the linger passed: everything was sent either way
    });
  }

  void finish(std::string error) {
    close();
    SubmitResult r;
    r.ok = error.empty();
    r.retryable = true;  // an unreachable or failing printer may come back
    r.error = std::move(error);
    // Asio completions already run on the io_context; move the handler out so it runs once.
    if (auto done = std::exchange(done_, nullptr)) done(std::move(r));
  }

  PrintRequest request_;
  std::function<void(SubmitResult)> done_;
  std::vector<asio::const_buffer> buffers_;
};

class StatusOp final : public TcpExchange {
 public:
  StatusOp(asio::io_context& io, const PrinterConfig& c, std::function<void(PrinterStatus)> done)
      : TcpExchange(io, c), done_(std::move(done)) {}

  void start() {
    connect([self = self()](std::string error) {
      if (!error.empty()) return self->finish(PrinterState::offline, {}, std::move(error));
      self->ask();
    });
  }

 private:
  std::shared_ptr<StatusOp> self() {
    return std::static_pointer_cast<StatusOp>(shared_from_this());
  }

  void ask() {
    static const std::string query = "~HS\r\n";
    deadline(std::min<std::chrono::steady_clock::duration>(config_.timeout, status_reply_wait));
    asio::async_write(socket_, asio::buffer(query), [self = self()](error_code ec, std::size_t) {
      if (ec)
        return self->finish(PrinterState::offline, {},
                            "sending ~HS to " + self->address() + " failed: " + ec.message());
      self->read();
    });
  }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = self()](error_code ec, std::size_t n) {
      self->reply_.append(self->buffer_.data(), n);
      const auto frames = std::count(self->reply_.begin(), self->reply_.end(), '\x03');
      if (!ec && frames < 3 && self->reply_.size() < 4096) return self->read();
      self->answer();
    });
  }

  void answer() {
    if (reply_.empty()) return finish(PrinterState::unknown, {}, "no status reply to ~HS");
    const auto status = parse_zebra_host_status(reply_);
    if (!status) return finish(PrinterState::unknown, {}, "unreadable ~HS reply");
    finish(status->state, status->reasons, status->detail);
  }

  void finish(PrinterState state, std::vector<std::string> reasons, std::string detail) {
    close();
    PrinterStatus s;
    s.id = config_.id;
    s.kind = PrinterKind::raw_tcp;
    s.state = state;
    s.reasons = std::move(reasons);
    s.detail = std::move(detail);
    if (auto done = std::exchange(done_, nullptr)) done(std::move(s));
  }

  std::function<void(PrinterStatus)> done_;
  std::string reply_;
};

class RawTcpPrinter final : public Printer {
 public:
  RawTcpPrinter(asio::io_context& io, const PrinterConfig& c) : Printer(c, io) {}

  void submit(PrintRequest request, std::function<void(SubmitResult)> done) override {
    std::make_shared<SubmitOp>(*io_, config_, std::move(request), std::move(done))->start();
  }

  void query_status(std::function<void(PrinterStatus)> done) override {
    std::make_shared<StatusOp>(*io_, config_, std::move(done))->start();
  }
};

}  // namespace

std::unique_ptr<Printer> make_raw_tcp_printer(asio::io_context& io, const PrinterConfig& config) {
  return std::make_unique<RawTcpPrinter>(io, config);
}

}  // namespace fulfil::drivers::printers
