#pragma once
// fulfild's configuration: compiled defaults < local JSON file < command-line overrides.
// Every key is described once, in config/schema.json (embedded into the binary); the
// validator, the defaults and the README's reference are all derived from it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/expected.hpp"
#include "config/log.hpp"

namespace fulfil::config {

// One refused setting: which key, the value given, and what was expected.
struct ConfigError {
  std::string key;       // dotted path, e.g. "orders.expiry_sweep_s"
  std::string value;     // the offending value as JSON text (empty for a missing/unreadable file)
  std::string expected;  // what would have been accepted
  std::string source;    // "defaults", the file path, or "--set"
  std::string describe() const;
};
using ConfigErrors = std::vector<ConfigError>;

struct Settings {
  struct Store {
    std::string id;
    std::string name;
  } store;
  struct Storage {
    std::string state_dir;
    std::string integrity_check;  // quick | full | off | background
    int busy_timeout_ms = 0;
    int reserve_mb = 0;
  } storage;
  struct Log {
    log::Level level = log::Level::info;
  } log;
  struct Api {
    std::string listen_host;
    std::uint16_t listen_port = 0;
    std::size_t max_body_bytes = 0;
    std::size_t max_connections = 0;
    std::string socket;
    int pairing_code_ttl_s = 0;
    int pairing_attempts_per_minute = 0;
    int desk_session_grace_s = 0;   // a station session outlives its terminal this long
    bool tls = false;               // api.tls: "on"
    std::string https_listen_host;  // api.https_listen
    std::uint16_t https_listen_port = 0;
    bool http_redirect = true;  // api.http: "redirect"
    std::vector<std::string> tls_names;
    int tls_handshake_timeout_ms = 0;
  } api;
  struct Orders {
    int default_accept_sla_s = 0;
    int expiry_sweep_s = 0;
    std::vector<std::string> reject_reasons;
    std::vector<std::string> short_pick_reasons;
    struct ReasonEffect {
      std::string reason;
      std::string stock;  // none | count_zero | reduce_on_hand | unsellable
      int avoid_store_hours = 0;
    };
    std::vector<ReasonEffect> reason_effects;
    std::vector<std::string> carriers;
    std::vector<std::string> box_types;
    int pickup_code_max_attempts = 0;
    int accept_warn_minutes = 0;  // the terminals' SLA clocks turn "nearing"
    int ship_warn_minutes = 0;
  } orders;
  struct Pickup {
    int return_after_days = 0;
  } pickup;
  struct Capacity {
    std::int64_t orders_per_day = -1;        // -1: unlimited
    std::vector<std::string> opening_hours;  // Monday first: "09:00-21:00", "" closed
    std::vector<std::string> closed_dates;   // "2026-12-25"
  } capacity;
  struct Inventory {
    bool allow_negative_available = false;
  } inventory;
  struct Pos {
    std::string drop_folder;  // empty: no drop-folder import
    std::string drop_till_id;
    int drop_poll_s = 2;
  } pos;
  struct Sync {
    std::string cloud_url;
    std::string enrolment_code;
    std::string ca_file;
    std::string pinned_public_key;
    std::string proxy;
    bool verify_tls = true;
    int batch_size = 0;
    int feed_wait_s = 0;
    int heartbeat_s = 0;
    int request_timeout_s = 0;
    std::int64_t max_response_bytes = 0;
    int backoff_initial_ms = 0;
    int backoff_max_ms = 0;
    std::int64_t outbox_alarm_depth = 0;
    std::int64_t outbox_alarm_age_s = 0;
    std::int64_t disk_free_alarm_mb = 0;
  } sync;

  // The scanners[] entries, validated, each with its defaults filled in (the drivers
  // library turns them into its ScannerConfig).
  nlohmann::json scanners = nlohmann::json::array();
  // printers[] and stations[] likewise (stations name only printers that exist).
  nlohmann::json printers = nlohmann::json::array();
  nlohmann::json stations = nlohmann::json::array();
  struct RemoteConfig {
    std::vector<std::string> public_keys;
    int health_deadline_s = 60;
  } remote_config;
  struct Printing {
    int retry_initial_ms = 2000;
    int retry_max_ms = 60000;
    int job_poll_ms = 1000;
    int keep_jobs_days = 30;
    std::int64_t associate_reprint_window_s = 86400;
    std::vector<std::string> print_on_pack;
    std::vector<std::string> print_on_ready_for_pickup;
  } printing;
  // Bounded growth: days each kind of old record is kept (0: forever), see the schema.
  struct Retention {
    int sent_events_days = 7;
    int inbox_days = 30;
    int closed_orders_days = 90;
    int audit_days = 365;
    int ledger_days = 365;
    int batch_rows = 500;
    int interval_s = 300;
    int till_transactions_days = 90;
  } retention;

  nlohmann::json document;  // the effective, merged configuration
};

struct LoadRequest {
  std::optional<std::string> file;     // --config PATH
  std::vector<std::string> overrides;  // "key=value" from the command line, applied last
  // The remote configuration brand IT pushed (its "settings"), layered over the file and
  // under the command line; null: none.
  nlohmann::json remote = nullptr;
  std::string remote_source{};  // e.g. "remote config v12", for error messages
};

const nlohmann::json& schema();
nlohmann::json defaults();

// Every problem in `doc` (a whole or partial configuration), not just the first.
ConfigErrors validate(const nlohmann::json& doc, const std::string& source);

Expected<Settings, ConfigErrors> load(const LoadRequest& request);
Expected<Settings, ConfigErrors> from_document(const nlohmann::json& doc,
                                               const std::string& source);

// The keys (dotted: "sync.cloud_url") whose values differ between the running and the
// next configuration and that take effect only when fulfild restarts: the schema's
// "x-restart" (where the box keeps its state and listens, and how it reaches the cloud).
std::vector<std::string> changed_restart_keys(const nlohmann::json& running,
                                              const nlohmann::json& next);

// Markdown table of every key (the README's configuration reference).
std::string reference_markdown();

}  // namespace fulfil::config
