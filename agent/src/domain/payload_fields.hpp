#pragma once
// Internal to the domain: reading a cloud command's payload field by field. A problem
// names the field ("payload.lines[1].quantity: expected an integer") and is thrown as a
// PayloadError, caught where the command is decoded, so the decoding reads straight.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/orders.hpp"

namespace fulfil::agent::payload {

struct PayloadError {
  std::string message;
};

[[noreturn]] inline void bad(const std::string& path, const std::string& what) {
  throw PayloadError{path + ": " + what};
}

inline const nlohmann::json& field(const nlohmann::json& o, const char* key,
                                   const std::string& path) {
  if (!o.is_object()) bad(path, "expected an object");
  auto it = o.find(key);
  if (it == o.end()) bad(path + "." + key, "missing");
  return *it;
}

inline std::string text(const nlohmann::json& o, const char* key, const std::string& path,
                        bool required = true) {
  if (!o.contains(key)) {
    if (required) bad(path + "." + key, "missing");
    return "";
  }
  const nlohmann::json& v = o.at(key);
  if (!v.is_string()) bad(path + "." + key, "expected a string");
  return v.get<std::string>();
}

inline std::int64_t integer(const nlohmann::json& o, const char* key, const std::string& path,
                            bool required, std::int64_t fallback = 0) {
  if (!o.contains(key)) {
    if (required) bad(path + "." + key, "missing");
    return fallback;
  }
  const nlohmann::json& v = o.at(key);
  if (!v.is_number_integer()) bad(path + "." + key, "expected an integer");
  return v.get<std::int64_t>();
}

inline const nlohmann::json& array(const nlohmann::json& o, const char* key,
                                   const std::string& path) {
  const nlohmann::json& v = field(o, key, path);
  if (!v.is_array()) bad(path + "." + key, "expected an array");
  return v;
}

// A postal address; every field optional.
Address address_from(const nlohmann::json& a, const std::string& path);

}  // namespace fulfil::agent::payload
