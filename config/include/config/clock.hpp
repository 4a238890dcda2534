#pragma once
// Wall-clock time and fresh identifiers, for every layer (the domain injects the time into
// its commands; the cloud simulator and the cloud link stamp their messages).
#include <cstdint>
#include <string>

namespace fulfil::config {

// Milliseconds since the Unix epoch.
std::int64_t now_ms();

// A random (version 4) UUID, lower-case with dashes.
std::string new_uuid();

}  // namespace fulfil::config
