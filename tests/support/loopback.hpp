#pragma once
// Loopback peers for tests, and the one way tests wait for something to happen.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fulfil::test {

// A TCP port on 127.0.0.1 that is this test's alone: bound to port 0 at once, so no other
// test or process can take it. Connections are refused until listen(): a printer or
// cloud that is down, and later up on the same port, needs no probing for a free port and
// no race for it.
class LoopbackPort {
 public:
  LoopbackPort();
  ~LoopbackPort();
  LoopbackPort(const LoopbackPort&) = delete;
  LoopbackPort& operator=(const LoopbackPort&) = delete;

  std::uint16_t port() const { return port_; }
  int fd() const { return fd_; }
  void listen();
  // The next connection (a blocking descriptor), or -1 after `timeout`.
  int accept(std::chrono::milliseconds timeout) const;

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// A "printer" on a LoopbackPort (a raw 9100 port): records every byte of each connection,
// serving many at once (fulfild's ~HS status queries come on connections of their own
// while a job may be sending). Optionally it answers a connection's first bytes with a
// canned reply (a Zebra's ~HS status), keeps its side open after the peer closes (as
// Zebras do), or starts offline (connections refused) until open().
class LoopbackPrinter {
 public:
  struct Options {
    std::string reply;
    bool keep_open = false;
    bool offline = false;
    static Options switched_off() {
      Options o;
      o.offline = true;
      return o;
    }
  };
  LoopbackPrinter() : LoopbackPrinter(Options{}) {}
  explicit LoopbackPrinter(Options options);
  ~LoopbackPrinter();
  LoopbackPrinter(const LoopbackPrinter&) = delete;
  LoopbackPrinter& operator=(const LoopbackPrinter&) = delete;

  std::uint16_t port() const { return socket_.port(); }
  void open();  // starts accepting connections (a printer switched on)
  // The bytes of each connection the peer has closed, in order.
  std::vector<std::string> connections() const;
  std::string received() const;  // all of them, joined
  // Connections that carried a document (not a ~HS query).
  std::vector<std::string> documents() const;
  std::string summary() const;  // the documents' sizes and first bytes, for messages
  // No connection open and none waiting to be accepted: once the peer has exited,
  // everything it ever sent is in connections().
  bool idle() const;

 private:
  void serve();
  Options options_;
  LoopbackPort socket_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> listening_{false};
  std::atomic<std::size_t> open_count_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> done_;
  std::thread thread_;
};

// Waits until `done()` holds or `timeout` has passed, looking every 20 ms; whether it
// held. Tests wait for what they expect to happen, never for a fixed time.
template <class F>
bool eventually(std::chrono::milliseconds timeout, F&& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace fulfil::test
