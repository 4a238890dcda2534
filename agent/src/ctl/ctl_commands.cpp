#include "ctl_commands.hpp"

#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ctl_client.hpp"
#include "drivers/barcode.hpp"
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
  if (int rc = call(inv, "GET", "/api/v1/orders" + query(inv, {"state", "method", "limit"}), body))
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
              << "\ncustomer  " << cell(o["customer"]["name"]) << "\nrouted    "
              << time_text(o["routed_at"].get<std::int64_t>()) << "\n";
    if (!o.value("pickup_code", "").empty())
      std::cout << "pickup    " << cell(o["pickup_code"]) << '\n';
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
              << "; it pairs one terminal. Open the terminal UI on the tablet or counter PC and "
                 "enter it.\n";
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
                      time_text(e["created_at"].get<std::int64_t>())});
    std::cout << "\nDead letters (refused by the cloud; see the agent log for each reason):\n";
    print_table({"SEQ", "TYPE", "SUBJECT", "EVENT", "CREATED"}, rows);
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

int config_show(const Invocation& inv) {
  if (inv.args[0] != "show") {
    std::cerr << "fulfilctl: unknown config command '" << inv.args[0] << "' (expected: show)\n";
    return usage;
  }
  json body;
  if (int rc = call(inv, "GET", "/api/v1/config", body); rc) return rc;
  std::cout << body.dump(2) << '\n';
  return ok;
}

int audit(const Invocation& inv) {
  json body;
  if (int rc = call(inv, "GET", "/api/v1/audit" + query(inv, {"limit"}), body); rc) return rc;
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
       "orders [--state S] [--method ship|pickup] [--limit N]",
       "list fulfilment orders",
       {"state", "method", "limit"},
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
       "pair --role associate|manager [--name N] [--station S] [--ttl SECONDS]",
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
      {"config", "config show", "the running configuration", {}, 1, 1, config_show},
      {"audit",
       "audit [--limit N]",
       "recent changes made through the terminal API, with who made them",
       {"limit"},
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

void print_help() {
  std::cout << "fulfilctl: the store manager's command line for fulfild\n\n"
               "usage: fulfilctl [--socket PATH] [--json] COMMAND [ARGS]\n\ncommands:\n";
  for (const auto& c : commands()) std::cout << "  " << c.usage << "\n      " << c.summary << '\n';
  std::cout << "\noptions:\n"
               "  --socket PATH  the agent's Unix socket (default $FULFIL_SOCKET, else "
               "/run/fulfild/api.sock)\n"
               "  --json         print the agent's JSON instead of tables\n"
               "  --help         this help; `fulfilctl COMMAND --help` for one command\n\n"
               "exit codes: 0 done; 1 refused by the agent (the message says why); 2 bad "
               "command line;\n            3 the agent cannot be reached; 4 the agent failed\n";
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
      } else if (name == "all") {
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
  out.command = words[0];
  out.args.assign(words.begin() + 1, words.end());
  const Command* c = find_command(out.command);
  if (!c) {
    std::cerr << "fulfilctl: unknown command '" << out.command << "'; see fulfilctl --help\n";
    exit_code = usage;
    return false;
  }
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
