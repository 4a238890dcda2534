#pragma once
// Vocabulary shared by the store's domain: who acted, when, and what can go wrong.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/expected.hpp"

namespace fulfil::agent {

// Who caused a change; recorded on every ledger row, history row and outbox event.
struct Actor {
  enum class Kind { user, terminal, device, cloud, system };
  Kind kind = Kind::system;
  std::string id;
  std::string str() const;  // "terminal:counter-2", "cloud:feed", ...
};

struct CommandContext {
  Actor actor;
  std::int64_t now_ms = 0;  // wall-clock time of the command (injected, for testable SLAs)
};

enum class DomainErrc {
  not_found,           // no such order / SKU / return
  invalid_argument,    // a malformed or out-of-range request
  illegal_transition,  // the order's state does not allow this action
  unknown_sku,         // a SKU or barcode the catalog does not have
  insufficient_stock,  // accepting would reserve more than is available
  duplicate,           // an id that already exists
  wrong_pickup_code,   // the code does not match (the attempt is counted)
  pickup_locked,       // too many wrong codes: a manager must unlock
  claimed,             // another terminal is picking the order
  storage,             // the database failed; nothing was changed
};

std::string_view errc_name(DomainErrc code);

struct DomainError {
  DomainErrc code;
  std::string message;  // for people: says what was wrong and with which order/SKU/line
};

template <class T>
using Result = Expected<T, DomainError>;

inline Unexpected<DomainError> fail(DomainErrc code, std::string message) {
  return {DomainError{code, std::move(message)}};
}

}  // namespace fulfil::agent
