#pragma once
// The cloud protocol's wire form that both ends share (the cloud link and the reference
// cloud simulator): its version, and gzip bodies.
#include <cstddef>
#include <string>
#include <string_view>

#include "config/expected.hpp"

namespace fulfil::sync {

inline constexpr int kProtocolVersion = 1;

struct CodecError {
  std::string message;
};

Expected<std::string, CodecError> gzip(std::string_view plain);
// Refuses output larger than `max_bytes`: a small hostile body must not inflate into
// gigabytes.
Expected<std::string, CodecError> gunzip(std::string_view compressed, std::size_t max_bytes);

}  // namespace fulfil::sync
