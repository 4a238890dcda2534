#pragma once
// Internal to agent/: hex text and SHA-256 digests, for the secrets kept only as hashes
// (terminals) and for telling a retried request from a different one (till transactions).
#include <cstddef>
#include <string>
#include <string_view>

namespace fulfil::agent {

std::string hex(const unsigned char* data, std::size_t n);
std::string sha256_hex(std::string_view text);

}  // namespace fulfil::agent
