// Pairing terminals (with a QR code of the code for a tablet's camera), listing and
// revoking them, and who-am-I.
#include <algorithm>
#include <cctype>
#include <deque>

#include "api_support.hpp"
#include "qr_svg.hpp"

namespace fulfil::agent::api {
namespace {

using nlohmann::json;

json terminal_json(const Terminal& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"role", role_name(t.role)},
          {"station", t.station},
          {"paired_at", t.paired_at},
          {"paired_by", t.paired_by},
          {"last_seen_at", t.last_seen_at},
          {"revoked_at", t.revoked_at}};
}

bool digits(std::string_view s, std::size_t max_len) {
  return !s.empty() && s.size() <= max_len &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// host, host:port, [IPv6] or [IPv6]:port, and nothing else: a Host header that could break
// out of the URL a QR code carries (a slash, a quote, an @) is not used.
bool plain_host(std::string_view host) {
  if (host.empty() || host.size() > 261) return false;
  std::string_view name = host, rest;
  bool ipv6 = host.front() == '[';
  if (ipv6) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    name = host.substr(1, close - 1);
    rest = host.substr(close + 1);
  } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    rest = host.substr(colon);
  }
  if (!rest.empty() && (rest.front() != ':' || !digits(rest.substr(1), 5))) return false;
  return !name.empty() && std::all_of(name.begin(), name.end(), [ipv6](unsigned char c) {
    return ipv6 ? std::isxdigit(c) != 0 || c == ':' || c == '.'
                : std::isalnum(c) != 0 || c == '.' || c == '-';
  });
}

// What a tablet's camera opens: the terminal UI's pairing screen with the code, at the
// address the manager's own browser reached this box by (the request's Host), which a
// tablet on the same LAN reaches too. The configured listen address when the request
// names none that is usable (fulfilctl on the Unix socket, a malformed header). With
// HTTPS on, the URL is HTTPS (plain HTTP would only redirect).
std::string pairing_url(const Routes& r, const ApiRequest& req, const std::string& code) {
  const auto tls = r.server.tls_status();
  std::string host = req.header("host");
  if (req.via_unix_socket || !plain_host(host) || (tls && !req.via_tls)) {
    const auto& listen = tls ? r.settings.api.https_listen_host : r.settings.api.listen_host;
    host = (listen.find(':') != std::string::npos ? "[" + listen + "]" : listen) + ":" +
           std::to_string(tls ? tls->port : r.settings.api.listen_port);
  }
  return (tls ? "https://" : "http://") + host + "/#/pair/" + code;
}

ApiResponse code_qr(Routes& r, const ApiRequest& req, const CommandContext& ctx) {
  auto code = r.store.terminals().pending_code(req.params[0], ctx.now_ms);
  if (!code) return domain_error(code.error());
  auto svg = qr_svg(pairing_url(r, req, code->code));
  if (!svg) return api_error(ApiErrc::internal, "the pairing URL does not fit in a QR code");
  ApiResponse out;
  out.body = std::move(*svg);
  out.content_type = "image/svg+xml";
  // The code is a secret for its few minutes: no cache keeps its picture.
  out.headers.push_back({"Cache-Control", "no-store"});
  return out;
}

ApiResponse issue_code(Routes& r, const ApiRequest& req, const CommandContext& ctx) {
  Body b(req, {"role", "name", "station", "ttl_s"});
  PairingRequest p;
  const auto role = b.text("role", true, 20);
  p.name = b.text("name", false, 60);
  p.station = b.text("station", false, 40);
  p.ttl_ms = b.integer("ttl_s", false, 60, 86400, r.settings.api.pairing_code_ttl_s) * 1000;
  if (!b) return b.error();
  auto parsed = role_from(role);
  if (!parsed)
    return api_error(ApiErrc::invalid_field,
                     "role must be associate, manager or pos, not '" + role + "'");
  p.role = *parsed;
  auto code = r.store.terminals().issue_code(p, ctx);
  if (!code) return domain_error(code.error());
  // The QR code inline saves the manager's screen a round trip (GET .../qr.svg draws the
  // same); it cannot fail for a URL this short, and the code is issued either way.
  const std::string url = pairing_url(r, req, code->code);
  const auto svg = qr_svg(url);
  // What the manager checks against what the tablet's browser shows for the box.
  const auto tls = r.server.tls_status();
  return json_response({{"code", code->code},
                        {"role", role},
                        {"expires_at", code->expires_at},
                        {"pair_url", url},
                        {"qr_svg", svg ? json(*svg) : json(nullptr)},
                        {"tls_fingerprint", tls ? json(tls->fingerprint_sha256) : json(nullptr)}},
                       201);
}

// Unauthenticated by nature; wrong codes are limited per minute so nine digits cannot be
// guessed in the code's lifetime.
class PairingGate {
 public:
  explicit PairingGate(int per_minute) : per_minute_(per_minute) {}
  bool open(std::int64_t now) {
    while (!failures_.empty() && now - failures_.front() > 60'000) failures_.pop_front();
    return static_cast<int>(failures_.size()) < per_minute_;
  }
  void failed(std::int64_t now) { failures_.push_back(now); }

 private:
  int per_minute_;
  std::deque<std::int64_t> failures_;
};

void add_pairing(Routes& r) {
  auto gate = std::make_shared<PairingGate>(r.settings.api.pairing_attempts_per_minute);
  r.server.route("POST", "/api/v1/pair", [&r, gate](const ApiRequest& req) {
    const CommandContext ctx{{Actor::Kind::system, "pairing"}, now_ms()};
    if (!gate->open(ctx.now_ms)) {
      r.counters.pairing_refused++;
      auto e = api_error(ApiErrc::too_many_attempts,
                         "too many wrong pairing codes; wait a minute and try again");
      e.headers.push_back({"Retry-After", "60"});
      return e;
    }
    Body b(req, {"code"});
    const auto code = b.text("code", true, 20);
    if (!b) return b.error();
    try {
      Transaction tx(r.store.db());
      auto paired = r.store.terminals().pair(code, ctx);
      if (!paired) {
        gate->failed(ctx.now_ms);
        r.counters.pairing_refused++;
        return domain_error(paired.error());
      }
      const Terminal& t = paired->terminal;
      r.store.terminals().audit("terminal:" + t.id, t.role, "POST /api/v1/pair", 201,
                                "paired as " + t.name, ctx.now_ms);
      tx.commit();
      json out = terminal_json(t);
      out["token"] = paired->token;
      return json_response(out, 201);
    } catch (const StorageFailure& e) {
      return api_error(ApiErrc::storage, storage_failure_message(e));
    }
  });
  r.add("POST", "/api/v1/pairing-codes", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          return issue_code(r, req, ctx);
        });
  r.add("GET", "/api/v1/pairing-codes/*/qr.svg", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          return code_qr(r, req, ctx);
        });
  if (r.demo) {
    // The demo has no store box shell to run fulfilctl in front of the user: its pairing
    // screen asks here. Only ever on the demo's loopback listener.
    // ?role=associate pairs the demo's browser as an associate (the default is a manager, who
    // sees everything): the demo shows either view.
    r.server.route("POST", "/api/v1/demo/pairing-code", [&r](const ApiRequest& req) {
      const bool associate = req.query_value("role") == "associate";
      PairingRequest p{associate ? Role::associate : Role::manager,
                       associate ? "Demo associate" : "Demo manager", "pack-1", 600'000};
      auto code = r.store.terminals().issue_code(p, {{Actor::Kind::system, "demo"}, now_ms()});
      if (!code) return domain_error(code.error());
      return json_response({{"code", code->code}, {"expires_at", code->expires_at}}, 201);
    });
  }
}

void add_terminals(Routes& r) {
  r.add("GET", "/api/v1/session", Role::associate,
        [](const ApiRequest&, const Caller& c, const CommandContext&) {
          return json_response({{"id", c.id},
                                {"name", c.name},
                                {"role", role_name(c.role)},
                                {"station", c.station},
                                {"local", c.local}});
        });
  r.add("GET", "/api/v1/terminals", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext&) {
          json out = json::array();
          for (const auto& t : r.store.terminals().list(req.query_value("all") == "1"))
            out.push_back(terminal_json(t));
          return json_response({{"terminals", out}});
        });
  r.add("DELETE", "/api/v1/terminals/*", Role::manager,
        [&r](const ApiRequest& req, const Caller&, const CommandContext& ctx) {
          if (auto done = r.store.terminals().revoke(req.params[0], ctx); !done)
            return domain_error(done.error());
          r.disconnect_terminal(req.params[0]);
          return json_response(terminal_json(*r.store.terminals().find(req.params[0])));
        });
}

}  // namespace

void add_terminal_routes(Routes& r) {
  add_pairing(r);
  add_terminals(r);
}

}  // namespace fulfil::agent::api
