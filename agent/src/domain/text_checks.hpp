#pragma once
// Internal to agent/: checks on text that came from a person or the cloud before it is
// stored (names, reasons, references), shared by every command that takes such text.
#include <cstddef>
#include <string_view>

#include "domain/domain.hpp"

namespace fulfil::agent {

// Text that came from a person or the cloud: non-empty (if required), bounded, and free of
// control characters that could corrupt logs, documents or terminals.
Result<void> check_text(std::string_view field, std::string_view value, std::size_t max_len,
                        bool required);

}  // namespace fulfil::agent
