#include "api_support.hpp"

#include <algorithm>
#include <charconv>

#include "config/json_input.hpp"

namespace fulfil::agent::api {

using nlohmann::json;

Actor Caller::actor() const {
  return local ? Actor{Actor::Kind::user, id} : Actor{Actor::Kind::terminal, id};
}

ApiResponse json_response(const json& body, unsigned status) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

ApiResponse domain_error(const DomainError& error) {
  return api_error(api_errc_of(error.code), error.message);
}

Expected<std::int64_t, ApiResponse> query_limit(const ApiRequest& request, std::int64_t fallback) {
  std::int64_t limit = fallback;
  try {
    if (auto l = request.query_value("limit"); !l.empty()) limit = std::stoll(l);
  } catch (const std::exception&) {
    return unexpected(api_error(ApiErrc::invalid_query, "limit must be a number"));
  }
  return std::clamp<std::int64_t>(limit, 1, 1000);
}

Expected<std::int64_t, ApiResponse> query_integer(const ApiRequest& request, const char* key,
                                                  std::int64_t min, std::int64_t max) {
  const auto text = request.query_value(key);
  if (text.empty()) return std::int64_t{0};
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    return unexpected(
        api_error(ApiErrc::invalid_query, std::string(key) + " must be a whole number from " +
                                              std::to_string(min) + " to " + std::to_string(max)));
  return value;
}

Body::Body(const ApiRequest& request, std::initializer_list<const char*> allowed) {
  if (request.body.empty()) return;  // no body: every field absent
  auto parsed = parse_json(request.body);
  if (!parsed) {
    fail(ApiErrc::malformed_json, "the request body is not valid JSON: " + parsed.error());
    return;
  }
  doc_ = std::move(*parsed);
  if (!doc_.is_object()) {
    doc_ = json::object();
    fail(ApiErrc::malformed_json, "the request body must be a JSON object");
    return;
  }
  check_fields(allowed);
}

Body::Body(const json& object, std::initializer_list<const char*> allowed, std::string where)
    : where_(std::move(where)) {
  if (!object.is_object()) {
    fail(ApiErrc::invalid_field, where_ + " must be an object");
    return;
  }
  doc_ = object;
  check_fields(allowed);
}

void Body::check_fields(std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : doc_.items()) {
    bool known = false;
    for (const char* a : allowed) known |= key == a;
    if (!known) {
      std::string names;
      for (const char* a : allowed) names += std::string(names.empty() ? "" : ", ") + a;
      fail(ApiErrc::unknown_field,
           "unknown field '" + where_ + key + "' (expected: " + names + ")");
      return;
    }
  }
}

void Body::fail(ApiErrc code, const std::string& message) {
  if (!error_) error_ = api_error(code, message);
}

const json* Body::field(const char* key, bool required) {
  auto it = doc_.find(key);
  if (it != doc_.end() && !it->is_null()) return &*it;
  if (required) fail(ApiErrc::missing_field, name(key) + " is required");
  return nullptr;
}

std::string Body::text(const char* key, bool required, std::size_t max_len) {
  const json* v = field(key, required);
  if (!v) return {};
  if (!v->is_string()) {
    fail(ApiErrc::invalid_field, name(key) + " must be a string");
    return {};
  }
  auto value = v->get<std::string>();
  if (value.size() > max_len)
    fail(ApiErrc::invalid_field,
         name(key) + " is longer than " + std::to_string(max_len) + " bytes");
  if (required && value.empty()) fail(ApiErrc::missing_field, name(key) + " must not be empty");
  return value;
}

std::int64_t Body::integer(const char* key, bool required, std::int64_t min, std::int64_t max,
                           std::int64_t fallback) {
  const json* v = field(key, required);
  if (!v) return fallback;
  if (!v->is_number_integer()) {
    fail(ApiErrc::invalid_field, name(key) + " must be an integer");
    return fallback;
  }
  const auto n = v->get<std::int64_t>();
  if (n < min || n > max) {
    fail(ApiErrc::invalid_field, name(key) + " must be from " + std::to_string(min) + " to " +
                                     std::to_string(max) + ", not " + std::to_string(n));
    return fallback;
  }
  return n;
}

bool Body::boolean(const char* key, bool required, bool fallback) {
  const json* v = field(key, required);
  if (!v) return fallback;
  if (!v->is_boolean()) {
    fail(ApiErrc::invalid_field, name(key) + " must be true or false");
    return fallback;
  }
  return v->get<bool>();
}

std::vector<json> Body::array(const char* key, bool required, std::size_t max_items) {
  const json* v = field(key, required);
  if (!v) return {};
  if (!v->is_array()) {
    fail(ApiErrc::invalid_field, name(key) + " must be an array");
    return {};
  }
  if (v->size() > max_items) {
    fail(ApiErrc::invalid_field,
         name(key) + " has more than " + std::to_string(max_items) + " items");
    return {};
  }
  if (required && v->empty()) {
    fail(ApiErrc::missing_field, name(key) + " must not be empty");
    return {};
  }
  return v->get<std::vector<json>>();
}

json Body::object(const char* key, bool required) {
  const json* v = field(key, required);
  if (!v) return json::object();
  if (!v->is_object()) {
    fail(ApiErrc::invalid_field, name(key) + " must be an object");
    return json::object();
  }
  return *v;
}

bool Body::take(const Body& nested) {
  if (nested.error_ && !error_) error_ = nested.error_;
  return !nested.error_;
}

}  // namespace fulfil::agent::api
