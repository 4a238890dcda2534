#pragma once
// Well-formed UTF-8 (RFC 3629), shared by everything that checks or cleans text from
// outside: the domain refuses text that is not UTF-8, printed fields replace what is not.
#include <cstddef>
#include <string_view>

namespace fulfil::config {

// The length of the well-formed UTF-8 sequence starting at text[i] (1 to 4), or 0 when
// there is none: a stray continuation byte, a cut sequence, an overlong form, a surrogate
// or a code point above U+10FFFF.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

bool well_formed_utf8(std::string_view text);

}  // namespace fulfil::config
