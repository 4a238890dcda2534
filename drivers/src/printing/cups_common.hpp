#pragma once
// The printing module's CUPS side (see drivers/printing_module.hpp): the requests to a
// queue, destination discovery, and what they share: a connection of their own to the
// configured server (libcups' default server is per-thread state; an explicit http_t keeps
// worker threads independent), and the mapping of IPP's printer states.
#include <cups/cups.h>

#include <chrono>
#include <memory>
#include <optional>
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

// The name CUPS jobs get: our job id first, so find_job can match it after a crash.
std::string cups_job_name(const std::string& job_id, const std::string& title);
// Whether a CUPS job name is the one cups_job_name gave `job_id` ("PJ-4" is not "PJ-42").
bool cups_job_name_matches(const std::string& name, const std::string& job_id);

// The requests behind PrintingModule's cups_* calls (cups_requests.cpp,
// cups_destinations.cpp).
SubmitResult cups_submit(const PrinterConfig& c, const PrintRequest& request);
ExternalJob cups_job_state(const PrinterConfig& c, int id);
std::optional<int> cups_find_job(const PrinterConfig& c, const std::string& job_id);
PrinterStatus cups_status(const PrinterConfig& c);
std::vector<CupsDestination> list_cups_destinations(const std::string& server, std::string* error);

}  // namespace fulfil::drivers::printers
