#include "config/clock.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace fulfil::config {
namespace {
std::optional<std::mt19937_64> seeded_uuids;
}  // namespace

void seed_uuids_for_testing(std::optional<std::uint64_t> seed) {
  seeded_uuids.reset();
  if (seed) seeded_uuids.emplace(*seed);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

void random_bytes(unsigned char (&b)[16]) {
  if (seeded_uuids) {
    for (auto& byte : b) byte = static_cast<unsigned char>((*seeded_uuids)());
  } else if (RAND_bytes(b, sizeof b) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
}

std::string formatted(unsigned char (&b)[16], unsigned version) {
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | (version << 4));
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 9562 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

}  // namespace

std::string new_uuid() {
  unsigned char b[16];
  random_bytes(b);
  return formatted(b, 4);
}

std::string new_time_ordered_uuid(std::int64_t unix_ms) {
  unsigned char b[16];
  random_bytes(b);
  for (int i = 0; i < 6; ++i)
    b[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(unix_ms) >> (40 - 8 * i));
  return formatted(b, 7);
}

}  // namespace fulfil::config
