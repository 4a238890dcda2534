#pragma once
// The store's paired terminals (browsers on counter PCs and tablets). A manager issues a
// one-time pairing code on the store box; a terminal exchanges it for a bearer token. Codes
// and tokens are stored only as SHA-256 hashes: a copy of the database lets nobody in.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/domain.hpp"
#include "storage/database.hpp"

namespace fulfil::agent {

// A route is for associates (managers may call it too), for managers only, or for the
// store's tills (the POS feed; managers may call it too). A till's token opens nothing
// but the POS routes: a till on the shop floor must not be able to pick or pair.
enum class Role { associate, manager, pos };
std::string_view role_name(Role role);
std::optional<Role> role_from(std::string_view name);
// Whether a caller with `caller` may call a route declared for `route`.
bool role_may_call(Role caller, Role route);

struct Terminal {
  std::string id;    // "T-" + 8 hex digits
  std::string name;  // "Counter 2", "Pack desk tablet"
  Role role = Role::associate;
  // The pack desk whose scanners and printers it uses; may be empty. A till's (role pos):
  // the till_id it posts transactions as, always set.
  std::string station;
  std::int64_t paired_at = 0;
  std::string paired_by;
  std::int64_t last_seen_at = 0;
  std::int64_t revoked_at = 0;  // 0 while the token is valid
};

struct PairingRequest {
  Role role = Role::associate;
  std::string name;
  std::string station;
  std::int64_t ttl_ms = 10 * 60 * 1000;
};

struct IssuedCode {
  std::string code;  // "123-456-789": typed on a tablet, so digits only
  std::int64_t expires_at = 0;
};

// One row of the audit trail: a mutation made through the local API, refused ones too.
struct AuditEntry {
  std::int64_t at = 0;
  std::string actor;  // "terminal:T-1a2b3c4d", "local:uid=0", "system:desk-sessions"
  std::string role;
  std::string action;  // "POST /api/v1/orders/FO-1/accept"
  unsigned status = 0;
  std::string detail;  // the refusal's error code, or ""
};

// What a manager looks for in the audit trail; empty fields do not filter.
struct AuditQuery {
  std::string actor;                  // exactly this actor
  std::string action;                 // the action contains this text ("accept", "/inventory/")
  std::string order_id;               // changes made to this order through its own routes
  std::int64_t since = 0, until = 0;  // ms; `until` exclusive, 0: open-ended
  bool refused_only = false;          // status 400 and above
  std::int64_t limit = 100;
};

struct Pairing {
  Terminal terminal;
  std::string token;  // shown once, to the terminal that paired
};

class Terminals {
 public:
  explicit Terminals(Database& db) : db_(db) {}
  Result<IssuedCode> issue_code(const PairingRequest& request, const CommandContext& ctx);
  // A code issued and not yet used nor expired, as issued (for its QR code); not_found
  // otherwise, invalid_argument when it is not 9 digits. Changes nothing.
  Result<IssuedCode> pending_code(const std::string& code, std::int64_t now);
  // A wrong, used or expired code is not_found (which of these is not told to a guesser).
  Result<Pairing> pair(const std::string& code, const CommandContext& ctx);
  // The terminal a token belongs to, unless unknown or revoked. Records when it was last
  // seen, at most once a minute (so a busy scanner does not write on every request).
  std::optional<Terminal> authenticate(const std::string& token, std::int64_t now);
  std::optional<Terminal> find(const std::string& id);
  std::vector<Terminal> list(bool include_revoked);
  Result<void> revoke(const std::string& id, const CommandContext& ctx);
  // One row per mutation through the local API; written inside the caller's transaction.
  void audit(const std::string& actor, Role role, const std::string& action, unsigned status,
             const std::string& detail, std::int64_t at);
  // Newest first.
  std::vector<AuditEntry> audit_entries(const AuditQuery& query);

 private:
  Database& db_;
};

}  // namespace fulfil::agent
