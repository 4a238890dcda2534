#include "domain/terminals.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

#include "digest.hpp"
#include "domain/till_sales.hpp"
#include "domain/transaction.hpp"
#include "text_checks.hpp"

namespace fulfil::agent {
namespace {

void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

// "123-456-789": three groups a person reads out and types.
std::string dashed_code(unsigned long long n) {
  n %= 1000000000ULL;  // nine digits (and the compiler sees the buffer suffices)
  char buf[16];
  std::snprintf(buf, sizeof buf, "%03llu-%03llu-%03llu", n / 1000000, n / 1000 % 1000, n % 1000);
  return buf;
}

std::string new_code() {
  std::uint64_t r = 0;
  random_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r);
  return dashed_code(static_cast<unsigned long long>(r % 1000000000ULL));
}

// People type codes with or without the dashes, and with spaces.
std::string normalize_code(std::string_view code) {
  std::string digits;
  for (char c : code)
    if (c >= '0' && c <= '9') digits += c;
  return digits;
}

Result<std::string> code_digits(const std::string& code) {
  std::string digits = normalize_code(code);
  if (digits.size() != 9)
    return fail(DomainErrc::invalid_argument, "a pairing code has 9 digits, like 123-456-789");
  return digits;
}

const char* kTerminalColumns =
    "SELECT id, name, role, station, paired_at, paired_by, last_seen_at, revoked_at FROM "
    "terminal ";

Terminal read_terminal(const Statement& s) {
  return {s.text(0),  s.text(1),  role_from(s.text(2)).value_or(Role::associate),
          s.text(3),  s.int64(4), s.text(5),
          s.int64(6), s.int64(7)};
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::associate:
      return "associate";
    case Role::manager:
      return "manager";
    case Role::pos:
      return "pos";
  }
  return "associate";
}

std::optional<Role> role_from(std::string_view name) {
  for (auto r : {Role::associate, Role::manager, Role::pos})
    if (role_name(r) == name) return r;
  return std::nullopt;
}

bool role_may_call(Role caller, Role route) {
  return caller == Role::manager || caller == route;
}

Result<IssuedCode> Terminals::issue_code(const PairingRequest& request, const CommandContext& ctx) {
  if (auto ok = check_text("name", request.name, 60, false); !ok) return unexpected(ok.error());
  if (auto ok = check_text("station", request.station, 40, false); !ok)
    return unexpected(ok.error());
  // A till posts as the one till it was paired for, and only as it (the POS routes check):
  // a till's token taken to another box cannot ring up sales as every till in the store.
  if (request.role == Role::pos) {
    if (request.station.empty())
      return fail(DomainErrc::invalid_argument,
                  "station is required for a till (role pos): the till_id it posts as, "
                  "e.g. till-1");
    if (auto ok = check_till_id("station", request.station); !ok) return unexpected(ok.error());
  }
  if (request.ttl_ms < 60'000 || request.ttl_ms > 86'400'000)
    return fail(DomainErrc::invalid_argument, "a pairing code must live 60 s to 24 h");
  return commit_or_rollback(db_, [&]() -> Result<IssuedCode> {
    db_.prepare("DELETE FROM pairing_code WHERE expires_at <= ?").bind(1, ctx.now_ms).run();
    IssuedCode issued{new_code(), ctx.now_ms + request.ttl_ms};
    db_.prepare(
           "INSERT INTO pairing_code (code_hash, role, name, station, created_at, created_by, "
           "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, sha256_hex(normalize_code(issued.code)))
        .bind(2, role_name(request.role))
        .bind(3, request.name)
        .bind(4, request.station)
        .bind(5, ctx.now_ms)
        .bind(6, ctx.actor.str())
        .bind(7, issued.expires_at)
        .run();
    return issued;
  });
}

Result<IssuedCode> Terminals::pending_code(const std::string& code, std::int64_t now) {
  auto digits = code_digits(code);
  if (!digits) return unexpected(digits.error());
  auto s =
      db_.prepare("SELECT expires_at FROM pairing_code WHERE code_hash = ? AND expires_at > ?");
  s.bind(1, sha256_hex(*digits)).bind(2, now);
  const std::string dashed = dashed_code(std::stoull(*digits));
  if (!s.step())
    return fail(DomainErrc::not_found,
                "pairing code " + dashed + " is wrong, used or expired: issue a new one");
  return IssuedCode{dashed, s.int64(0)};
}

Result<Pairing> Terminals::pair(const std::string& code, const CommandContext& ctx) {
  auto checked = code_digits(code);
  if (!checked) return unexpected(checked.error());
  const std::string& digits = *checked;
  return commit_or_rollback(db_, [&]() -> Result<Pairing> {
    auto s = db_.prepare(
        "DELETE FROM pairing_code WHERE code_hash = ? AND expires_at > ? "
        "RETURNING role, name, station, created_by");
    s.bind(1, sha256_hex(digits)).bind(2, ctx.now_ms);
    if (!s.step())
      return fail(DomainErrc::not_found, "this pairing code is wrong, used or expired");
    Pairing p;
    p.terminal.role = role_from(s.text(0)).value_or(Role::associate);
    p.terminal.name = s.text(1);
    p.terminal.station = s.text(2);
    p.terminal.paired_by = s.text(3);
    while (s.step()) {
    }
    unsigned char id[4], token[32];
    random_bytes(id, sizeof id);
    random_bytes(token, sizeof token);
    p.terminal.id = "T-" + hex(id, sizeof id);
    if (p.terminal.name.empty()) p.terminal.name = "Terminal " + p.terminal.id;
    p.terminal.paired_at = p.terminal.last_seen_at = ctx.now_ms;
    p.token = hex(token, sizeof token);
    db_.prepare(
           "INSERT INTO terminal (id, name, role, station, token_hash, paired_at, paired_by, "
           "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, p.terminal.id)
        .bind(2, p.terminal.name)
        .bind(3, role_name(p.terminal.role))
        .bind(4, p.terminal.station)
        .bind(5, sha256_hex(p.token))
        .bind(6, ctx.now_ms)
        .bind(7, p.terminal.paired_by)
        .bind(8, ctx.now_ms)
        .run();
    return p;
  });
}

std::optional<Terminal> Terminals::authenticate(const std::string& token, std::int64_t now) {
  if (token.size() != 64) return std::nullopt;
  std::optional<Terminal> found;
  {
    auto s = db_.prepare(std::string(kTerminalColumns) + "WHERE token_hash = ? AND revoked_at = 0");
    s.bind(1, sha256_hex(token));
    if (s.step()) found = read_terminal(s);
  }
  if (found && now - found->last_seen_at > 60'000) {
    db_.prepare("UPDATE terminal SET last_seen_at = ? WHERE id = ?")
        .bind(1, now)
        .bind(2, found->id)
        .run();
    found->last_seen_at = now;
  }
  return found;
}

std::optional<Terminal> Terminals::find(const std::string& id) {
  auto s = db_.prepare(std::string(kTerminalColumns) + "WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_terminal(s);
}

std::vector<Terminal> Terminals::list(bool include_revoked) {
  auto s = db_.prepare(
      std::string(kTerminalColumns) +
      (include_revoked ? "ORDER BY paired_at" : "WHERE revoked_at = 0 ORDER BY paired_at"));
  std::vector<Terminal> out;
  while (s.step()) out.push_back(read_terminal(s));
  return out;
}

Result<void> Terminals::revoke(const std::string& id, const CommandContext& ctx) {
  return commit_or_rollback(db_, [&]() -> Result<void> {
    auto t = find(id);
    if (!t) return fail(DomainErrc::not_found, "no terminal " + id);
    if (t->revoked_at)
      return fail(DomainErrc::illegal_transition, "terminal " + id + " is already revoked");
    db_.prepare("UPDATE terminal SET revoked_at = ?, revoked_by = ? WHERE id = ?")
        .bind(1, ctx.now_ms)
        .bind(2, ctx.actor.str())
        .bind(3, id)
        .run();
    return {};
  });
}

void Terminals::audit(const std::string& actor, Role role, const std::string& action,
                      unsigned status, const std::string& detail, std::int64_t at) {
  db_.prepare("INSERT INTO audit (at, actor, role, action, status, detail) VALUES (?,?,?,?,?,?)")
      .bind(1, at)
      .bind(2, actor)
      .bind(3, role_name(role))
      .bind(4, action)
      .bind(5, static_cast<std::int64_t>(status))
      .bind(6, detail)
      .run();
}

std::vector<AuditEntry> Terminals::audit_entries(const AuditQuery& q) {
  // Every filter is bound (an empty one matches all) so one statement serves each query.
  // instr(), not LIKE: an order id or action text with % or _ is matched as written.
  auto s = db_.prepare(
      "SELECT at, actor, role, action, status, detail FROM audit "
      "WHERE (?1 = '' OR actor = ?1) AND (?2 = '' OR instr(action, ?2) > 0) "
      "AND (?3 = '' OR instr(action, ?3 || '/') > 0 OR substr(action, -length(?3)) = ?3) "
      "AND at >= ?4 AND (?5 = 0 OR at < ?5) AND (?6 = 0 OR status >= 400) "
      "ORDER BY id DESC LIMIT ?7");
  s.bind(1, q.actor)
      .bind(2, q.action)
      .bind(3, q.order_id.empty() ? std::string() : "/orders/" + q.order_id)
      .bind(4, q.since)
      .bind(5, q.until)
      .bind(6, std::int64_t{q.refused_only ? 1 : 0})
      .bind(7, q.limit);
  std::vector<AuditEntry> rows;
  while (s.step())
    rows.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), static_cast<unsigned>(s.int64(4)),
                    s.text(5)});
  return rows;
}

}  // namespace fulfil::agent
