#pragma once
// A private CUPS scheduler for tests and benchmarks: its own ServerRoot in a temporary
// directory (configuration, spool, cache, logs), listening on 127.0.0.1 at a free port and
// on a Unix socket inside that directory. Queues are added with lpadmin. It runs as root
// (as CI does): cupsd runs backends owned by root only.
//
// The scheduler is a child process that gets SIGTERM if the thread that started it dies,
// so a crashed test does not leave it behind; the destructor stops it and removes the
// directory. Failures throw std::runtime_error with cupsd's log.
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace fulfil::test {

class CupsServer {
 public:
  // `test_backend`: a backend script installed for the "fulfiltest" scheme, by default
  // tests/support/cups-test-backend when the build names it (FULFIL_CUPS_TEST_BACKEND);
  // empty for none.
  explicit CupsServer(std::string test_backend = default_test_backend());
  ~CupsServer();
  CupsServer(const CupsServer&) = delete;
  CupsServer& operator=(const CupsServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT", for PrinterConfig::cups_server
  std::string socket_path() const { return root_ + "/cups.sock"; }
  const std::string& root() const { return root_; }

  // A raw queue (documents go to the device as they are), enabled and accepting.
  void add_queue(const std::string& name, const std::string& device_uri);

  // Stops the scheduler (SIGTERM, then SIGKILL) and starts it again with the same port,
  // configuration and queues.
  void stop();
  void start();
  bool running() const { return pid_ > 0; }

  // cupsd's error log, for failure messages.
  std::string error_log() const;

  static std::string default_test_backend();

 private:
  void write_config() const;
  void wait_until_ready();

  std::string root_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace fulfil::test
