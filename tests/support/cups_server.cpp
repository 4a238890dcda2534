#include "cups_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace fulfil::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("CupsServer: " + what);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) fail("cannot write " + path);
}

// A port nothing listens on now. Another process could take it before cupsd does; the
// scheduler then fails to start and the test says so.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    fail("no free port");
  ::close(fd);
  return ntohs(a.sin_port);
}

bool answers(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string program(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"})
    if (::access((dir + name).c_str(), X_OK) == 0) return dir + name;
  return name;
}

// Runs a program to completion with its output in `log`; its exit status.
int run(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail("cannot run " + args[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// ServerBin: the system's backends, filters and helpers by symlink, plus the test backend.
void make_server_bin(const fs::path& bin, const std::string& test_backend) {
  const fs::path system = "/usr/lib/cups";
  fs::create_directories(bin / "backend");
  for (const auto& e : fs::directory_iterator(system)) {
    if (e.path().filename() == "backend") continue;
    fs::create_symlink(e.path(), bin / e.path().filename());
  }
  for (const auto& e : fs::directory_iterator(system / "backend"))
    fs::create_symlink(e.path(), bin / "backend" / e.path().filename());
  if (test_backend.empty()) return;
  // A copy, not a link: cupsd runs only backends owned by root and not writable by others,
  // and mode 0700 makes it run this one as root.
  const fs::path installed = bin / "backend" / "fulfiltest";
  fs::copy_file(test_backend, installed);
  fs::permissions(installed, fs::perms::owner_all);
}

}  // namespace

std::string CupsServer::default_test_backend() {
#ifdef FULFIL_CUPS_TEST_BACKEND
  return FULFIL_CUPS_TEST_BACKEND;
#else
  return "";
#endif
}

CupsServer::CupsServer(std::string test_backend) {
  char tmpl[] = "/tmp/fulfil-cups-XXXXXX";
  if (!::mkdtemp(tmpl)) fail(std::string("mkdtemp: ") + std::strerror(errno));
  root_ = tmpl;
  try {
    // Backends run as "lp" and read spooled files from inside this directory.
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    for (const char* d : {"spool", "spool/tmp", "cache", "state", "log"})
      fs::create_directories(fs::path(root_) / d);
    make_server_bin(fs::path(root_) / "bin", test_backend);
    port_ = free_port();
    write_config();
    start();
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
    throw;
  }
}

CupsServer::~CupsServer() {
  stop();
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

std::string CupsServer::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void CupsServer::write_config() const {
  // Everything open to everyone: without the policy block lpadmin over TCP is refused.
  write_text(root_ + "/cupsd.conf", "Listen 127.0.0.1:" + std::to_string(port_) +
                                        "\n"
                                        "Listen " +
                                        socket_path() +
                                        "\n"
                                        "LogLevel info\n"
                                        "Browsing No\n"
                                        "WebInterface No\n"
                                        "DefaultAuthType None\n"
                                        "<Location />\n"
                                        "  Order allow,deny\n"
                                        "  Allow all\n"
                                        "</Location>\n"
                                        "<Policy default>\n"
                                        "  <Limit All>\n"
                                        "    AuthType None\n"
                                        "    Order deny,allow\n"
                                        "  </Limit>\n"
                                        "</Policy>\n");
  // Printcap names a file of the test's own: a bare "Printcap" (no file) was accepted until
  // cups 2.4.2-3+deb12u11, which refuses it ("Missing value for Printcap").
  write_text(root_ + "/cups-files.conf",
             "ServerRoot " + root_ + "\nServerBin " + root_ + "/bin\nRequestRoot " + root_ +
                 "/spool\nTempDir " + root_ + "/spool/tmp\nCacheDir " + root_ +
                 "/cache\nStateDir " + root_ + "/state\nErrorLog " + root_ +
                 "/log/error_log\nAccessLog " + root_ + "/log/access_log\nPageLog " + root_ +
                 "/log/page_log\nFileDevice Yes\nPrintcap " + root_ +
                 "/printcap\n"
                 "SystemGroup root\n");
}

void CupsServer::start() {
  if (pid_ > 0) return;
  const std::string cupsd = program("cupsd");
  const std::string conf = root_ + "/cupsd.conf";
  const std::string files = root_ + "/cups-files.conf";
  const std::string out = root_ + "/log/cupsd.out";
  const char* argv[] = {cupsd.c_str(), "-f", "-c", conf.c_str(), "-s", files.c_str(), nullptr};
  const pid_t parent = ::getpid();
  // fork rather than posix_spawn for PR_SET_PDEATHSIG. Only async-signal-safe calls follow.
  const pid_t pid = ::fork();
  if (pid < 0) fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so stop() can end the backends it leaves
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  pid_ = pid;
  wait_until_ready();
}

void CupsServer::wait_until_ready() {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!answers(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      fail("cupsd exited at start: " + read_text(root_ + "/log/cupsd.out") + error_log());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      fail("cupsd does not answer on " + address() + ": " + error_log());
    }
    std::this_thread::sleep_for(20ms);
  }
}

// Whether `pid` has exited, leaving it unreaped so its id cannot be reused yet.
static bool exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
         info.si_pid == pid;
}

void CupsServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);  // cupsd saves its state and stops its jobs' processes
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!exited(pid_)) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  ::kill(-pid_, SIGKILL);  // anything left in its process group (still ours: not reaped)
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void CupsServer::add_queue(const std::string& name, const std::string& device_uri) {
  const std::string log = root_ + "/log/lpadmin.out";
  const int rc = run(
      {program("lpadmin"), "-h", address(), "-p", name, "-E", "-v", device_uri, "-m", "raw"}, log);
  // lpadmin warns that raw queues are deprecated (CUPS 2.4 still has them).
  if (rc != 0) fail("lpadmin -p " + name + " failed: " + read_text(log));
}

std::string CupsServer::error_log() const {
  return read_text(root_ + "/log/error_log");
}

}  // namespace fulfil::test
