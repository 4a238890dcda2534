#pragma once
// Starting fulfild (or a helper) as a real child process for the daemon and crash tests:
// through qemu-user when the build is cross-compiled (FULFIL_EMULATOR), with stderr in a
// file, a NOTIFY_SOCKET to receive sd_notify datagrams, and bounded waits everywhere.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fulfil::test {

// Path of a program built in this tree, e.g. built_program("agent/fulfild").
std::string built_program(const std::string& relative);
bool emulated();
// How much slower than native everything is (qemu-user: several times).
int slowdown();

// An AF_UNIX datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  NotifySocket();
  ~NotifySocket();
  const std::string& path() const { return path_; }
  // The next datagram, or nothing after `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // Waits for a datagram containing `needle`; false on timeout.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string dir_;
  std::string path_;
};

class ChildProcess {
 public:
  // `emulate`: run through FULFIL_EMULATOR when cross-built (false for host tools).
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env = {}, bool emulate = true);
  ~ChildProcess();  // kills the child if it is still running
  pid_t pid() const { return pid_; }
  void signal(int signo);
  // The exit code (128+signal if killed by one), or nothing if still running at timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string stderr_text() const;
  bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string stderr_path_;
};

// A plain HTTP/1.1 GET over a real TCP connection; returns status and body.
struct HttpResult {
  int status = 0;
  std::string body;
};
std::optional<HttpResult> http_get(int port, const std::string& path);
std::optional<HttpResult> http_request(int port, const std::string& method, const std::string& path,
                                       const std::string& body);

// The port from the daemon's "serving ... api=127.0.0.1:PORT" log line.
std::optional<int> served_port(const std::string& stderr_text);

}  // namespace fulfil::test
