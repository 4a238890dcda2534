#pragma once
// JSON that comes from outside the process — request bodies, WebSocket messages, feed
// pages and acknowledgements, configuration files and signed remote configurations — is
// read only through parse_json.
//
// nlohmann's parser is iterative, but copying, comparing and printing a document recurse:
// a 200 KB body nested 100,000 levels deep parsed fine and then overflowed the stack when a
// route copied one of its arrays. So nesting is bounded while parsing, before anything
// else sees the document. Every failure — bad syntax, invalid UTF-8, a number out of range
// (1e999), too deep — is an error value with a message that is itself valid UTF-8 (bytes
// from the input are shown as \xNN), never an exception.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/expected.hpp"

namespace fulfil {

// Deep enough for every document fulfild reads (the deepest, a configuration, has 4
// levels); shallow enough that any recursive use of the result is safe.
inline constexpr int kMaxJsonDepth = 64;

Expected<nlohmann::json, std::string> parse_json(std::string_view text,
                                                 int max_depth = kMaxJsonDepth);

}  // namespace fulfil
