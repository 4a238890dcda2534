#pragma once
// What the cloud link does about the answer to a request, decided in one place: callers
// switch on the action, never on HTTP codes.
#include <cstddef>
#include <string_view>

#include "sync/http_client.hpp"

namespace fulfil::sync {

enum class Recovery {
  proceed,      // 2xx: use the answer
  retry,        // the network or the cloud failed (transport, 408, 429, 5xx): again, after backoff
  halve_batch,  // the cloud refuses a batch as such (another 4xx): halve it to find the event
  dead_letter,  // the cloud refuses a single event: set it aside with the cloud's reason
  renumber,     // 409 sequence_conflict: the cloud holds other numbers; renumber and resend
  re_enrol,     // 401: the device credential was refused; syncing waits for a new one
  fatal,        // 426: the cloud does not speak this protocol version; nothing is given up
};

std::string_view recovery_name(Recovery action);

// `batch_size`: the events a request carried (0: not an upload). A request that carries
// no events is retried where an upload would be halved or dead-lettered: there is nothing
// to set aside.
Recovery classify(const HttpResponse& response, std::size_t batch_size = 0);

}  // namespace fulfil::sync
