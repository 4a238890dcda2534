#pragma once
// The wire form of events sent to the cloud: a JSON batch, gzip-compressed. Shared by the
// agent's uploader and the reference cloud simulator so both speak the same bytes.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/expected.hpp"
#include "domain/outbox.hpp"

namespace fulfil::sync {

inline constexpr int kProtocolVersion = 1;

struct CodecError {
  std::string message;
};

// The JSON text of a batch. Payloads are stored as JSON text and spliced in as they are.
std::string batch_body(const std::string& store_id, const std::vector<agent::OutboxEvent>& events);

Expected<std::string, CodecError> gzip(std::string_view plain);
// Refuses output larger than `max_bytes`: a small hostile body must not inflate into
// gigabytes.
Expected<std::string, CodecError> gunzip(std::string_view compressed, std::size_t max_bytes);

}  // namespace fulfil::sync
