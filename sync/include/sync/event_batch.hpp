#pragma once
// The events a store sends to the cloud, as the protocol's JSON batch (sync/wire.hpp
// compresses it).
#include <string>
#include <vector>

#include "domain/outbox.hpp"
#include "sync/wire.hpp"

namespace fulfil::sync {

// The JSON text of a batch. Payloads are stored as JSON text and spliced in as they are.
std::string batch_body(const std::string& store_id, const std::vector<agent::OutboxEvent>& events);

}  // namespace fulfil::sync
