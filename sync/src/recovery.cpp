#include "sync/recovery.hpp"

#include <array>
#include <string>

#include <nlohmann/json.hpp>

#include "config/json_input.hpp"

namespace fulfil::sync {
namespace {

// The protocol's error body: {"error": {"code": "...", "message": "..."}}.
std::string error_code(const std::string& body) {
  const auto j = parse_json(body).value_or(nlohmann::json());
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  const auto& code = j["error"]["code"];
  return code.is_string() ? code.get<std::string>() : "";
}

}  // namespace

std::string_view recovery_name(Recovery action) {
  static constexpr std::array<std::string_view, 7> kNames = {
      "proceed", "retry", "halve_batch", "dead_letter", "renumber", "re_enrol", "fatal"};
  static_assert(kNames.size() == static_cast<std::size_t>(Recovery::fatal) + 1);
  return kNames[static_cast<std::size_t>(action)];
}

Recovery classify(const HttpResponse& r, std::size_t batch_size) {
  if (!r.transport_error.empty()) return Recovery::retry;
  if (r.status >= 200 && r.status < 300) return Recovery::proceed;
  if (r.status == 401) return Recovery::re_enrol;
  if (r.status == 426) return Recovery::fatal;
  if (r.status == 409 && batch_size > 0 && error_code(r.body) == "sequence_conflict")
    return Recovery::renumber;
  if (r.status == 408 || r.status == 429 || r.status >= 500 || r.status < 400)
    return Recovery::retry;
  // Another 4xx: the cloud will not take what was sent, however often it is sent.
  if (batch_size > 1) return Recovery::halve_batch;
  if (batch_size == 1) return Recovery::dead_letter;
  return Recovery::retry;
}

}  // namespace fulfil::sync
