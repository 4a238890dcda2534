// Validation against the embedded JSON Schema (the subset the schema uses: object with
// properties/additionalProperties, string enum/pattern/length, integer range, boolean,
// array items/minItems/uniqueItems), defaults and the reference table derived from it.
#include <algorithm>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>

#include "config/settings.hpp"

namespace fulfil::embedded {
std::string_view config_schema();
}

namespace fulfil::config {
namespace {

using nlohmann::json;

std::string type_of(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string quoted_list(const json& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += v.dump();
  }
  return out;
}

class Validator {
 public:
  explicit Validator(std::string source) : source_(std::move(source)) {}
  ConfigErrors errors;

  void check(const json& node, const json& value, const std::string& path) {
    const std::string type = node.value("type", "");
    if (type_of(value) != type) {
      fail(path, value, type_expectation(node));
      return;
    }
    if (type == "object") return check_object(node, value, path);
    if (type == "string") return check_string(node, value, path);
    if (type == "integer") return check_integer(node, value, path);
    if (type == "array") return check_array(node, value, path);
  }

 private:
  std::string source_;

  void fail(const std::string& path, const json& value, std::string expected) {
    errors.push_back({path, value.dump(), std::move(expected), source_});
  }

  static std::string type_expectation(const json& node) {
    std::string t = node.value("type", "");
    std::string article = (t == "integer" || t == "array" || t == "object") ? "an " : "a ";
    return article + t + describe_constraints(node);
  }

  static std::string describe_constraints(const json& node) {
    std::string out;
    if (node.contains("enum")) out += " (one of " + quoted_list(node["enum"]) + ")";
    if (node.contains("minimum") && node.contains("maximum"))
      out += " from " + node["minimum"].dump() + " to " + node["maximum"].dump();
    return out;
  }

  void check_object(const json& node, const json& value, const std::string& path) {
    const json& props = node.contains("properties") ? node["properties"] : json::object();
    for (const auto& key : node.value("required", json::array()))
      if (!value.contains(key.get<std::string>()))
        errors.push_back({join_path(path, key.get<std::string>()), "",
                          "required: " + props[key.get<std::string>()].value("description", ""),
                          source_});
    for (const auto& [key, item] : value.items()) {
      const std::string sub = join_path(path, key);
      if (!props.contains(key)) {
        std::string known;
        for (const auto& [k, _] : props.items()) known += (known.empty() ? "" : ", ") + k;
        fail(sub, item, "no such key" + (known.empty() ? "" : "; known keys here: " + known));
        continue;
      }
      check(props[key], item, sub);
    }
  }

  void check_string(const json& node, const json& value, const std::string& path) {
    const std::string s = value.get<std::string>();
    if (node.contains("enum")) {
      bool found = false;
      for (const auto& e : node["enum"]) found = found || e == value;
      if (!found) return fail(path, value, "one of " + quoted_list(node["enum"]));
    }
    if (node.contains("minLength") && s.size() < node["minLength"].get<std::size_t>())
      return fail(path, value, "a string of at least " + node["minLength"].dump() + " characters");
    if (node.contains("maxLength") && s.size() > node["maxLength"].get<std::size_t>())
      return fail(path, value, "a string of at most " + node["maxLength"].dump() + " characters");
    if (node.contains("pattern")) {
      const std::string pattern = node["pattern"].get<std::string>();
      if (!std::regex_search(s, std::regex(pattern)))
        return fail(path, value,
                    "a string matching " + pattern + " (" + node.value("description", "") + ")");
    }
  }

  void check_integer(const json& node, const json& value, const std::string& path) {
    if (node.contains("enum")) {
      bool found = false;
      for (const auto& e : node["enum"]) found = found || e == value;
      if (!found) return fail(path, value, "one of " + quoted_list(node["enum"]));
    }
    const bool unsigned_value = value.is_number_unsigned();
    const long long v = unsigned_value ? static_cast<long long>(value.get<unsigned long long>())
                                       : value.get<long long>();
    const bool too_big = unsigned_value && value.get<unsigned long long>() > (1ULL << 62);
    if ((node.contains("minimum") && !too_big && v < node["minimum"].get<long long>()) ||
        (node.contains("maximum") && (too_big || v > node["maximum"].get<long long>())))
      fail(path, value,
           "an integer from " + node["minimum"].dump() + " to " + node["maximum"].dump());
  }

  void check_array(const json& node, const json& value, const std::string& path) {
    if (node.contains("minItems") && value.size() < node["minItems"].get<std::size_t>())
      fail(path, value, "a list of at least " + node["minItems"].dump() + " item(s)");
    if (node.value("uniqueItems", false)) {
      std::set<std::string> seen;
      for (const auto& item : value)
        if (!seen.insert(item.dump()).second)
          fail(path, value, "a list without duplicates (" + item.dump() + " repeats)");
    }
    if (!node.contains("items")) return;
    for (std::size_t i = 0; i < value.size(); ++i)
      check(node["items"], value[i], path + "[" + std::to_string(i) + "]");
  }
};

json defaults_of(const json& node) {
  if (node.value("type", "") != "object") return node.value("default", json());
  json out = json::object();
  for (const auto& [key, child] : node["properties"].items()) out[key] = defaults_of(child);
  return out;
}

std::string md_escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else
      out += c;
  }
  return out;
}

void reference_rows(const json& node, const std::string& path, std::ostringstream& out,
                    bool local_only = false, bool restart = false) {
  local_only = local_only || node.value("x-local-only", false);
  restart = restart || node.value("x-restart", false);
  if (node.value("type", "") == "object") {
    for (const auto& [key, child] : node["properties"].items())
      reference_rows(child, join_path(path, key), out, local_only, restart);
    return;
  }
  std::string type = node.value("type", "");
  if (type == "array" && node.contains("items")) type += " of " + node["items"].value("type", "");
  const bool entries = type == "array of object";
  std::string allowed;
  if (node.contains("enum")) allowed = "one of " + quoted_list(node["enum"]);
  if (node.contains("minimum")) allowed = node["minimum"].dump() + " to " + node["maximum"].dump();
  out << "| `" << path << "` | " << type << " | `" << md_escape(node["default"].dump()) << "` | "
      << md_escape(node.value("description", ""))
      << (allowed.empty() ? "" : " Allowed: " + md_escape(allowed) + ".")
      << (local_only ? " Local file only." : "") << (restart ? " Takes effect at restart." : "")
      << " |\n";
  if (!entries) return;
  // A list of objects (e.g. scanners): one row per field of an entry.
  const json& items = node["items"];
  for (const auto& [key, child] : items["properties"].items()) {
    json row = child;
    const json required_keys = items.value("required", json::array());
    const bool required =
        std::find(required_keys.begin(), required_keys.end(), key) != required_keys.end();
    if (required) row["default"] = "(required)";
    reference_rows(row, path + "[]." + key, out, local_only, restart);
  }
}

void collect_restart_keys(const json& node, const json& running, const json& next,
                          const std::string& path, std::vector<std::string>& out) {
  if (node.value("x-restart", false)) {
    if (running != next) out.push_back(path);
    return;
  }
  if (node.value("type", "") != "object" || !node.contains("properties")) return;
  static const json absent;
  for (const auto& [key, child] : node["properties"].items()) {
    const json& a = running.is_object() && running.contains(key) ? running[key] : absent;
    const json& b = next.is_object() && next.contains(key) ? next[key] : absent;
    collect_restart_keys(child, a, b, join_path(path, key), out);
  }
}

}  // namespace

std::vector<std::string> changed_restart_keys(const json& running, const json& next) {
  std::vector<std::string> out;
  collect_restart_keys(schema(), running, next, "", out);
  return out;
}

std::string ConfigError::describe() const {
  std::string out = "config key '" + key + "'";
  if (value.empty() && expected.starts_with("required: "))
    return out + " is missing; it is " + expected + (source.empty() ? "" : " [" + source + "]");
  if (!value.empty()) out += ": value " + value;
  out += " is refused; expected " + expected;
  if (!source.empty()) out += " [" + source + "]";
  return out;
}

const json& schema() {
  static const json parsed = json::parse(embedded::config_schema());
  return parsed;
}

json defaults() {
  return defaults_of(schema());
}

ConfigErrors validate(const json& doc, const std::string& source) {
  Validator v(source);
  v.check(schema(), doc, "");
  for (auto& e : v.errors)
    if (e.key.empty()) e.key = "(top level)";
  return v.errors;
}

std::string reference_markdown() {
  std::ostringstream out;
  out << "| key | type | default | meaning |\n|---|---|---|---|\n";
  reference_rows(schema(), "", out);
  return out.str();
}

}  // namespace fulfil::config
