// The queues a CUPS server offers, for `fulfilctl printers`: one CUPS-Get-Printers request
// on a connection of our own (cupsGetDests would also mix in lpoptions instances and, for
// the default server, printers found on the network).
#include <cstring>

#include "cups_common.hpp"

namespace fulfil::drivers::printers {
namespace {

std::string text_of(ipp_attribute_t* attr) {
  const char* s = ippGetString(attr, 0, nullptr);
  return s ? s : "";
}

// Reads one printer group of the response, leaving `attr` at the attribute after it.
CupsDestination read_destination(ipp_t* response, ipp_attribute_t*& attr) {
  CupsDestination d;
  int state = 0;
  for (; attr && ippGetGroupTag(attr) == IPP_TAG_PRINTER; attr = ippNextAttribute(response)) {
    const char* name = ippGetName(attr);
    if (!name) break;
    if (!std::strcmp(name, "printer-name"))
      d.name = text_of(attr);
    else if (!std::strcmp(name, "printer-info"))
      d.info = text_of(attr);
    else if (!std::strcmp(name, "printer-make-and-model"))
      d.make_and_model = text_of(attr);
    else if (!std::strcmp(name, "device-uri"))
      d.device_uri = text_of(attr);
    else if (!std::strcmp(name, "printer-state"))
      state = ippGetInteger(attr, 0);
    else if (!std::strcmp(name, "printer-state-reasons"))
      d.reasons = ipp_strings(attr, true);
    else if (!std::strcmp(name, "printer-type"))
      d.is_default = (ippGetInteger(attr, 0) & CUPS_PRINTER_DEFAULT) != 0;
  }
  d.state = cups_printer_state(state, d.reasons);
  return d;
}

}  // namespace

std::vector<CupsDestination> list_cups_destinations(const std::string& server, std::string* error) {
  if (error) error->clear();
  std::string why;
  std::vector<CupsDestination> out;
  const CupsEndpoint endpoint = cups_endpoint(server);
  Http http = cups_connect(endpoint, std::chrono::seconds(15), &why);
  if (http) {
    ipp_t* request = ippNewRequest(IPP_OP_CUPS_GET_PRINTERS);
    static const char* const wanted[] = {"printer-name", "printer-info",  "printer-make-and-model",
                                         "device-uri",   "printer-state", "printer-state-reasons",
                                         "printer-type"};
    ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                  static_cast<int>(std::size(wanted)), nullptr, wanted);
    Ipp response(cupsDoRequest(http.get(), request, "/"));
    // A server without queues answers not-found.
    if (cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND) return out;
    if (!response || cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
      why = "CUPS-Get-Printers on " + endpoint.label + ": " + cups_last_error();
    } else {
      for (ipp_attribute_t* attr = ippFirstAttribute(response.get()); attr;) {
        if (ippGetGroupTag(attr) != IPP_TAG_PRINTER) {
          attr = ippNextAttribute(response.get());
          continue;
        }
        CupsDestination d = read_destination(response.get(), attr);
        if (!d.name.empty()) out.push_back(std::move(d));
        if (attr) attr = ippNextAttribute(response.get());
      }
    }
  }
  if (error) *error = why;
  if (!why.empty()) out.clear();
  return out;
}

}  // namespace fulfil::drivers::printers
