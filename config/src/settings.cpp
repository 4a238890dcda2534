#include <fstream>
#include <set>
#include <sstream>

#include "config/settings.hpp"

namespace fulfil::config {
namespace {

using nlohmann::json;

// Objects merge key by key; anything else (including lists) replaces.
void merge_into(json& base, const json& patch) {
  if (!base.is_object() || !patch.is_object()) {
    base = patch;
    return;
  }
  for (const auto& [key, value] : patch.items()) {
    if (base.contains(key))
      merge_into(base[key], value);
    else
      base[key] = value;
  }
}

json::json_pointer pointer_for(const std::string& dotted) {
  std::string p;
  std::stringstream in(dotted);
  for (std::string part; std::getline(in, part, '.');) p += "/" + part;
  return json::json_pointer(p);
}

Expected<json, ConfigErrors> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(ConfigErrors{{"(file)", "", "a readable JSON file", path}});
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return json::parse(buffer.str());
  } catch (const json::parse_error& e) {
    return unexpected(ConfigErrors{{"(file)", "", std::string("valid JSON: ") + e.what(), path}});
  }
}

// "orders.expiry_sweep_s=30" -> {"orders":{"expiry_sweep_s":30}}. A value that is not
// JSON is taken as a string, so --set store.id=shop-7 needs no quoting.
Expected<json, ConfigErrors> parse_override(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return unexpected(ConfigErrors{{text, "", "KEY=VALUE (e.g. log.level=debug)", "--set"}});
  const std::string key = text.substr(0, eq);
  const std::string raw = text.substr(eq + 1);
  json value = json::parse(raw, nullptr, false);
  if (value.is_discarded()) value = raw;
  json patch = json::object();
  try {
    patch[pointer_for(key)] = value;
  } catch (const json::exception&) {
    return unexpected(ConfigErrors{{key, value.dump(), "a dotted key such as log.level", "--set"}});
  }
  return patch;
}

Expected<std::pair<std::string, std::uint16_t>, ConfigError> split_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  std::string host = s.substr(0, colon);
  const long port = std::stol(s.substr(colon + 1));
  if (port > 65535)
    return unexpected(ConfigError{"api.listen", json(s).dump(), "a port from 0 to 65535", ""});
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

// Fills each scanner entry's defaults and checks what the schema cannot say: ids are
// unique, and each kind has the fields it needs.
Expected<json, ConfigErrors> scanner_entries(const json& list, const std::string& source) {
  const json& item = schema()["properties"]["scanners"]["items"];
  ConfigErrors errors;
  std::set<std::string> ids;
  json out = json::array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    json entry = json::object();
    for (const auto& [key, field] : item["properties"].items())
      if (field.contains("default")) entry[key] = field["default"];
    for (const auto& [key, value] : list[i].items()) entry[key] = value;
    const std::string at = "scanners[" + std::to_string(i) + "].";
    auto need = [&](const char* key, const std::string& what) {
      const json& v = entry[key];
      if ((v.is_string() && v.get<std::string>().empty()) || (v.is_number() && v == 0))
        errors.push_back({at + key, "", "required: " + what, source});
    };
    const std::string kind = entry["kind"];
    if (kind == "hidpos") {
      need("usb_vendor_id", "a hidpos scanner's USB vendor id (4 hex digits)");
      need("usb_product_id", "a hidpos scanner's USB product id (4 hex digits)");
    } else if (kind == "wedge" || kind == "serial") {
      need("device", "the " + kind + " scanner's device node");
    } else if (kind == "network") {
      need("host", "the network scanner's host");
      need("port", "the network scanner's TCP port");
    }
    if (!ids.insert(entry["id"].get<std::string>()).second)
      errors.push_back({at + "id", entry["id"].dump(), "an id no other scanner has", source});
    out.push_back(std::move(entry));
  }
  if (!errors.empty()) return unexpected(errors);
  return out;
}

}  // namespace

Expected<Settings, ConfigErrors> from_document(const json& doc, const std::string& source) {
  json merged = defaults();
  merge_into(merged, doc);
  if (auto errors = validate(merged, source); !errors.empty()) return unexpected(errors);

  Settings s;
  s.document = merged;
  s.store.id = merged["store"]["id"];
  s.store.name = merged["store"]["name"];
  s.storage.state_dir = merged["storage"]["state_dir"];
  s.storage.integrity_check = merged["storage"]["integrity_check"];
  s.storage.busy_timeout_ms = merged["storage"]["busy_timeout_ms"];
  log::parse_level(merged["log"]["level"].get<std::string>(), s.log.level);
  auto listen = split_listen(merged["api"]["listen"]);
  if (!listen) {
    ConfigError e = listen.error();
    e.source = source;
    return unexpected(ConfigErrors{e});
  }
  s.api.listen_host = listen->first;
  s.api.listen_port = listen->second;
  s.api.max_body_bytes = merged["api"]["max_body_bytes"];
  s.api.socket = merged["api"]["socket"];
  s.api.pairing_code_ttl_s = merged["api"]["pairing_code_ttl_s"];
  s.api.pairing_attempts_per_minute = merged["api"]["pairing_attempts_per_minute"];
  const json& o = merged["orders"];
  s.orders.default_accept_sla_s = o["default_accept_sla_s"];
  s.orders.expiry_sweep_s = o["expiry_sweep_s"];
  s.orders.reject_reasons = o["reject_reasons"].get<std::vector<std::string>>();
  s.orders.short_pick_reasons = o["short_pick_reasons"].get<std::vector<std::string>>();
  s.orders.carriers = o["carriers"].get<std::vector<std::string>>();
  s.orders.box_types = o["box_types"].get<std::vector<std::string>>();
  s.orders.pickup_code_max_attempts = o["pickup_code_max_attempts"];
  s.inventory.allow_negative_available = merged["inventory"]["allow_negative_available"];
  const json& y = merged["sync"];
  s.sync.cloud_url = y["cloud_url"];
  while (!s.sync.cloud_url.empty() && s.sync.cloud_url.back() == '/') s.sync.cloud_url.pop_back();
  s.sync.enrolment_code = y["enrolment_code"];
  s.sync.ca_file = y["ca_file"];
  s.sync.pinned_public_key = y["pinned_public_key"];
  s.sync.proxy = y["proxy"];
  s.sync.verify_tls = y["verify_tls"];
  s.sync.batch_size = y["batch_size"];
  s.sync.feed_wait_s = y["feed_wait_s"];
  s.sync.heartbeat_s = y["heartbeat_s"];
  s.sync.request_timeout_s = y["request_timeout_s"];
  s.sync.max_response_bytes = y["max_response_bytes"];
  s.sync.backoff_initial_ms = y["backoff_initial_ms"];
  s.sync.backoff_max_ms = y["backoff_max_ms"];
  s.sync.outbox_alarm_depth = y["outbox_alarm_depth"];
  s.sync.outbox_alarm_age_s = y["outbox_alarm_age_s"];
  s.sync.disk_free_alarm_mb = y["disk_free_alarm_mb"];
  auto scanners = scanner_entries(merged["scanners"], source);
  if (!scanners) return unexpected(scanners.error());
  s.scanners = std::move(*scanners);
  if (s.sync.backoff_max_ms < s.sync.backoff_initial_ms)
    return unexpected(ConfigErrors{
        {"sync.backoff_max_ms", y["backoff_max_ms"].dump(),
         "at least sync.backoff_initial_ms (" + y["backoff_initial_ms"].dump() + ")", source}});
  return s;
}

Expected<Settings, ConfigErrors> load(const LoadRequest& request) {
  // Every problem in the file and the flags is reported at once, not one per attempt.
  json doc = json::object();
  std::string source = "defaults";
  ConfigErrors errors;
  if (request.file) {
    auto file = read_file(*request.file);
    if (!file) return unexpected(file.error());
    errors = validate(*file, *request.file);
    doc = std::move(*file);
    source = *request.file;
  }
  for (const std::string& text : request.overrides) {
    auto patch = parse_override(text);
    if (!patch) {
      errors.insert(errors.end(), patch.error().begin(), patch.error().end());
      continue;
    }
    auto found = validate(*patch, "--set " + text);
    errors.insert(errors.end(), found.begin(), found.end());
    if (found.empty()) merge_into(doc, *patch);
  }
  if (!errors.empty()) return unexpected(errors);
  return from_document(doc, source);
}

}  // namespace fulfil::config
