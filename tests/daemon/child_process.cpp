#include "child_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace fulfil::test {

std::string built_program(const std::string& relative) {
  const char* dir = std::getenv("FULFIL_BIN_DIR");
  return std::string(dir ? dir : ".") + "/" + relative;
}

bool emulated() {
  const char* e = std::getenv("FULFIL_EMULATOR");
  return e && *e;
}

int slowdown() {
  return emulated() ? 8 : 1;
}

NotifySocket::NotifySocket() {
  char tmpl[] = "/tmp/fulfil-notify-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
  path_ = dir_ + "/notify.sock";
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("bind notify socket");
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::optional<std::string> NotifySocket::receive(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  char buf[4096];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

bool NotifySocket::wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto msg = receive(left);
    if (msg && msg->find(needle) != std::string::npos) return true;
  }
  return false;
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env, bool emulate) {
  char tmpl[] = "/tmp/fulfil-child-XXXXXX";
  int err_fd = ::mkstemp(tmpl);
  if (err_fd < 0) throw std::runtime_error("mkstemp");
  stderr_path_ = tmpl;
  std::vector<std::string> argv;
  if (emulate && emulated()) {
    std::istringstream words(std::getenv("FULFIL_EMULATOR"));
    for (std::string w; words >> w;) argv.push_back(w);
  }
  argv.push_back(program);
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (!env.count(kv.substr(0, kv.find('=')))) envs.push_back(kv);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  // posix_spawn rather than fork+exec: under qemu-user a forked child of the emulated
  // test hangs before it can exec, while posix_spawn works there and natively.
  std::string path = argv[0];
  if (path.find('/') == std::string::npos) {
    std::istringstream dirs(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    for (std::string d; std::getline(dirs, d, ':');)
      if (::access((d + "/" + path).c_str(), X_OK) == 0) {
        path = d + "/" + path;
        break;
      }
  }
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : envs) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  const int rc = ::posix_spawn(&pid_, path.c_str(), &actions, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn " + path + ": " + std::strerror(rc));
  ::close(err_fd);
}

ChildProcess::~ChildProcess() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  ::unlink(stderr_path_.c_str());
}

void ChildProcess::signal(int signo) {
  if (!status_) ::kill(pid_, signo);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

std::string ChildProcess::stderr_text() const {
  std::ifstream in(stderr_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ChildProcess::wait_for_stderr(const std::string& needle,
                                   std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (stderr_text().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::optional<HttpResult> http_get(int port, const std::string& path) {
  return http_request(port, "GET", path, "");
}

std::optional<HttpResult> http_request(int port, const std::string& method, const std::string& path,
                                       const std::string& body) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10 * slowdown(), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  const std::string req = method + " " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "Content-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    raw.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  std::smatch m;
  if (!std::regex_search(raw, m, std::regex("^HTTP/1\\.1 (\\d{3})"))) return std::nullopt;
  const auto body_at = raw.find("\r\n\r\n");
  return HttpResult{std::stoi(m[1]), body_at == std::string::npos ? "" : raw.substr(body_at + 4)};
}

std::optional<int> served_port(const std::string& text) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("msg=serving .*api=127\\.0\\.0\\.1:(\\d+)")))
    return std::nullopt;
  return std::stoi(m[1]);
}

}  // namespace fulfil::test
