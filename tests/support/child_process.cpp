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
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace fulfil::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A path in PATH for a bare program name (posix_spawn, unlike posix_spawnp, needs one).
std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');)
    if (::access((d + "/" + program).c_str(), X_OK) == 0) return d + "/" + program;
  return program;
}

}  // namespace

std::string built_program(const std::string& relative) {
  const char* dir = std::getenv("FULFIL_BIN_DIR");
  return std::string(dir && *dir ? dir : ".") + "/" + relative;
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
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = tmpl;
  path_ = dir_ + "/notify.sock";
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string why = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("notify socket " + path_ + ": " + why);
  }
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::optional<std::string> NotifySocket::receive(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  const int ms = timeout.count() < 0 ? 0 : static_cast<int>(timeout.count());
  if (::poll(&p, 1, ms) <= 0) return std::nullopt;
  char buf[4096];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n < 0) return std::nullopt;
  std::string msg(buf, static_cast<std::size_t>(n));
  log_ += msg + "\n--\n";
  return msg;
}

std::optional<std::string> NotifySocket::wait_for(const std::string& needle,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto now = std::chrono::steady_clock::now(); now < deadline;
       now = std::chrono::steady_clock::now()) {
    auto msg = receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    if (msg && msg->find(needle) != std::string::npos) return msg;
  }
  return std::nullopt;
}

std::string NotifySocket::received() const {
  return log_;
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env, bool emulate) {
  char out_tmpl[] = "/tmp/fulfil-child-out-XXXXXX";
  char err_tmpl[] = "/tmp/fulfil-child-err-XXXXXX";
  const int out_fd = ::mkstemp(out_tmpl);
  const int err_fd = ::mkstemp(err_tmpl);
  if (out_fd >= 0) stdout_path_ = out_tmpl;
  if (err_fd >= 0) stderr_path_ = err_tmpl;
  auto give_up = [&](const std::string& why) {
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    ::unlink(stdout_path_.c_str());
    ::unlink(stderr_path_.c_str());
    throw std::runtime_error(why);
  };
  if (out_fd < 0 || err_fd < 0) give_up("mkstemp: " + std::string(std::strerror(errno)));

  std::vector<std::string> argv;
  if (emulate) argv = emulator_prefix();
  argv.push_back(program);
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (!env.count(kv.substr(0, kv.find('=')))) envs.push_back(kv);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : envs) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  // posix_spawn rather than fork+exec: under qemu-user a forked child of the emulated
  // test hangs before it can exec, while posix_spawn works there and natively.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  const std::string path = resolve(argv[0]);
  const int rc = ::posix_spawn(&pid_, path.c_str(), &actions, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) give_up("posix_spawn " + path + ": " + std::strerror(rc));
  ::close(out_fd);
  ::close(err_fd);
}

std::vector<std::string> emulator_prefix() {
  std::vector<std::string> out;
  if (!emulated()) return out;
  std::istringstream words(std::getenv("FULFIL_EMULATOR"));
  for (std::string w; words >> w;) out.push_back(w);
  return out;
}

ChildProcess::~ChildProcess() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  ::unlink(stdout_path_.c_str());
  ::unlink(stderr_path_.c_str());
}

void ChildProcess::signal(int signo) {
  // Only while not yet reaped: after that the pid may belong to someone else.
  if (!status_) ::kill(pid_, signo);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string ChildProcess::stdout_text() const {
  return read_file(stdout_path_);
}

std::string ChildProcess::stderr_text() const {
  return read_file(stderr_path_);
}

bool ChildProcess::wait_for_stderr(const std::string& needle,
                                   std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (stderr_text().find(needle) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<HttpResult> http_get(int port, const std::string& path) {
  return http_request(port, "GET", path, "");
}

std::optional<HttpResult> http_request(int port, const std::string& method, const std::string& path,
                                       const std::string& body,
                                       const std::vector<std::string>& headers) {
  std::string head = method + " " + path +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n";
  for (const auto& h : headers) head += h + "\r\n";
  return http_raw(port, head + "\r\n" + body);
}

std::optional<HttpResult> http_raw(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10 * slowdown(), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  // The server may answer (and close) before it has read everything, as it does for a
  // request that is too large: what it said still counts.
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    raw.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  std::smatch m;
  const auto body_at = raw.find("\r\n\r\n");
  if (body_at == std::string::npos ||
      !std::regex_search(raw, m, std::regex("^HTTP/1\\.1 (\\d{3}) ")))
    return std::nullopt;
  return HttpResult{std::stoi(m[1]), raw.substr(0, body_at), raw.substr(body_at + 4)};
}

std::optional<int> served_port(const std::string& text) {
  std::smatch m;
  if (!std::regex_search(text, m,
                         std::regex("msg=serving .*api=(?:127\\.0\\.0\\.1|0\\.0\\.0\\.0):(\\d+)")))
    return std::nullopt;
  return std::stoi(m[1]);
}

std::optional<int> notified_port(const std::string& datagram) {
  std::smatch m;
  if (!std::regex_search(datagram, m, std::regex("STATUS=serving store \\S+ on port (\\d+)")))
    return std::nullopt;
  return std::stoi(m[1]);
}

std::vector<std::string> listening_addresses(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator(proc + "/fd", ec)) {
    const auto target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::vector<std::string> out;
  for (const char* table : {"/net/tcp", "/net/tcp6"}) {
    std::ifstream in(proc + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      std::istringstream f(line);
      std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (st != "0A" || !inodes.count(inode)) continue;  // 0A: LISTEN
      const auto colon = local.find(':');
      const std::string hex = local.substr(0, colon);
      const int port = std::stoi(local.substr(colon + 1), nullptr, 16);
      // The address is printed as 32-bit words in host byte order.
      unsigned char bytes[16];
      for (std::size_t w = 0; w < hex.size() / 8; ++w) {
        const auto word = static_cast<std::uint32_t>(std::stoul(hex.substr(w * 8, 8), nullptr, 16));
        std::memcpy(bytes + w * 4, &word, 4);
      }
      char text[INET6_ADDRSTRLEN] = "?";
      if (hex.size() == 8) {
        ::inet_ntop(AF_INET, bytes, text, sizeof text);
        out.push_back(std::string(text) + ":" + std::to_string(port));
      } else {
        ::inet_ntop(AF_INET6, bytes, text, sizeof text);
        out.push_back("[" + std::string(text) + "]:" + std::to_string(port));
      }
    }
  }
  return out;
}

}  // namespace fulfil::test
