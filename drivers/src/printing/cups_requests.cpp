// Requests to a queue of a CUPS server through libcups, in the printing module. Each blocks
// on a connection of its own (the daemon runs them on its worker pool: cups_printer.cpp).
#include <cups/cups.h>

#include <algorithm>

#include "cups_common.hpp"

namespace fulfil::drivers::printers {
namespace {

// A CUPS job is reported as submitted once the server has the whole document; from then
// on the job id is what the print queue tracks.
SubmitResult submit_failure(bool retryable, std::string error) {
  SubmitResult r;
  r.retryable = retryable;
  r.error = std::move(error);
  return r;
}

// Whether trying again later may help: the server or the queue being unavailable is
// temporary; a queue that does not exist or a document the queue refuses is not.
SubmitResult ipp_failure(ipp_status_t status, const PrinterConfig& c, PrinterLanguage format,
                         const std::string& what) {
  const std::string queue = "CUPS queue \"" + c.cups_queue + "\"";
  const std::string why = cups_last_error();
  switch (status) {
    case IPP_STATUS_ERROR_NOT_FOUND:
      return submit_failure(
          false, "no " + queue + " on " + cups_endpoint(c.cups_server).label + " (" + why + ")");
    case IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED:
      return submit_failure(false, queue + " does not take " +
                                       std::string(format == PrinterLanguage::pdf ? "pdf" : "zpl") +
                                       " (" + why + ")");
    case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
      return submit_failure(true, queue + " is not accepting jobs (" + why + ")");
    default:
      break;
  }
  // Other client errors (forbidden, not authorized, bad attributes) and CUPS' own
  // authentication failures need someone to change the configuration; server errors and
  // lost connections (libcups reports those as server errors) may pass.
  const bool client_error =
      (status >= IPP_STATUS_ERROR_BAD_REQUEST && status < IPP_STATUS_ERROR_INTERNAL) ||
      status >= IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED;
  return submit_failure(!client_error, what + " on " + queue + ": " + why);
}

// Create-Job by hand: libcups' cupsCreateJob first looks the queue up as a destination,
// through the default server rather than this connection.
int create_job(http_t* http, const PrinterConfig& c, const PrintRequest& request) {
  ipp_t* ipp = ippNewRequest(IPP_OP_CREATE_JOB);
  char uri[HTTP_MAX_URI];
  httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof uri, "ipp", nullptr, "localhost", 631,
                   "/printers/%s", c.cups_queue.c_str());
  ippAddString(ipp, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri);
  ippAddString(ipp, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, cupsUser());
  const std::string name = cups_job_name(request.job_id, request.title);
  ippAddString(ipp, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, name.c_str());
  if (request.copies > 1)
    ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", request.copies);
  Ipp response(cupsDoRequest(http, ipp, "/"));
  if (!response || cupsLastError() > IPP_STATUS_OK_CONFLICTING) return 0;
  ipp_attribute_t* id = ippFindAttribute(response.get(), "job-id", IPP_TAG_INTEGER);
  return id ? ippGetInteger(id, 0) : 0;
}

}  // namespace

SubmitResult cups_submit(const PrinterConfig& c, const PrintRequest& request) {
  std::string error;
  Http http = cups_connect(cups_endpoint(c.cups_server), c.timeout, &error);
  if (!http) return submit_failure(true, error);

  const int job_id = create_job(http.get(), c, request);
  if (job_id <= 0) return ipp_failure(cupsLastError(), c, request.format, "cannot create a job");

  // ZPL goes to the printer as it is; PDF is for queues whose filters handle it.
  const char* format = request.format == PrinterLanguage::pdf ? CUPS_FORMAT_PDF : CUPS_FORMAT_RAW;
  const auto& doc = request.document;
  const bool started = cupsStartDocument(http.get(), c.cups_queue.c_str(), job_id,
                                         request.job_id.c_str(), format, 1) == HTTP_STATUS_CONTINUE;
  const bool written =
      started && cupsWriteRequestData(http.get(), doc.data(), doc.size()) == HTTP_STATUS_CONTINUE;
  // After a refused start there is no response to wait for; after a failed write there is.
  const ipp_status_t status =
      started ? cupsFinishDocument(http.get(), c.cups_queue.c_str()) : cupsLastError();
  if (!written || status > IPP_STATUS_OK_CONFLICTING) {
    SubmitResult r = ipp_failure(status == IPP_STATUS_OK ? cupsLastError() : status, c,
                                 request.format, "cannot send the document");
    // A job without its document would sit on the server; retrying makes a new one.
    cupsCancelJob2(http.get(), c.cups_queue.c_str(), job_id, 1);
    return r;
  }
  SubmitResult r;
  r.ok = true;
  r.external_id = job_id;
  return r;
}

namespace {

ExternalJobState job_state_from(int ipp_state) {
  switch (ipp_state) {
    case IPP_JSTATE_PENDING:
    case IPP_JSTATE_HELD:
      return ExternalJobState::pending;
    case IPP_JSTATE_PROCESSING:
      return ExternalJobState::processing;
    case IPP_JSTATE_STOPPED:
      return ExternalJobState::stopped;
    case IPP_JSTATE_CANCELED:
      return ExternalJobState::cancelled;
    case IPP_JSTATE_ABORTED:
      return ExternalJobState::aborted;
    case IPP_JSTATE_COMPLETED:
      return ExternalJobState::completed;
    default:
      return ExternalJobState::unknown;
  }
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

// Unknown states carry why in `reasons`: the server cannot be reached, or it no longer
// has the job (its history was purged).
ExternalJob cups_job_state(const PrinterConfig& c, int id) {
  std::string error;
  Http http = cups_connect(cups_endpoint(c.cups_server), c.timeout, &error);
  if (!http) return {ExternalJobState::unknown, error};

  ipp_t* request = ippNewRequest(IPP_OP_GET_JOB_ATTRIBUTES);
  char uri[HTTP_MAX_URI];
  httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof uri, "ipp", nullptr, "localhost", 631,
                   "/jobs/%d", id);
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "job-uri", nullptr, uri);
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr,
               cupsUser());
  static const char* const wanted[] = {"job-state", "job-state-reasons"};
  ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 2, nullptr,
                wanted);
  Ipp response(cupsDoRequest(http.get(), request, "/"));
  if (cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND)
    return {ExternalJobState::unknown, "job " + std::to_string(id) + " not found on the server"};
  if (!response || cupsLastError() > IPP_STATUS_OK_CONFLICTING)
    return {ExternalJobState::unknown, "Get-Job-Attributes: " + cups_last_error()};
  ipp_attribute_t* state = ippFindAttribute(response.get(), "job-state", IPP_TAG_ENUM);
  ipp_attribute_t* reasons = ippFindAttribute(response.get(), "job-state-reasons", IPP_TAG_ZERO);
  return {job_state_from(state ? ippGetInteger(state, 0) : 0), joined(ipp_strings(reasons, true))};
}

// The newest job on the queue whose name carries `job_id` (any state: a completed job
// must not be printed again either).
std::optional<int> cups_find_job(const PrinterConfig& c, const std::string& job_id) {
  std::string error;
  Http http = cups_connect(cups_endpoint(c.cups_server), c.timeout, &error);
  if (!http) return std::nullopt;
  cups_job_t* jobs = nullptr;
  const int n = cupsGetJobs2(http.get(), &jobs, c.cups_queue.c_str(), 0, CUPS_WHICHJOBS_ALL);
  std::optional<int> found;
  for (int i = 0; i < n; ++i) {
    if (jobs[i].title && cups_job_name_matches(jobs[i].title, job_id))
      found = std::max(found.value_or(0), jobs[i].id);
  }
  cupsFreeJobs(n, jobs);
  return found;
}

PrinterStatus cups_status(const PrinterConfig& c) {
  PrinterStatus s;
  s.id = c.id;
  s.kind = PrinterKind::cups;
  std::string error;
  Http http = cups_connect(cups_endpoint(c.cups_server), c.timeout, &error);
  if (!http) {
    s.state = PrinterState::offline;
    s.detail = error;
    return s;
  }
  ipp_t* request = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
  char uri[HTTP_MAX_URI];
  httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof uri, "ipp", nullptr, "localhost", 631,
                   "/printers/%s", c.cups_queue.c_str());
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri);
  static const char* const wanted[] = {"printer-state", "printer-state-reasons",
                                       "printer-state-message", "printer-is-accepting-jobs"};
  ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 4, nullptr,
                wanted);
  Ipp response(cupsDoRequest(http.get(), request, "/"));
  if (!response || cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
    s.detail =
        cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND
            ? "no CUPS queue \"" + c.cups_queue + "\" on " + cups_endpoint(c.cups_server).label
            : "Get-Printer-Attributes: " + cups_last_error();
    return s;
  }
  ipp_attribute_t* state = ippFindAttribute(response.get(), "printer-state", IPP_TAG_ENUM);
  s.reasons =
      ipp_strings(ippFindAttribute(response.get(), "printer-state-reasons", IPP_TAG_KEYWORD), true);
  s.state = cups_printer_state(state ? ippGetInteger(state, 0) : 0, s.reasons);
  if (ipp_attribute_t* m =
          ippFindAttribute(response.get(), "printer-state-message", IPP_TAG_TEXT)) {
    if (const char* text = ippGetString(m, 0, nullptr)) s.detail = text;
  }
  ipp_attribute_t* accepting =
      ippFindAttribute(response.get(), "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
  if (accepting && !ippGetBoolean(accepting, 0))
    s.detail += std::string(s.detail.empty() ? "" : "; ") + "not accepting jobs";
  return s;
}

}  // namespace fulfil::drivers::printers
