#include "domain/cloud_commands.hpp"

#include <openssl/evp.h>

#include "domain/order_codec.hpp"
#include "domain/transaction.hpp"
#include "payload_fields.hpp"

namespace fulfil::agent {
namespace {

using nlohmann::json;
using namespace payload;

// Standard base64 (RFC 4648) with padding, as the protocol sends binary documents.
std::string base64_decoded(const std::string& text, const std::string& path) {
  if (text.empty() || text.size() % 4 != 0)
    bad(path, "expected base64 (a multiple of 4 characters)");
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) bad(path, "expected base64");
  // EVP_DecodeBlock counts padding as data: drop one byte per '='.
  std::size_t size = static_cast<std::size_t>(n);
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) --size;
  out.resize(size);
  return out;
}

void store_cursor(Database& db, const std::string& cursor) {
  db.prepare(
        "INSERT INTO sync_state (key, value) VALUES ('feed_cursor', ?) "
        "ON CONFLICT(key) DO UPDATE SET value=excluded.value")
      .bind(1, cursor)
      .run();
}

Result<CommandOutcome> as_outcome(const Result<void>& r) {
  if (!r) return unexpected(r.error());
  return CommandOutcome::applied;
}

}  // namespace

std::string_view outcome_name(CommandOutcome outcome) {
  switch (outcome) {
    case CommandOutcome::applied:
      return "applied";
    case CommandOutcome::duplicate:
      return "duplicate";
    case CommandOutcome::rejected:
      return "rejected";
    case CommandOutcome::deferred:
      return "deferred";
  }
  return "rejected";
}

FeedCommand feed_command_from(const json& j, const std::string& fallback_cursor) {
  FeedCommand c;
  const bool object = j.is_object();
  c.cursor = object && j.contains("cursor") && j["cursor"].is_string()
                 ? j["cursor"].get<std::string>()
                 : fallback_cursor;
  c.id = object && j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : "";
  if (c.id.empty() || c.id.size() > 128) c.id = "invalid-at-cursor:" + c.cursor.substr(0, 100);
  c.type =
      object && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
  c.issued_at = object && j.contains("issued_at") && j["issued_at"].is_number_integer()
                    ? j["issued_at"].get<std::int64_t>()
                    : 0;
  c.payload = object && j.contains("payload") ? j["payload"] : json();
  return c;
}

Result<CommandOutcome> CloudCommands::dispatch(const FeedCommand& cmd, const CommandContext& ctx) {
  const json& p = cmd.payload;
  try {
    if (cmd.type == "order.routed") {
      auto order = routed_order_from(p);
      if (!order) return fail(DomainErrc::invalid_argument, order.error());
      return as_outcome(store_.orders().receive(*order, ctx));
    }
    if (cmd.type == "transfer.requested") return transfer_requested(p, ctx);
    if (cmd.type == "transfer.cancelled") return transfer_cancelled(p, ctx);
    if (cmd.type == "order.cancel_requested") {
      auto r = store_.orders().request_cancel(text(p, "order_id", "payload"),
                                              text(p, "reason", "payload", false), ctx);
      if (!r) return unexpected(r.error());
      return CommandOutcome::applied;
    }
    if (cmd.type == "order.updated") {
      std::optional<Address> address;
      std::optional<bool> hold;
      if (p.is_object() && p.contains("address"))
        address = address_from(p.at("address"), "payload.address");
      if (p.is_object() && p.contains("hold")) {
        if (!p.at("hold").is_boolean()) bad("payload.hold", "expected true or false");
        hold = p.at("hold").get<bool>();
      }
      return as_outcome(
          store_.orders().update_from_cloud(text(p, "order_id", "payload"), address, hold, ctx));
    }
    if (cmd.type == "catalog.upsert") {
      const json& items = array(p, "items", "payload");
      for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string ip = "payload.items[" + std::to_string(i) + "]";
        const json& it = items[i];
        SkuRecord r{text(it, "sku", ip),
                    text(it, "title", ip),
                    text(it, "bin", ip, false),
                    {},
                    integer(it, "safety_stock", ip, false)};
        if (it.contains("barcodes")) {
          for (const auto& b : array(it, "barcodes", ip)) {
            if (!b.is_string()) bad(ip + ".barcodes", "expected strings");
            r.barcodes.push_back(b.get<std::string>());
          }
        }
        if (auto ok = store_.inventory().upsert(r, ctx); !ok) {
          DomainError e = ok.error();
          e.message = ip + ": " + e.message;
          return unexpected(e);
        }
      }
      return CommandOutcome::applied;
    }
    if (cmd.type == "inventory.snapshot") {
      InventorySnapshot snap;
      snap.watermark_seq = integer(p, "watermark_seq", "payload", true);
      const json& items = array(p, "items", "payload");
      for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string ip = "payload.items[" + std::to_string(i) + "]";
        snap.items.push_back({text(items[i], "sku", ip), integer(items[i], "on_hand", ip, true),
                              integer(items[i], "unsellable", ip, false)});
      }
      auto r = store_.inventory().apply_snapshot(snap, ctx);
      if (!r) return unexpected(r.error());
      store_.db().prepare("DELETE FROM sync_state WHERE key='snapshot_requested'").run();
      return CommandOutcome::applied;
    }
    if (cmd.type == "shipping_label.issued") return shipping_label(p, ctx);
    if (cmd.type == "shipment.inbound") return inbound_shipment(p, ctx);
    if (cmd.type == "shipment.cancelled")
      return as_outcome(store_.receiving().cancel(text(p, "shipment_id", "payload"),
                                                  text(p, "reason", "payload", false), ctx));
    if (cmd.type == "config.desired") {
      // Stored as received; the daemon's config rollout verifies, applies and reports it
      // (its outcome is an event of its own, config.applied/refused/rolled_back).
      store_.remote_configs().receive(cmd.id, p, ctx.now_ms);
      return CommandOutcome::deferred;
    }
    return fail(DomainErrc::invalid_argument, cmd.type.empty()
                                                  ? "command has no type"
                                                  : "unknown command type '" + cmd.type + "'");
  } catch (const PayloadError& e) {
    return fail(DomainErrc::invalid_argument, e.message);
  }
}

// The carrier's label for one package, printed byte for byte when the shipping label is
// printed (instead of the store's fallback label).
Result<CommandOutcome> CloudCommands::shipping_label(const json& p, const CommandContext& ctx) {
  CarrierLabel label;
  label.order_id = text(p, "order_id", "payload");
  label.package_no = static_cast<int>(integer(p, "package_no", "payload", false, 1));
  if (label.package_no < 1 || label.package_no > 99) bad("payload.package_no", "expected 1 to 99");
  label.carrier = text(p, "carrier", "payload", false);
  label.tracking = text(p, "tracking", "payload", false);
  label.format = text(p, "format", "payload");
  if (label.format != "zpl" && label.format != "pdf") bad("payload.format", "expected zpl or pdf");
  label.document = base64_decoded(text(p, "data_base64", "payload"), "payload.data_base64");
  if (label.format == "pdf" && !label.document.starts_with("%PDF"))
    bad("payload.data_base64", "the document is not a PDF");
  if (!store_.orders().find(label.order_id))
    return fail(DomainErrc::not_found, "no fulfilment order " + label.order_id);
  label.received_at = ctx.now_ms;
  store_.print_jobs().store_carrier_label(label);
  return CommandOutcome::applied;
}

// The cloud asks the store to send stock to another store: an order of kind transfer,
// received like a routed order (accepted, reserved, picked, packed, shipped).
Result<CommandOutcome> CloudCommands::transfer_requested(const json& p, const CommandContext& ctx) {
  auto transfer = transfer_order_from(p);
  if (!transfer) return fail(DomainErrc::invalid_argument, transfer.error());
  auto ok = store_.orders().receive(*transfer, ctx);
  if (!ok && (ok.error().code == DomainErrc::invalid_argument ||
              ok.error().code == DomainErrc::unknown_sku)) {
    // The domain names the transfer's field; here it is a field of the payload.
    DomainError e = ok.error();
    e.message = "payload." + e.message;
    return unexpected(e);
  }
  return as_outcome(ok);
}

// The cloud withdraws a transfer: cancelled as a cancel request cancels an order (its
// reservations released, picked units put back), refused once it has shipped. Only a
// transfer: a customer order's cancellation is order.cancel_requested.
Result<CommandOutcome> CloudCommands::transfer_cancelled(const json& p, const CommandContext& ctx) {
  const std::string id = text(p, "transfer_id", "payload");
  const auto order = store_.orders().find(id);
  if (!order) return fail(DomainErrc::not_found, "no transfer " + id);
  if (order->kind != OrderKind::transfer)
    return fail(DomainErrc::invalid_argument,
                "payload.transfer_id: " + id + " is a customer order, not a transfer");
  auto r = store_.orders().request_cancel(id, text(p, "reason", "payload", false), ctx);
  if (!r) return unexpected(r.error());
  return CommandOutcome::applied;
}

// A shipment on its way to the store (or an update of one), with the lines it should hold.
Result<CommandOutcome> CloudCommands::inbound_shipment(const json& p, const CommandContext& ctx) {
  if (!p.is_object()) bad("payload", "expected an object");
  InboundShipment s;
  s.id = text(p, "shipment_id", "payload");
  const auto kind = shipment_kind_from(text(p, "kind", "payload"));
  if (!kind) bad("payload.kind", "expected purchase_order, asn or transfer");
  s.kind = *kind;
  s.source = text(p, "source", "payload");
  if (p.contains("barcodes")) {
    const json& codes = array(p, "barcodes", "payload");
    for (std::size_t i = 0; i < codes.size(); ++i) {
      if (!codes[i].is_string())
        bad("payload.barcodes[" + std::to_string(i) + "]", "expected a string");
      s.barcodes.push_back(codes[i].get<std::string>());
    }
  }
  const json& lines = array(p, "lines", "payload");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string ip = "payload.lines[" + std::to_string(i) + "]";
    s.lines.push_back({text(lines[i], "sku", ip), integer(lines[i], "quantity", ip, true)});
  }
  if (p.contains("expected_at") && !p.at("expected_at").is_null())
    s.expected_at = integer(p, "expected_at", "payload", true);
  auto ok = store_.receiving().announce(s, ctx);
  if (!ok && ok.error().code != DomainErrc::illegal_transition &&
      ok.error().code != DomainErrc::storage) {
    // The domain names the field; here it is a field of the payload.
    DomainError e = ok.error();
    e.message = "payload." + e.message;
    return unexpected(e);
  }
  return as_outcome(ok);
}

Result<CommandResult> CloudCommands::apply(const FeedCommand& cmd, std::int64_t now) {
  Database& db = store_.db();
  return commit_or_rollback(db, [&]() -> Result<CommandResult> {
    {
      auto seen = db.prepare("SELECT 1 FROM inbox WHERE command_id=?");
      seen.bind(1, cmd.id);
      if (seen.step()) {
        store_cursor(db, cmd.cursor);
        return CommandResult{CommandOutcome::duplicate, ""};
      }
    }
    const CommandContext ctx{{Actor::Kind::cloud, "feed"}, now};
    // The effect runs in its own savepoint: a refusal half-way (say the third catalog item)
    // undoes the first two, while the rejection itself still commits below.
    auto effect = commit_or_rollback(db, [&]() { return dispatch(cmd, ctx); });
    if (!effect && effect.error().code == DomainErrc::storage) return unexpected(effect.error());
    CommandResult result{effect ? *effect : CommandOutcome::rejected,
                         effect ? "" : effect.error().message};
    if (!effect)
      store_.outbox().append("command.rejected", cmd.id,
                             {{"command_id", cmd.id},
                              {"command_type", cmd.type},
                              {"code", errc_name(effect.error().code)},
                              {"reason", result.detail}},
                             now);
    db.prepare(
          "INSERT INTO inbox (command_id, type, cursor, outcome, detail, applied_at) "
          "VALUES (?,?,?,?,?,?)")
        .bind(1, cmd.id)
        .bind(2, cmd.type.substr(0, 100))
        .bind(3, cmd.cursor)
        .bind(4, outcome_name(result.outcome))
        .bind(5, result.detail)
        .bind(6, now)
        .run();
    store_cursor(db, cmd.cursor);
    return result;
  });
}

std::string CloudCommands::cursor() {
  auto s = store_.db().prepare("SELECT value FROM sync_state WHERE key='feed_cursor'");
  return s.step() ? s.text(0) : std::string();
}

Result<void> CloudCommands::advance_cursor(const std::string& cursor) {
  return commit_or_rollback(store_.db(), [&]() -> Result<void> {
    store_cursor(store_.db(), cursor);
    return {};
  });
}

std::int64_t CloudCommands::applied_count() {
  auto s = store_.db().prepare("SELECT count(*) FROM inbox");
  s.step();
  return s.int64(0);
}

}  // namespace fulfil::agent

namespace fulfil::agent {

Result<void> CloudCommands::request_snapshot(const std::string& reason, std::int64_t now_ms) {
  return commit_or_rollback(store_.db(), [&]() -> Result<void> {
    store_.db()
        .prepare(
            "INSERT INTO sync_state (key, value) VALUES ('snapshot_requested', ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value")
        .bind(1, nlohmann::json{{"reason", reason}, {"since", now_ms}}.dump())
        .run();
    return {};
  });
}

nlohmann::json CloudCommands::snapshot_requested() {
  auto s = store_.db().prepare("SELECT value FROM sync_state WHERE key='snapshot_requested'");
  if (!s.step()) return nullptr;
  auto j = nlohmann::json::parse(s.text(0), nullptr, false);
  return j.is_object() ? j : nullptr;
}

}  // namespace fulfil::agent
