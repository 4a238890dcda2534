#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "config/remote_config.hpp"
#include "config/settings.hpp"

#include "config/json_input.hpp"

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
  auto parsed = parse_json(buffer.str());
  if (!parsed)
    return unexpected(ConfigErrors{{"(file)", "", "valid JSON: " + parsed.error(), path}});
  return std::move(*parsed);
}

// "orders.expiry_sweep_s=30" -> {"orders":{"expiry_sweep_s":30}}. A value that is not
// JSON is taken as a string, so --set store.id=shop-7 needs no quoting.
Expected<json, ConfigErrors> parse_override(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return unexpected(ConfigErrors{{text, "", "KEY=VALUE (e.g. log.level=debug)", "--set"}});
  const std::string key = text.substr(0, eq);
  const std::string raw = text.substr(eq + 1);
  json value = parse_json(raw).value_or(json(raw));
  json patch = json::object();
  try {
    patch[pointer_for(key)] = value;
  } catch (const json::exception&) {
    return unexpected(ConfigErrors{{key, value.dump(), "a dotted key such as log.level", "--set"}});
  }
  return patch;
}

Expected<std::pair<std::string, std::uint16_t>, ConfigError> split_listen(
    const std::string& s, const std::string& key = "api.listen") {
  const auto colon = s.rfind(':');
  std::string host = s.substr(0, colon);
  const long port = std::stol(s.substr(colon + 1));
  if (port > 65535)
    return unexpected(ConfigError{key, json(s).dump(), "a port from 0 to 65535", ""});
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

// A list of objects (scanners, printers, stations): fills each entry's defaults, checks
// that ids are unique, and lets `check` say what the schema cannot (what each kind needs).
using EntryCheck =
    std::function<void(const json& entry, const std::string& at, ConfigErrors& errors)>;
Expected<json, ConfigErrors> list_entries(const std::string& key, const json& list,
                                          const std::string& source, const EntryCheck& check) {
  const json& item = schema()["properties"][key]["items"];
  ConfigErrors errors;
  std::set<std::string> ids;
  json out = json::array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    json entry = json::object();
    for (const auto& [k, field] : item["properties"].items())
      if (field.contains("default")) entry[k] = field["default"];
    for (const auto& [k, value] : list[i].items()) entry[k] = value;
    const std::string at = key + "[" + std::to_string(i) + "].";
    check(entry, at, errors);
    for (auto& e : errors)
      if (e.source.empty()) e.source = source;
    if (!ids.insert(entry["id"].get<std::string>()).second)
      errors.push_back({at + "id", entry["id"].dump(), "an id no other entry has", source});
    out.push_back(std::move(entry));
  }
  if (!errors.empty()) return unexpected(errors);
  return out;
}

// A field a kind cannot do without: empty strings and zero numbers are missing.
void need(const json& entry, const std::string& at, const char* key, const std::string& what,
          ConfigErrors& errors) {
  const json& v = entry[key];
  if ((v.is_string() && v.get<std::string>().empty()) || (v.is_number() && v == 0))
    errors.push_back({at + key, "", "required: " + what, ""});
}

void check_scanner(const json& e, const std::string& at, ConfigErrors& errors) {
  const std::string kind = e["kind"];
  if (kind == "hidpos") {
    need(e, at, "usb_vendor_id", "a hidpos scanner's USB vendor id (4 hex digits)", errors);
    need(e, at, "usb_product_id", "a hidpos scanner's USB product id (4 hex digits)", errors);
  } else if (kind == "wedge" || kind == "serial") {
    need(e, at, "device", "the " + kind + " scanner's device node", errors);
  } else if (kind == "network") {
    need(e, at, "host", "the network scanner's host", errors);
    need(e, at, "port", "the network scanner's TCP port", errors);
  }
}

void check_printer(const json& e, const std::string& at, ConfigErrors& errors) {
  const std::string kind = e["kind"];
  if (kind == "cups") need(e, at, "cups_queue", "a cups printer's queue name", errors);
  if (kind == "raw_tcp") need(e, at, "host", "a raw_tcp printer's host", errors);
  if (kind == "file") need(e, at, "directory", "a file printer's folder", errors);
}

// Stations may only name printers that exist.
EntryCheck station_check(const json& printers) {
  return [printers](const json& e, const std::string& at, ConfigErrors& errors) {
    std::set<std::string> known;
    for (const auto& p : printers) known.insert(p["id"].get<std::string>());
    if (!e.contains("documents")) return;
    for (const auto& [kind, printer] : e["documents"].items()) {
      const std::string id = printer;
      if (!id.empty() && !known.count(id))
        errors.push_back(
            {at + "documents." + kind, printer.dump(), "the id of a printer in printers[]", ""});
    }
  };
}

// Each effect names a reason the store can give, once.
Expected<std::vector<Settings::Orders::ReasonEffect>, ConfigErrors> reason_effects(
    const Settings::Orders& orders, const json& list, const std::string& source) {
  // The default effects name the default reasons: a store with reasons of its own keeps
  // the defaults for those it still has, and only entries it wrote itself must match.
  const json& defaults =
      schema()["properties"]["orders"]["properties"]["reason_effects"]["default"];
  std::set<std::string> known(orders.reject_reasons.begin(), orders.reject_reasons.end());
  known.insert(orders.short_pick_reasons.begin(), orders.short_pick_reasons.end());
  std::set<std::string> seen;
  ConfigErrors errors;
  std::vector<Settings::Orders::ReasonEffect> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = "orders.reason_effects[" + std::to_string(i) + "].reason";
    const std::string reason = list[i]["reason"];
    const bool a_default = std::find(defaults.begin(), defaults.end(), list[i]) != defaults.end();
    if (!known.count(reason) && a_default) continue;
    if (!known.count(reason))
      errors.push_back({at, list[i]["reason"].dump(),
                        "one of orders.reject_reasons or orders.short_pick_reasons", source});
    else if (!seen.insert(reason).second)
      errors.push_back({at, list[i]["reason"].dump(), "a reason no other entry has", source});
    out.push_back({reason, list[i]["stock"], list[i].value("avoid_store_hours", 0)});
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
  s.storage.reserve_mb = merged["storage"]["reserve_mb"];
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
  s.api.max_connections = merged["api"]["max_connections"];
  s.api.socket = merged["api"]["socket"];
  s.api.pairing_code_ttl_s = merged["api"]["pairing_code_ttl_s"];
  s.api.pairing_attempts_per_minute = merged["api"]["pairing_attempts_per_minute"];
  s.api.desk_session_grace_s = merged["api"]["desk_session_grace_s"];
  auto https = split_listen(merged["api"]["https_listen"], "api.https_listen");
  if (!https) {
    ConfigError e = https.error();
    e.source = source;
    return unexpected(ConfigErrors{e});
  }
  s.api.tls = merged["api"]["tls"] == "on";
  s.api.https_listen_host = https->first;
  s.api.https_listen_port = https->second;
  s.api.http_redirect = merged["api"]["http"] == "redirect";
  s.api.tls_names = merged["api"]["tls_names"].get<std::vector<std::string>>();
  s.api.tls_handshake_timeout_ms = merged["api"]["tls_handshake_timeout_ms"];
  const json& o = merged["orders"];
  s.orders.default_accept_sla_s = o["default_accept_sla_s"];
  s.orders.expiry_sweep_s = o["expiry_sweep_s"];
  s.orders.reject_reasons = o["reject_reasons"].get<std::vector<std::string>>();
  s.orders.short_pick_reasons = o["short_pick_reasons"].get<std::vector<std::string>>();
  auto effects = reason_effects(s.orders, o["reason_effects"], source);
  if (!effects) return unexpected(effects.error());
  s.orders.reason_effects = std::move(*effects);
  s.orders.carriers = o["carriers"].get<std::vector<std::string>>();
  s.orders.box_types = o["box_types"].get<std::vector<std::string>>();
  s.orders.pickup_code_max_attempts = o["pickup_code_max_attempts"];
  s.orders.accept_warn_minutes = o["accept_warn_minutes"];
  s.orders.ship_warn_minutes = o["ship_warn_minutes"];
  s.pickup.return_after_days = merged["pickup"]["return_after_days"];
  const json& cap = merged["capacity"];
  s.capacity.orders_per_day = cap["orders_per_day"];
  for (const char* day : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) {
    const std::string hours = cap["opening_hours"][day];
    // The pattern has checked the form; a store that closes before it opens has not.
    if (!hours.empty() && hours.substr(6) <= hours.substr(0, 5))
      return unexpected(
          ConfigErrors{{std::string("capacity.opening_hours.") + day, json(hours).dump(),
                        "an opening time before the closing time", source}});
    s.capacity.opening_hours.push_back(hours);
  }
  s.capacity.closed_dates = cap["closed_dates"].get<std::vector<std::string>>();
  s.inventory.allow_negative_available = merged["inventory"]["allow_negative_available"];
  s.pos.drop_folder = merged["pos"]["drop_folder"];
  s.pos.drop_till_id = merged["pos"]["drop_till_id"];
  s.pos.drop_poll_s = merged["pos"]["drop_poll_s"];
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
  auto scanners = list_entries("scanners", merged["scanners"], source, check_scanner);
  if (!scanners) return unexpected(scanners.error());
  s.scanners = std::move(*scanners);
  auto printers = list_entries("printers", merged["printers"], source, check_printer);
  if (!printers) return unexpected(printers.error());
  s.printers = std::move(*printers);
  auto stations = list_entries("stations", merged["stations"], source, station_check(s.printers));
  if (!stations) return unexpected(stations.error());
  s.stations = std::move(*stations);
  const json& pr = merged["printing"];
  s.printing.retry_initial_ms = pr["retry_initial_ms"];
  s.printing.retry_max_ms = pr["retry_max_ms"];
  s.printing.job_poll_ms = pr["job_poll_ms"];
  s.printing.keep_jobs_days = pr["keep_jobs_days"];
  s.printing.associate_reprint_window_s = pr["associate_reprint_window_s"];
  s.printing.print_on_pack = pr["print_on_pack"].get<std::vector<std::string>>();
  s.printing.print_on_ready_for_pickup =
      pr["print_on_ready_for_pickup"].get<std::vector<std::string>>();
  const json& rt = merged["retention"];
  s.retention.sent_events_days = rt["sent_events_days"];
  s.retention.inbox_days = rt["inbox_days"];
  s.retention.closed_orders_days = rt["closed_orders_days"];
  s.retention.audit_days = rt["audit_days"];
  s.retention.ledger_days = rt["ledger_days"];
  s.retention.batch_rows = rt["batch_rows"];
  s.retention.interval_s = rt["interval_s"];
  s.retention.till_transactions_days = rt["till_transactions_days"];
  s.remote_config.public_keys =
      merged["remote_config"]["public_keys"].get<std::vector<std::string>>();
  s.remote_config.health_deadline_s = merged["remote_config"]["health_deadline_s"];
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
  if (!request.remote.is_null()) {
    // Layered over the file: a key the remote document sets wins; the rest stays local.
    auto found = validate(request.remote, request.remote_source);
    auto local_only = local_only_keys(request.remote, request.remote_source);
    found.insert(found.end(), local_only.begin(), local_only.end());
    errors.insert(errors.end(), found.begin(), found.end());
    if (found.empty()) {
      merge_into(doc, request.remote);
      source += " + " + request.remote_source;
    }
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
