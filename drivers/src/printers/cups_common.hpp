#pragma once
// What the CUPS printer and destination discovery share: a connection of their own to the
// configured server (libcups' default server is per-thread state; an explicit http_t keeps
// worker threads independent), and the mapping of IPP's printer states.
#include <cups/cups.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "drivers/printer.hpp"

namespace fulfil::drivers::printers {

struct HttpClose {
  void operator()(http_t* http) const { httpClose(http); }
};
using Http = std::unique_ptr<http_t, HttpClose>;

struct IppDelete {
  void operator()(ipp_t* ipp) const { ippDelete(ipp); }
};
using Ipp = std::unique_ptr<ipp_t, IppDelete>;

// "host", "host:port", "[v6]:port" or a socket path; empty means libcups' default.
struct CupsEndpoint {
  std::string host;
  int port = 0;
  std::string label;  // for messages: "127.0.0.1:631", "/run/cups/cups.sock"
};
CupsEndpoint cups_endpoint(const std::string& server);

// A blocking connection with `timeout` on connecting and on each request. On failure
// null, and `error` says why.
Http cups_connect(const CupsEndpoint& server, std::chrono::milliseconds timeout,
                  std::string* error);

// The last IPP error on this thread, in words.
std::string cups_last_error();

// printer-state and printer-state-reasons (without "none") as a PrinterState: CUPS' own
// state, except that an offline reason makes it offline.
PrinterState cups_printer_state(int ipp_state, const std::vector<std::string>& reasons);
std::vector<std::string> ipp_strings(ipp_attribute_t* attr, bool drop_none);

}  // namespace fulfil::drivers::printers
