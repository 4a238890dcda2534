#include "loopback.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fulfil::test {

LoopbackPort::LoopbackPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot bind a port on 127.0.0.1");
  port_ = ntohs(a.sin_port);
}

LoopbackPort::~LoopbackPort() {
  ::close(fd_);
}

void LoopbackPort::listen() {
  if (::listen(fd_, 16) != 0) throw std::runtime_error("cannot listen on 127.0.0.1");
}

int LoopbackPort::accept(std::chrono::milliseconds timeout) const {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
  return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
}

LoopbackPrinter::LoopbackPrinter(Options options) : options_(std::move(options)) {
  ::fcntl(socket_.fd(), F_SETFL, ::fcntl(socket_.fd(), F_GETFL) | O_NONBLOCK);
  if (!options_.offline) open();
  thread_ = std::thread([this] { serve(); });
}

LoopbackPrinter::~LoopbackPrinter() {
  stop_ = true;
  thread_.join();
}

void LoopbackPrinter::open() {
  socket_.listen();
  listening_ = true;
}

std::vector<std::string> LoopbackPrinter::connections() const {
  std::lock_guard lock(mutex_);
  return done_;
}

std::string LoopbackPrinter::received() const {
  std::string all;
  for (const auto& c : connections()) all += c;
  return all;
}

bool LoopbackPrinter::idle() const {
  std::lock_guard lock(mutex_);
  pollfd p{socket_.fd(), POLLIN, 0};
  const bool waiting = listening_ && ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
  return !waiting && open_count_ == 0;
}

std::vector<std::string> LoopbackPrinter::documents() const {
  std::vector<std::string> out;
  for (const auto& c : connections())
    if (c != "~HS\r\n" && !c.empty()) out.push_back(c);
  return out;
}

std::string LoopbackPrinter::summary() const {
  std::ostringstream s;
  for (const auto& c : documents()) s << "[" << c.size() << " bytes: " << c.substr(0, 40) << "]";
  return s.str();
}

void LoopbackPrinter::serve() {
  struct Connection {
    std::string bytes;
    bool replied = false;
  };
  std::map<int, Connection> open;
  std::vector<int> held;  // keep_open: connections the peer closed, left open on this side
  while (!stop_) {
    // A socket that does not listen yet is not polled: it would report a hang-up at once.
    std::vector<pollfd> fds{{listening_ ? socket_.fd() : -1, POLLIN, 0}};
    for (const auto& entry : open) fds.push_back({entry.first, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      std::lock_guard lock(mutex_);  // idle() sees a connection pending or counted, never neither
      for (int c;
           (c = ::accept4(socket_.fd(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;) {
        open[c];
        ++open_count_;
      }
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      const int c = fds[i].fd;
      Connection& conn = open[c];
      char buf[8192];
      ssize_t n = 0;
      while ((n = ::read(c, buf, sizeof buf)) > 0) conn.bytes.append(buf, static_cast<size_t>(n));
      if (!options_.reply.empty() && !conn.replied && !conn.bytes.empty())
        conn.replied = ::write(c, options_.reply.data(), options_.reply.size()) ==
                       static_cast<ssize_t>(options_.reply.size());
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        if (options_.keep_open)
          held.push_back(c);
        else
          ::close(c);
        std::lock_guard lock(mutex_);
        done_.push_back(std::move(conn.bytes));
        open.erase(c);
        --open_count_;
      }
    }
  }
  for (const auto& entry : open) ::close(entry.first);
  for (int c : held) ::close(c);
  open_count_ = 0;
}

}  // namespace fulfil::test
