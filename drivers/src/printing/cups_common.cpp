#include "cups_common.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fulfil::drivers::printers {

CupsEndpoint cups_endpoint(const std::string& server) {
  // cupsServer() already splits a port off into ippPort().
  const std::string s = server.empty() ? std::string(cupsServer()) : server;
  if (!s.empty() && s.front() == '/') return {s, 0, s};
  std::string host = s;
  int port = server.empty() ? ippPort() : 631;
  const auto colon = s.rfind(':');
  const auto bracket = s.rfind(']');
  const bool has_port = colon != std::string::npos &&
                        (bracket == std::string::npos ? s.find(':') == colon : colon > bracket);
  if (has_port) {
    host = s.substr(0, colon);
    port = std::atoi(s.c_str() + colon + 1);
  }
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {host, port, s.find(':') != std::string::npos ? s : s + ":" + std::to_string(port)};
}

std::string cups_job_name(const std::string& job_id, const std::string& title) {
  std::string name = "fulfild " + job_id;
  if (!title.empty()) name += " " + title;
  // IPP names are at most 255 octets; cut on a UTF-8 character boundary.
  constexpr std::size_t max = 255;
  if (name.size() > max) {
    std::size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) --end;
    name.resize(end);
  }
  return name;
}

bool cups_job_name_matches(const std::string& name, const std::string& job_id) {
  const std::string prefix = "fulfild " + job_id;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  return name.size() == prefix.size() || name[prefix.size()] == ' ';
}

namespace {

// libcups reports every failed connect as "Host is down"; one plain connect says what it
// really was (refused, no such socket, timed out), which is what an operator needs.
std::string connect_failure(const CupsEndpoint& server, std::chrono::milliseconds timeout) {
  addrinfo* list = nullptr;
  sockaddr_un local{};
  addrinfo unix_ai{};
  if (server.port == 0) {
    local.sun_family = AF_UNIX;
    std::snprintf(local.sun_path, sizeof local.sun_path, "%s", server.host.c_str());
    unix_ai.ai_family = AF_UNIX;
    unix_ai.ai_socktype = SOCK_STREAM;
    unix_ai.ai_addr = reinterpret_cast<sockaddr*>(&local);
    unix_ai.ai_addrlen = sizeof local;
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    const int rc =
        ::getaddrinfo(server.host.c_str(), std::to_string(server.port).c_str(), &hints, &list);
    if (rc != 0) return ::gai_strerror(rc);
  }
  const addrinfo* ai = list ? list : &unix_ai;
  const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
  const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
  const int err = errno;
  ::close(fd);
  if (list) ::freeaddrinfo(list);
  if (rc == 0) return cups_last_error();  // it answers now: report what libcups saw
  return err == EINPROGRESS ? "timed out" : std::strerror(err);
}

}  // namespace

Http cups_connect(const CupsEndpoint& server, std::chrono::milliseconds timeout,
                  std::string* error) {
  Http http(httpConnect2(server.host.c_str(), server.port, nullptr, AF_UNSPEC,
                         HTTP_ENCRYPTION_IF_REQUESTED, 1, static_cast<int>(timeout.count()),
                         nullptr));
  if (!http) {
    *error = "cannot reach CUPS at " + server.label + ": " + connect_failure(server, timeout);
    return nullptr;
  }
  // Without a callback a request that waits longer than this fails instead of hanging.
  httpSetTimeout(http.get(), std::chrono::duration<double>(timeout).count(), nullptr, nullptr);
  return http;
}

std::string cups_last_error() {
  const char* text = cupsLastErrorString();
  std::string s = text && *text ? text : ippErrorString(cupsLastError());
  return s;
}

std::vector<std::string> ipp_strings(ipp_attribute_t* attr, bool drop_none) {
  std::vector<std::string> out;
  for (int i = 0; attr && i < ippGetCount(attr); ++i) {
    const char* s = ippGetString(attr, i, nullptr);
    if (!s || (drop_none && std::strcmp(s, "none") == 0)) continue;
    out.emplace_back(s);
  }
  return out;
}

PrinterState cups_printer_state(int ipp_state, const std::vector<std::string>& reasons) {
  // "offline-report" (the backend says the device does not answer) and "offline-error"
  // mean nothing prints whatever the queue's own state is.
  for (const auto& r : reasons)
    if (r.rfind("offline", 0) == 0) return PrinterState::offline;
  switch (ipp_state) {
    case IPP_PSTATE_IDLE:
      return PrinterState::idle;
    case IPP_PSTATE_PROCESSING:
      return PrinterState::printing;
    case IPP_PSTATE_STOPPED:
      return PrinterState::stopped;
    default:
      return PrinterState::unknown;
  }
}

}  // namespace fulfil::drivers::printers
