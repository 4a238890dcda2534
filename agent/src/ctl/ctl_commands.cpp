#include "ctl_commands.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "codes/barcode.hpp"
#include "config/json_input.hpp"
#include "config/remote_config.hpp"
#include "config/settings.hpp"
#include "ctl_client.hpp"
#include "drivers/printer.hpp"

namespace fulfil::ctl {
namespace {

using nlohmann::json;

struct Command {
  const char* name;
  const char* usage;
  const char* summary;
  std::vector<const char*> flags;  // accepted --flags (switches end with '!')
  std::size_t min_args;
  std::size_t max_args;
  std::function<int(const Invocation&)> run;
};

std::string time_text(std::int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

std::string cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

// Columns sized to their widest cell; text from the agent is shown as text.
void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (std::size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::cout << out << '\n';
  };
  line(headers);
  for (const auto& r : rows) line(r);
}

// Calls the agent; on failure prints the agent's message and returns the exit code.
int call(const Invocation& inv, const std::string& method, const std::string& path, json& out,
         const json& body = nullptr) {
  auto reply = call_agent(inv.socket, method, path, body.is_null() ? "" : body.dump());
  if (!reply) {
    std::cerr << "fulfilctl: " << reply.error() << '\n';
    return unreachable;
  }
  try {
    out = json::parse(reply->body);
  } catch (const json::exception&) {
    out = json{{"raw", reply->body}};
  }
  if (reply->status >= 400) {
    const std::string message =
        out.contains("error") ? out["error"].value("message", "") : reply->body;
    std::cerr << "fulfilctl: " << message << " (HTTP " << reply->status << ")\n";
    return reply->status >= 500 ? agent_error : refused;
  }
  return ok;
}

std::string query(const Invocation& inv, const std::vector<std::string>& names) {
  std::string q;
  for (const auto& n : names)
    if (auto it = inv.flags.find(n); it != inv.flags.end())
      q += (q.empty() ? "?" : "&") + n + "=" + url_encode(it->second);
  return q;
}

int show_json_or(const Invocation& inv, const json& body, const std::function<void()>& human) {
  if (inv.json)
    std::cout << body.dump(2) << '\n';
  else
    human();
  return ok;
}

int status(const Invocation& inv) {
  json health;
  if (int rc = call(inv, "GET", "/health", health); rc) return rc;
  return show_json_or(inv, health, [&] {
    std::cout << "store        " << health.value("store_id", "") << "\nversion      "
              << health.value("version", "") << "\nuptime       " << health.value("uptime_s", 0)
              << " s\noutbox       " << health["outbox"].value("pending", 0) << " pending, "
              << health["outbox"].value("dead", 0) << " dead\n";
    if (health.contains("sync"))
      std::cout << "cloud        "
                << (health["sync"].value("enrolled", false) ? "enrolled" : "not enrolled")
                << ", last sync "
                << time_text(health["sync"].value("last_sync_at", std::int64_t{0}))
                << "\nalarms       " << health["sync"]["alarms"].dump() << '\n';
    std::cout << "orders      ";
    for (const auto& [state, n] : health["orders"].items())
      if (n.get<int>() > 0) std::cout << ' ' << state << '=' << n.get<int>();
    std::cout << '\n';
  });
}

int orders(const Invocation& inv) {
  json body;
  if (int rc = call(inv, "GET", "/api/v1/orders" + query(inv, {"state", "method", "kind", "limit"}),
                    body))
    return rc;
  return show_json_or(inv, body, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& o : body["orders"])
      rows.push_back({cell(o["id"]), cell(o["order_ref"]), cell(o["state"]), cell(o["method"]),
                      cell(o["units"]), time_text(o["routed_at"].get<std::int64_t>())});
    print_table({"ID", "ORDER", "STATE", "METHOD", "UNITS", "ROUTED"}, rows);
  });
}

int order(const Invocation& inv) {
  json o;
  if (int rc = call(inv, "GET", "/api/v1/orders/" + url_encode(inv.args[0]), o); rc) return rc;
  return show_json_or(inv, o, [&] {
    std::cout << cell(o["id"]) << "  " << cell(o["order_ref"]) << "  " << cell(o["state"]) << "  "
              << cell(o["method"]) << (o["on_hold"].get<bool>() ? "  ON HOLD" : "")
              << (o.value("kind", "") == "transfer"
                      ? "\ntransfer  to " + cell(o["destination_store"]["id"])
                      : std::string())
              << "\ncustomer  " << cell(o["customer"]["name"]) << "\nrouted    "
              << time_text(o["routed_at"].get<std::int64_t>()) << "\n";
    if (!o.value("pickup_code", "").empty())
      std::cout << "pickup    " << cell(o["pickup_code"]) << '\n';
    if (!o.value("pickup_shelf", "").empty())
      std::cout << "shelf     " << cell(o["pickup_shelf"]) << '\n';
    if (!o.value("carrier", "").empty())
      std::cout << "carrier   " << cell(o["carrier"]) << " " << cell(o["tracking"]) << '\n';
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : o["lines"])
      rows.push_back({cell(l["line_no"]), cell(l["sku"]), cell(l["bin"]), cell(l["quantity"]),
                      cell(l["picked"]), cell(l["rejected"]), cell(l["title"])});
    std::cout << '\n';
    print_table({"LINE", "SKU", "BIN", "QTY", "PICKED", "SHORT", "TITLE"}, rows);
  });
}

int inventory(const Invocation& inv) {
  json body;
  if (int rc = call(inv, "GET", "/api/v1/inventory?q=" + url_encode(inv.args[0]), body); rc)
    return rc;
  return show_json_or(inv, body, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& i : body["items"])
      rows.push_back({cell(i["sku"]), cell(i["bin"]), cell(i["on_hand"]), cell(i["reserved"]),
                      cell(i["unsellable"]), cell(i["available"]), cell(i["title"])});
    print_table({"SKU", "BIN", "ON HAND", "RESERVED", "UNSELLABLE", "AVAILABLE", "TITLE"}, rows);
    if (rows.empty()) std::cout << "(nothing matches)\n";
  });
}

int pair(const Invocation& inv) {
  json req = {{"role", inv.flags.at("role")}};
  if (inv.flags.count("name")) req["name"] = inv.flags.at("name");
  if (inv.flags.count("station")) req["station"] = inv.flags.at("station");
  if (inv.flags.count("ttl")) {
    char* end = nullptr;
    const long ttl = std::strtol(inv.flags.at("ttl").c_str(), &end, 10);
    if (*end || ttl <= 0) {
      std::cerr << "fulfilctl: --ttl needs a number of seconds\n";
      return usage;
    }
    req["ttl_s"] = ttl;
  }
  json body;
  if (int rc = call(inv, "POST", "/api/v1/pairing-codes", body, req); rc) return rc;
  return show_json_or(inv, body, [&] {
    std::cout << "Pairing code: " << cell(body["code"]) << "\nRole: " << cell(body["role"])
              << "\nValid until " << time_text(body["expires_at"].get<std::int64_t>())
              << "; it pairs one terminal. "
              << (body["role"] == "pos"
                      ? "The till exchanges it for its token: POST /api/v1/pair {\"code\": ...}.\n"
                      : "Open the terminal UI on the tablet or counter PC and enter it.\n");
    // HTTPS with the box's own certificate: the browser asks whether to trust it, and
    // this is how the manager knows it is this box's.
    if (body.value("tls_fingerprint", json()).is_string())
      std::cout << "The box's certificate (HTTPS), SHA-256 fingerprint:\n  "
                << body["tls_fingerprint"].get<std::string>()
                << "\nCheck that the terminal's browser shows the same before trusting it.\n";
  });
}

int terminals(const Invocation& inv) {
  json body;
  if (int rc =
          call(inv, "GET",
               std::string("/api/v1/terminals") + (inv.flags.count("all") ? "?all=1" : ""), body))
    return rc;
  return show_json_or(inv, body, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : body["terminals"])
      rows.push_back({cell(t["id"]), cell(t["name"]), cell(t["role"]), cell(t["station"]),
                      time_text(t["paired_at"].get<std::int64_t>()),
                      time_text(t["last_seen_at"].get<std::int64_t>()),
                      t["revoked_at"].get<std::int64_t>() ? "revoked" : "active"});
    print_table({"ID", "NAME", "ROLE", "STATION", "PAIRED", "LAST SEEN", "STATUS"}, rows);
  });
}

int revoke(const Invocation& inv) {
  json body;
  if (int rc = call(inv, "DELETE", "/api/v1/terminals/" + url_encode(inv.args[0]), body); rc)
    return rc;
  return show_json_or(inv, body, [&] {
    std::cout << "Revoked " << cell(body["id"]) << " (" << cell(body["name"])
              << "); it must be paired again to be used.\n";
  });
}

int outbox(const Invocation& inv) {
  json body;
  if (int rc = call(inv, "GET", "/api/v1/outbox", body); rc) return rc;
  return show_json_or(inv, body, [&] {
    std::cout << "pending " << body["pending"] << ", dead " << body["dead"] << ", oldest pending "
              << body["oldest_pending_age_s"] << " s, last seq " << body["last_seq"] << '\n';
    if (body["dead_letters"].empty()) return;
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : body["dead_letters"])
      rows.push_back({cell(e["seq"]), cell(e["type"]), cell(e["subject"]), cell(e["event_id"]),
                      time_text(e["created_at"].get<std::int64_t>()), cell(e["reason"])});
    std::cout
        << "\nDead letters (refused by the cloud; `fulfilctl retry EVENT` sends one again):\n";
    print_table({"SEQ", "TYPE", "SUBJECT", "EVENT", "CREATED", "REASON"}, rows);
  });
}

int retry(const Invocation& inv) {
  json body;
  if (int rc = call(inv, "POST",
                    "/api/v1/outbox/dead-letters/" + url_encode(inv.args[0]) + "/retry", body);
      rc)
    return rc;
  return show_json_or(inv, body, [&] {
    std::cout << "Event " << cell(body["seq"]) << " (" << cell(body["type"])
              << ") is queued again; it is sent with the next batch.\n";
  });
}

// Scanners with their state, and the stations' sessions: what store IT looks at first when
// a desk says "the scanner does nothing".
int devices(const Invocation& inv) {
  json body;
  if (int rc = call(inv, "GET", "/api/v1/devices", body); rc) return rc;
  json stations;
  if (int rc = call(inv, "GET", "/api/v1/stations", stations); rc) return rc;
  body["stations"] = stations["stations"];
  return show_json_or(inv, body, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : body["scanners"]) {
      const auto last = s.value("last_scan_at", std::int64_t{0});
      rows.push_back({cell(s["id"]), cell(s["kind"]), cell(s["station"]), cell(s["state"]),
                      last ? time_text(last) : "never", cell(s["scans"]), cell(s["rejected_reads"]),
                      cell(s["detail"])});
    }
    if (rows.empty())
      std::cout << "No scanners configured (config key 'scanners').\n";
    else
      print_table(
          {"SCANNER", "KIND", "STATION", "STATE", "LAST SCAN", "SCANS", "REJECTED", "DETAIL"},
          rows);
    rows.clear();
    for (const auto& st : body["stations"]) {
      const json& session = st["session"];
      rows.push_back({cell(st["station"]), session.is_null() ? "-" : cell(session["order_ref"]),
                      session.is_null() ? "" : cell(session["opened_by"])});
    }
    if (rows.empty()) return;
    std::cout << '\n';
    print_table({"STATION", "PICKING INTO", "OPENED BY"}, rows);
  });
}

// --- printing --------------------------------------------------------------------------

std::string job_row_time(const json& j, const char* key) {
  const auto t = j.value(key, std::int64_t{0});
  return t ? time_text(t) : "";
}

void print_jobs_table(const json& jobs) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : jobs)
    rows.push_back({cell(j["id"]), cell(j["kind"]), cell(j["order_id"]), cell(j["printer"]),
                    cell(j["state"]), cell(j["attempts"]), job_row_time(j, "created_at"),
                    cell(j["last_error"])});
  print_table({"JOB", "KIND", "ORDER", "PRINTER", "STATE", "TRIES", "CREATED", "LAST ERROR"}, rows);
}

int label(const Invocation& inv) {
  if (inv.args[0] != "render" || !inv.flags.count("order")) {
    std::cerr << "fulfilctl: usage: fulfilctl label render KIND --order ID [--format zpl|pdf]\n";
    return usage;
  }
  const auto format = inv.flags.count("format") ? inv.flags.at("format") : "zpl";
  auto reply = call_agent(inv.socket, "GET",
                          "/api/v1/orders/" + url_encode(inv.flags.at("order")) + "/documents/" +
                              url_encode(inv.args[1]) + "?format=" + url_encode(format),
                          "");
  if (!reply) {
    std::cerr << "fulfilctl: " << reply.error() << '\n';
    return unreachable;
  }
  if (reply->status >= 400) {
    const auto body = json::parse(reply->body, nullptr, false);
    std::cerr << "fulfilctl: "
              << (body.is_object() && body.contains("error") ? body["error"].value("message", "")
                                                             : reply->body)
              << " (HTTP " << reply->status << ")\n";
    return reply->status >= 500 ? agent_error : refused;
  }
  std::cout.write(reply->body.data(), static_cast<std::streamsize>(reply->body.size()));
  return ok;
}

int print(const Invocation& inv) {
  if (inv.args[0] != "test") {
    std::cerr << "fulfilctl: usage: fulfilctl print test PRINTER\n";
    return usage;
  }
  json body;
  if (int rc = call(inv, "POST", "/api/v1/printers/" + url_encode(inv.args[1]) + "/test", body,
                    json::object());
      rc)
    return rc;
  return show_json_or(inv, body, [&] {
    std::cout << "Queued " << cell(body["id"]) << " on " << cell(body["printer"])
              << "; `fulfilctl jobs` shows when it has printed.\n";
  });
}

int printers(const Invocation& inv) {
  if (inv.flags.count("discover")) {
    std::string error;
    const auto server = inv.flags.count("cups-server") ? inv.flags.at("cups-server") : "";
    const auto found = drivers::cups_destinations(server, &error);
    if (!error.empty()) {
      std::cerr << "fulfilctl: " << error << '\n';
      return unreachable;
    }
    json out = json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : found) {
      std::string reasons;
      for (const auto& r : d.reasons) reasons += (reasons.empty() ? "" : ",") + r;
      out.push_back({{"name", d.name},
                     {"info", d.info},
                     {"make_and_model", d.make_and_model},
                     {"device_uri", d.device_uri},
                     {"state", drivers::printer_state_name(d.state)},
                     {"reasons", d.reasons},
                     {"default", d.is_default}});
      rows.push_back({d.name + (d.is_default ? " (default)" : ""),
                      std::string(drivers::printer_state_name(d.state)), reasons, d.device_uri,
                      d.make_and_model});
    }
    return show_json_or(inv, {{"destinations", out}}, [&] {
      print_table({"CUPS QUEUE", "STATE", "REASONS", "DEVICE", "MODEL"}, rows);
    });
  }
  json body;
  if (int rc = call(inv, "GET", "/api/v1/printers", body); rc) return rc;
  return show_json_or(inv, body, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : body["printers"]) {
      std::string reasons;
      for (const auto& r : p["reasons"]) reasons += (reasons.empty() ? "" : ",") + cell(r);
      rows.push_back({cell(p["id"]), cell(p["kind"]), cell(p["language"]), cell(p["state"]),
                      reasons, cell(p["queued"]), cell(p["printed"]), cell(p["detail"])});
    }
    if (rows.empty()) {
      std::cout << "No printers configured (config key 'printers').\n";
      return;
    }
    print_table({"PRINTER", "KIND", "TAKES", "STATE", "REASONS", "QUEUED", "PRINTED", "DETAIL"},
                rows);
  });
}

int jobs(const Invocation& inv) {
  json body;
  if (int rc =
          call(inv, "GET",
               "/api/v1/print-jobs" + query(inv, {"state", "order_id", "printer", "limit"}), body);
      rc)
    return rc;
  return show_json_or(inv, body, [&] { print_jobs_table(body["jobs"]); });
}

int reprint(const Invocation& inv) {
  json req = json::object();
  if (inv.flags.count("printer")) req["printer"] = inv.flags.at("printer");
  json body;
  if (int rc = call(inv, "POST", "/api/v1/print-jobs/" + url_encode(inv.args[0]) + "/reprint", body,
                    req);
      rc)
    return rc;
  return show_json_or(inv, body, [&] {
    std::cout << "Queued " << cell(body["id"]) << " (a reprint of " << cell(body["reprint_of"])
              << ") on " << cell(body["printer"]) << ".\n";
  });
}

// --- configuration ------------------------------------------------------------------------

// The store box's local configuration file: where a brand's public keys go.
constexpr const char* kConfigFile = "/etc/fulfild/fulfild.json";

Expected<std::string, std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected("cannot read " + path + ": " + std::strerror(errno));
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) return unexpected("cannot read " + path);
  return s.str();
}

Expected<json, std::string> read_json(const std::string& path) {
  auto text = read_text(path);
  if (!text) return unexpected(text.error());
  auto parsed = parse_json(*text);
  if (!parsed) return unexpected(path + " is not JSON: " + parsed.error());
  return std::move(*parsed);
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// A key as `fulfilctl config keygen` gave it: the base64 key alone, keygen's output (its
// "private_key ..." or "public_key ..." line) or keygen --json's object.
std::string key_from_text(const std::string& text, const std::string& field) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_object() && j.contains(field) && j[field].is_string()) return j[field];
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string name, value;
    if (words >> name >> value && (name == field || name == field + ":")) return value;
  }
  return trimmed(text);
}

// --key for checking a signature: a public key, or a file holding one.
Expected<std::string, std::string> public_key_argument(const std::string& value) {
  std::string key = value;
  std::error_code ec;
  if (std::filesystem::is_regular_file(value, ec)) {
    auto text = read_text(value);
    if (!text) return unexpected(text.error());
    key = key_from_text(*text, "public_key");
  }
  auto raw = config::base64_decode(key);
  if (!raw || raw->size() != 32)
    return unexpected(std::string(
        "--key is not an Ed25519 public key (base64 of 32 bytes, as `fulfilctl config keygen` "
        "prints it)"));
  return key;
}

// What a remote document needs besides valid settings; empty when it has it.
std::vector<std::string> document_problems(const json& doc) {
  if (!doc.is_object()) return {"the document is not a JSON object"};
  std::vector<std::string> out;
  if (!doc.contains("version") || !doc["version"].is_number_integer() ||
      doc["version"].get<std::int64_t>() < 1)
    out.push_back(
        "the document needs \"version\", a positive integer (higher than any version the "
        "stores have had)" +
        (doc.contains("version") ? " (it has " + doc["version"].dump() + ")" : std::string()));
  if (!doc.contains("settings") || !doc["settings"].is_object())
    out.push_back(
        "the document needs \"settings\", an object with the configuration keys to set (a "
        "partial configuration, as in the local file)");
  return out;
}

// Everything the agent would refuse in remote settings: schema, local-only keys, and
// whether they load over the compiled defaults (cross-key checks).
config::ConfigErrors remote_settings_problems(const json& settings, const std::string& source) {
  auto errors = config::validate(settings, source);
  auto local_only = config::local_only_keys(settings, source);
  errors.insert(errors.end(), local_only.begin(), local_only.end());
  if (!errors.empty()) return errors;
  auto loaded = config::load(config::LoadRequest{std::nullopt, {}, settings, source});
  return loaded ? config::ConfigErrors{} : loaded.error();
}

// The dotted keys a partial configuration sets ("sync.batch_size", "printers").
void set_keys(const json& node, const std::string& path, std::vector<std::string>& out) {
  for (const auto& [key, value] : node.items()) {
    const std::string dotted = path.empty() ? key : path + "." + key;
    if (value.is_object())
      set_keys(value, dotted, out);
    else
      out.push_back(dotted);
  }
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

int config_show(const Invocation& inv) {
  json body;
  if (int rc = call(inv, "GET", "/api/v1/config", body); rc) return rc;
  return show_json_or(inv, body, [&] {
    if (!body.contains("effective")) {  // a fulfild from before remote configuration
      std::cout << "running     the local file (this fulfild does not report remote "
                   "configuration)\n\neffective configuration (secrets masked):\n"
                << body.dump(2) << '\n';
      return;
    }
    const json rollout = body.value("rollout", json::object());
    const auto version =
        body.value("remote_version", rollout.value("running_version", std::int64_t{0}));
    if (version > 0)
      std::cout << "running     remote configuration version " << version
                << " over the local file\n";
    else
      std::cout << "running     the local file only (no remote configuration)\n";
    if (rollout.contains("trying_version")) {
      const auto left_ms = rollout.value("deadline_in_ms", std::int64_t{0});
      std::cout << "on trial    version " << cell(rollout["trying_version"])
                << ": kept once healthy, rolled back if not within " << (left_ms + 999) / 1000
                << " s\n";
      bool first = true;
      for (const auto& p : rollout.value("problems", json::array())) {
        std::cout << (first ? "problems    " : "            ") << cell(p) << '\n';
        first = false;
      }
    }
    std::cout << "\neffective configuration (defaults < local file < remote < --set; secrets "
                 "masked):\n"
              << body["effective"].dump(2) << '\n';
  });
}

int config_history(const Invocation& inv) {
  json body;
  if (int rc = call(inv, "GET", "/api/v1/config/history" + query(inv, {"limit"}), body); rc)
    return rc;
  return show_json_or(inv, body, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : body["configs"]) {
      const auto version = c.value("version", std::int64_t{0});
      rows.push_back({version > 0 ? std::to_string(version) : "-", cell(c["state"]),
                      time_text(c.value("decided_at", std::int64_t{0})),
                      c.value("key_id", "").empty() ? "-" : cell(c["key_id"]), cell(c["reason"])});
    }
    if (rows.empty()) {
      std::cout << "No remote configuration has been received; the local file alone is "
                   "running.\n";
      return;
    }
    print_table({"VERSION", "STATE", "DECIDED", "KEY", "REASON"}, rows);
  });
}

// A remote document or a signed payload: decoded, the signature checked with --key, the
// settings checked as the agent would (over the compiled defaults, not a store's file).
void check_remote(const Invocation& inv, const std::string& path, json& report,
                  std::vector<std::string>& problems, std::vector<std::string>& notes) {
  auto doc = read_json(path);
  if (!doc) return problems.push_back(doc.error());
  const bool with_key = inv.flags.count("key") > 0;
  if (doc->is_object() && (doc->contains("config") || doc->contains("signature"))) {
    if (with_key) {
      auto key = public_key_argument(inv.flags.at("key"));
      if (!key) return problems.push_back(key.error());
      auto verified = config::verify_desired_config(*doc, {*key});
      if (!verified)
        return problems.push_back("refused (" +
                                  std::string(config::refusal_code_name(verified.error().code)) +
                                  "): " + verified.error().message);
      report["signature"] = "verified";
      notes.push_back("the signature verifies with the given key");
      *doc = parse_json(verified->body).value_or(json());
    } else {
      const json& config = (*doc)["config"];
      auto bytes = config::base64_decode(config.is_string() ? config.get<std::string>() : "");
      if (!bytes || bytes->empty())
        return problems.push_back("\"config\" is not base64 of the signed document" +
                                  (bytes ? std::string() : " (" + bytes.error() + ")"));
      auto parsed = parse_json(*bytes);
      if (!parsed) return problems.push_back("the signed document in \"config\" is not JSON");
      json inner = std::move(*parsed);
      report["signature"] = "not checked";
      notes.push_back("the signature is not checked (give --key PUBLIC_KEY to check it)");
      *doc = std::move(inner);
    }
  } else {
    report["signature"] = "unsigned";
    if (with_key)
      problems.push_back(path +
                         " is an unsigned document, not a signed payload ({\"config\", "
                         "\"signature\"}), so --key has nothing to check");
  }
  auto wrong = document_problems(*doc);
  problems.insert(problems.end(), wrong.begin(), wrong.end());
  if (!doc->is_object()) return;
  if ((*doc)["version"].is_number_integer()) report["version"] = (*doc)["version"];
  if (doc->contains("store_id")) report["store_id"] = (*doc)["store_id"];
  if (!(*doc)["settings"].is_object()) return;
  for (const auto& e : remote_settings_problems((*doc)["settings"], "remote " + path))
    problems.push_back(e.describe());
  std::vector<std::string> keys;
  set_keys((*doc)["settings"], "", keys);
  report["sets"] = keys;
}

int config_validate(const Invocation& inv) {
  const std::string& path = inv.args[0];
  const bool remote = inv.flags.count("remote") > 0;
  if (inv.flags.count("key") && !remote) {
    std::cerr << "fulfilctl: --key checks a signed remote configuration; add --remote\n";
    return usage;
  }
  json report = {{"file", path}, {"kind", remote ? "remote" : "local"}};
  std::vector<std::string> problems, notes;
  if (remote) {
    check_remote(inv, path, report, problems, notes);
  } else if (auto loaded = config::load(config::LoadRequest{path, {}}); !loaded) {
    for (const auto& e : loaded.error()) problems.push_back(e.describe());
  }
  report["valid"] = problems.empty();
  report["problems"] = problems;
  const int rc = problems.empty() ? ok : refused;
  if (inv.json) {
    std::cout << report.dump(2) << '\n';
    return rc;
  }
  for (const auto& n : notes) std::cout << path << ": " << n << '\n';
  for (const auto& p : problems) std::cerr << "fulfilctl: " << p << '\n';
  if (!problems.empty()) {
    std::cerr << path << ": not valid (" << problems.size()
              << (problems.size() == 1 ? " problem)\n" : " problems)\n");
    return rc;
  }
  std::cout << path << ": valid";
  if (remote) {
    std::cout << " remote configuration, version " << cell(report["version"]);
    if (report.contains("store_id")) std::cout << " for store " << cell(report["store_id"]);
    const auto keys = report["sets"].get<std::vector<std::string>>();
    std::cout << "; it sets " << (keys.empty() ? "nothing" : joined(keys));
  }
  std::cout << '\n';
  return rc;
}

int config_keygen(const Invocation& inv) {
  config::SigningKey key;
  try {
    key = config::generate_signing_key();
  } catch (const std::exception& e) {
    std::cerr << "fulfilctl: " << e.what() << '\n';
    return refused;
  }
  const json out = {{"private_key", key.private_key}, {"public_key", key.public_key}};
  return show_json_or(inv, out, [&] {
    std::cout << "private_key  " << key.private_key << "\npublic_key   " << key.public_key
              << "\n# Keep the private key secret (`fulfilctl config sign --key FILE` reads it "
                 "from this output); the public key goes in remote_config.public_keys in "
              << kConfigFile << " on every store box.\n";
  });
}

int config_sign(const Invocation& inv) {
  if (!inv.flags.count("key")) {
    std::cerr << "fulfilctl: config sign needs --key PRIVATE_KEY_FILE (from `fulfilctl config "
                 "keygen`)\n";
    return usage;
  }
  auto key_text = read_text(inv.flags.at("key"));
  if (!key_text) {
    std::cerr << "fulfilctl: " << key_text.error() << '\n';
    return refused;
  }
  const std::string& path = inv.args[0];
  auto doc = read_json(path);
  if (!doc) {
    std::cerr << "fulfilctl: " << doc.error() << '\n';
    return refused;
  }
  if (auto wrong = document_problems(*doc); !wrong.empty()) {
    for (const auto& p : wrong) std::cerr << "fulfilctl: " << path << ": " << p << '\n';
    std::cerr << "fulfilctl: not signed; a remote document is {\"version\": N, \"settings\": "
                 "{...}} (optionally \"store_id\", \"issued_at\")\n";
    return refused;
  }
  const std::string key_id = inv.flags.count("key-id") ? inv.flags.at("key-id") : "";
  auto payload = config::sign_desired_config(*doc, key_from_text(*key_text, "private_key"), key_id);
  if (!payload) {
    std::cerr << "fulfilctl: " << inv.flags.at("key") << ": " << payload.error() << '\n';
    return refused;
  }
  // Signed anyway (tests and labs push bad ones on purpose), but said.
  for (const auto& e : remote_settings_problems((*doc)["settings"], "remote " + path))
    std::cerr << "fulfilctl: warning: the agent will refuse this: " << e.describe() << '\n';
  std::cout << payload->dump(2) << '\n';
  return ok;
}

int audit(const Invocation& inv) {
  json body;
  if (int rc = call(
          inv, "GET",
          "/api/v1/audit" + query(inv, {"limit", "actor", "action", "order", "since", "until"}),
          body);
      rc)
    return rc;
  return show_json_or(inv, body, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : body["entries"])
      rows.push_back({time_text(e["at"].get<std::int64_t>()), cell(e["actor"]), cell(e["role"]),
                      cell(e["action"]), cell(e["status"]), cell(e["detail"])});
    print_table({"AT", "WHO", "ROLE", "ACTION", "STATUS", "DETAIL"}, rows);
  });
}

// Local: what a scan means, without asking the agent (store IT debugging a scanner).
int barcode(const Invocation& inv) {
  if (inv.args[0] != "parse") {
    std::cerr << "fulfilctl: unknown barcode command '" << inv.args[0] << "' (expected: parse)\n";
    return usage;
  }
  auto decoded = drivers::decode_barcode(inv.args[1]);
  if (!decoded) {
    if (inv.json)
      std::cout << json{{"error", {{"code", "bad_barcode"}, {"message", decoded.error().message}}}}
                       .dump(2)
                << '\n';
    std::cerr << "fulfilctl: " << decoded.error().message << '\n';
    return refused;
  }
  json elements = json::array();
  for (const auto& e : decoded->elements) {
    json j = {{"ai", e.ai}, {"title", e.title}, {"value", e.value}};
    if (e.date) j["date"] = *e.date;
    if (e.decimal) j["decimal"] = *e.decimal;
    elements.push_back(j);
  }
  const json out = {{"symbology", drivers::symbology_name(decoded->symbology)},
                    {"data", decoded->data},
                    {"gtin14", decoded->gtin14 ? json(*decoded->gtin14) : json(nullptr)},
                    {"elements", elements}};
  return show_json_or(inv, out, [&] {
    std::string shown;  // FNC1 separators made visible
    for (char c : decoded->data)
      shown += c == drivers::kGroupSeparator ? std::string("<GS>") : std::string(1, c);
    std::cout << "symbology  " << cell(out["symbology"]) << "\ndata       " << shown
              << "\nGTIN-14    " << cell(out["gtin14"]) << '\n';
    if (elements.empty()) return;
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : elements)
      rows.push_back({"(" + cell(e["ai"]) + ")", cell(e["title"]), cell(e["value"]),
                      e.contains("date")      ? cell(e["date"])
                      : e.contains("decimal") ? cell(e["decimal"])
                                              : ""});
    std::cout << '\n';
    print_table({"AI", "TITLE", "VALUE", "MEANING"}, rows);
  });
}

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"status",
       "status",
       "the agent's health: store, version, outbox, cloud link, orders",
       {},
       0,
       0,
       status},
      {"orders",
       "orders [--state S] [--method ship|pickup] [--kind customer|transfer] [--limit N]",
       "list fulfilment orders (--kind transfer: transfers to other stores)",
       {"state", "method", "kind", "limit"},
       0,
       0,
       orders},
      {"order", "order ID", "one order with its lines (and its pickup code)", {}, 1, 1, order},
      {"inventory",
       "inventory QUERY",
       "stock by SKU, barcode or words of the title",
       {},
       1,
       1,
       inventory},
      {"pair",
       "pair --role associate|manager|pos [--name N] [--station S] [--ttl SECONDS]",
       "print a one-time code that pairs a terminal",
       {"role", "name", "station", "ttl"},
       0,
       0,
       pair},
      {"terminals",
       "terminals [--all]",
       "paired terminals (--all: with revoked ones)",
       {"all!"},
       0,
       0,
       terminals},
      {"revoke",
       "revoke TERMINAL_ID",
       "revoke a terminal's token; it is disconnected at once",
       {},
       1,
       1,
       revoke},
      {"outbox", "outbox", "events waiting for the cloud, and dead letters", {}, 0, 0, outbox},
      {"retry",
       "retry EVENT_ID",
       "send a dead letter to the cloud again (once its cause is put right)",
       {},
       1,
       1,
       retry},
      {"printers",
       "printers [--discover [--cups-server HOST:PORT]]",
       "configured printers and their state; --discover lists a CUPS server's queues",
       {"discover!", "cups-server"},
       0,
       0,
       printers},
      {"jobs",
       "jobs [--state S] [--order_id ID] [--printer P] [--limit N]",
       "the print queue, newest first",
       {"state", "order_id", "printer", "limit"},
       0,
       0,
       jobs},
      {"reprint",
       "reprint JOB [--printer P]",
       "print a job's document again (on another printer with --printer)",
       {"printer"},
       1,
       1,
       reprint},
      {"print", "print test PRINTER", "print a test label", {}, 2, 2, print},
      {"label",
       "label render KIND --order ID [--format zpl|pdf]",
       "write a document to stdout (shipping_label, packing_slip, pick_list, "
       "pickup_shelf_label, return_label)",
       {"order", "format"},
       2,
       2,
       label},
      {"devices",
       "devices",
       "barcode scanners and their state, and each station's session",
       {},
       0,
       0,
       devices},
      {"config show",
       "config show",
       "the running configuration: remote version, a trial in progress, every key in effect",
       {},
       0,
       0,
       config_show},
      {"config history",
       "config history [--limit N]",
       "remote configurations received, newest first, with what became of each and why",
       {"limit"},
       0,
       0,
       config_history},
      {"config validate",
       "config validate FILE [--remote [--key PUBLIC_KEY]]",
       "check a local configuration file, or (--remote) a remote document or signed payload "
       "as the agent would; --key checks the signature (no agent needed)",
       {"remote!", "key"},
       1,
       1,
       config_validate},
      {"config keygen",
       "config keygen",
       "a new Ed25519 key pair for signing remote configuration (no agent needed)",
       {},
       0,
       0,
       config_keygen},
      {"config sign",
       "config sign --key PRIVATE_KEY_FILE [--key-id ID] DOCUMENT_FILE",
       "sign a remote document {\"version\": N, \"settings\": {...}} into a config.desired "
       "payload (no agent needed)",
       {"key", "key-id"},
       1,
       1,
       config_sign},
      {"audit",
       "audit [--actor WHO] [--action TEXT] [--order ID] [--since MS] [--until MS] [--limit N]",
       "recent changes made through the terminal API, with who made them",
       {"limit", "actor", "action", "order", "since", "until"},
       0,
       0,
       audit},
      {"barcode",
       "barcode parse DATA",
       "what a scan means: symbology, GTIN, GS1 elements (no agent needed)",
       {},
       2,
       2,
       barcode},
  };
  return all;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

// The commands of a group ("config": config show, config history, ...); empty for none.
std::vector<const Command*> group_commands(const std::string& group) {
  std::vector<const Command*> out;
  for (const auto& c : commands())
    if (std::string(c.name).rfind(group + " ", 0) == 0) out.push_back(&c);
  return out;
}

// A flag that takes no value (marked with '!' by the commands that accept it).
bool is_switch(const std::string& name) {
  for (const auto& c : commands())
    for (std::string f : c.flags)
      if (f == name + "!") return true;
  return false;
}

void print_help() {
  std::cout << "fulfilctl: the store manager's command line for fulfild\n\n"
               "usage: fulfilctl [--socket PATH] [--json] COMMAND [ARGS]\n\ncommands:\n";
  for (const auto& c : commands()) std::cout << "  " << c.usage << "\n      " << c.summary << '\n';
  std::cout << "\noptions:\n"
               "  --socket PATH  the agent's Unix socket (default $FULFIL_SOCKET, else "
               "/run/fulfild/api.sock)\n"
               "  --json         print the agent's JSON instead of tables\n"
               "  --help         this help; `fulfilctl COMMAND --help` for one command\n\n"
               "exit codes: 0 done; 1 refused by the agent (the message says why), or what was "
               "checked\n            or signed without an agent is not valid; 2 bad command "
               "line;\n            3 the agent cannot be reached; 4 the agent failed\n";
}

}  // namespace

bool parse(int argc, char** argv, Invocation& out, int& exit_code) {
  const char* env = std::getenv("FULFIL_SOCKET");
  out.socket = env && *env ? env : "/run/fulfild/api.sock";
  bool help = false;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      help = true;
    } else if (a == "--json") {
      out.json = true;
    } else if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2), value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      } else if (is_switch(name)) {
        value = "1";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        std::cerr << "fulfilctl: option --" << name << " needs a value\n";
        exit_code = usage;
        return false;
      }
      if (name == "socket")
        out.socket = value;
      else
        out.flags[name] = value;
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) {
    print_help();
    exit_code = help ? ok : usage;
    return false;
  }
  // A command of a group takes two words ("config show").
  const Command* c = words.size() > 1 ? find_command(words[0] + " " + words[1]) : nullptr;
  const std::size_t used = c ? 2 : 1;
  if (!c) c = find_command(words[0]);
  if (!c) {
    const auto group = group_commands(words[0]);
    if (group.empty()) {
      std::cerr << "fulfilctl: unknown command '" << words[0] << "'; see fulfilctl --help\n";
      exit_code = usage;
      return false;
    }
    if (help && words.size() == 1) {
      for (const Command* g : group)
        std::cout << "usage: fulfilctl [--socket PATH] [--json] " << g->usage << "\n  "
                  << g->summary << '\n';
      exit_code = ok;
      return false;
    }
    std::string names;
    for (const Command* g : group)
      names += (names.empty() ? "" : ", ") + std::string(g->name).substr(words[0].size() + 1);
    if (words.size() == 1)
      std::cerr << "fulfilctl: " << words[0] << " needs a command: " << names << '\n';
    else
      std::cerr << "fulfilctl: unknown " << words[0] << " command '" << words[1]
                << "'; expected one of: " << names << '\n';
    exit_code = usage;
    return false;
  }
  out.command = c->name;
  out.args.assign(words.begin() + static_cast<std::ptrdiff_t>(used), words.end());
  if (help) {
    std::cout << "usage: fulfilctl [--socket PATH] [--json] " << c->usage << "\n  " << c->summary
              << '\n';
    exit_code = ok;
    return false;
  }
  for (const auto& [name, value] : out.flags) {
    bool known = false;
    for (std::string f : c->flags) known |= f == name || f == name + "!";
    if (!known) {
      std::cerr << "fulfilctl: " << c->name << " has no option --" << name << "; usage: fulfilctl "
                << c->usage << '\n';
      exit_code = usage;
      return false;
    }
  }
  if (out.args.size() < c->min_args || out.args.size() > c->max_args ||
      (out.command == "pair" && !out.flags.count("role"))) {
    std::cerr << "fulfilctl: usage: fulfilctl " << c->usage << '\n';
    exit_code = usage;
    return false;
  }
  return true;
}

int run(const Invocation& invocation) {
  return find_command(invocation.command)->run(invocation);
}

}  // namespace fulfil::ctl
