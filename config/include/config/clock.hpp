#pragma once
// Wall-clock time and fresh identifiers, for every layer (the domain injects the time into
// its commands; the cloud simulator and the cloud link stamp their messages).
#include <cstdint>
#include <optional>
#include <string>

namespace fulfil::config {

// Milliseconds since the Unix epoch.
std::int64_t now_ms();

// A random (version 4) UUID, lower-case with dashes.
std::string new_uuid();

// A time-ordered (version 7) UUID: its first 48 bits are `unix_ms`. Keys made in time
// order land on the last page of their index, so a run of inserts writes that one page
// again instead of a random page each (what wears an SD card).
std::string new_time_ordered_uuid(std::int64_t unix_ms);

// Tests that must replay a run exactly make the UUIDs a seeded sequence: random keys shape
// SQLite's indexes, and with them how many writes a commit makes (the power-loss test cuts
// at the Nth). Production never calls it; nothing (the default) restores real randomness.
// Not thread-safe: call it while nothing else makes UUIDs.
void seed_uuids_for_testing(std::optional<std::uint64_t> seed);

}  // namespace fulfil::config
