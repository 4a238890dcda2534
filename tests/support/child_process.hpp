#pragma once
// Real child processes for the integration, crash, sync tests and the benchmarks: fulfild
// or a helper started with posix_spawn (through qemu-user, FULFIL_EMULATOR, when the build
// is cross-compiled), stdout and stderr captured in files, a NOTIFY_SOCKET to receive
// sd_notify datagrams, a plain HTTP client, and a bounded wait for everything.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fulfil::test {

// Path of a program built in this tree, e.g. built_program("agent/fulfild").
std::string built_program(const std::string& relative);
// True when FULFIL_EMULATOR is set (a cross build run under qemu-user).
bool emulated();
// How much slower than native everything is (qemu-user: several times).
int slowdown();
// What runs a program built in this tree (FULFIL_EMULATOR's words; none natively), for
// command lines that start it through another program (nsenter, prlimit).
std::vector<std::string> emulator_prefix();

// An AF_UNIX datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  NotifySocket();
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  const std::string& path() const { return path_; }
  // The next datagram, or nothing after `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // The first datagram containing `needle` (earlier ones are skipped), or nothing after
  // `timeout`.
  std::optional<std::string> wait_for(const std::string& needle, std::chrono::milliseconds timeout);
  // Every datagram received so far, for failure messages.
  std::string received() const;

 private:
  int fd_ = -1;
  std::string dir_;
  std::string path_;
  std::string log_;
};

class ChildProcess {
 public:
  // `emulate`: run through FULFIL_EMULATOR when cross-built (false for host tools). `env`
  // adds to (or replaces in) this process's environment.
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env = {}, bool emulate = true);
  ~ChildProcess();  // kills the child (SIGKILL) if it is still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  pid_t pid() const { return pid_; }
  void signal(int signo);
  // The exit code (128+signal if killed by one), or nothing if still running at timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running() { return !wait(std::chrono::milliseconds(0)).has_value(); }
  std::string stdout_text() const;
  std::string stderr_text() const;
  bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// A plain HTTP/1.1 request over a real TCP connection to 127.0.0.1 (Connection: close),
// bounded by a receive timeout; nothing if the connection or the response failed.
struct HttpResult {
  int status = 0;
  std::string headers;  // the status line and header lines, as received
  std::string body;
};
std::optional<HttpResult> http_get(int port, const std::string& path);
// `headers`: more header lines ("Authorization: Bearer ...").
std::optional<HttpResult> http_request(int port, const std::string& method, const std::string& path,
                                       const std::string& body,
                                       const std::vector<std::string>& headers = {});
// Sends `request` as it is (it should ask for Connection: close) and reads the answer.
std::optional<HttpResult> http_raw(int port, const std::string& request);

// The port from the daemon's "serving ... api=127.0.0.1:PORT" (or 0.0.0.0:PORT) log line.
std::optional<int> served_port(const std::string& stderr_text);
// The port from the daemon's sd_notify "STATUS=serving store ... on port PORT".
std::optional<int> notified_port(const std::string& datagram);

// The local addresses ("127.0.0.1:8080", "[::]:443") of the TCP sockets process `pid` is
// listening on, from /proc.
std::vector<std::string> listening_addresses(pid_t pid);

}  // namespace fulfil::test
