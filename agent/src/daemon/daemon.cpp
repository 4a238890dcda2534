#include "daemon/daemon.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <filesystem>

#include "api/status_routes.hpp"
#include "api/terminal_api.hpp"
#include "api_listeners.hpp"
#include "config/log.hpp"
#include "config_rollout.hpp"
#include "devices/print_spooler.hpp"
#include "devices/scanners.hpp"
#include "devices/till_drop_folder.hpp"
#include "disk_guard.hpp"
#include "domain/store.hpp"
#include "http/http_server.hpp"
#include "integrity_runner.hpp"
#include "retention_runner.hpp"

namespace fulfil::agent {
namespace asio = boost::asio;
namespace {

constexpr const char* kVersion = FULFIL_VERSION;

// The local file and command line with a remote configuration (null: none) over them,
// adjusted as the daemon's options say: at start, on SIGHUP, for a remote trial.
Expected<config::Settings, config::ConfigErrors> load_layered(const DaemonOptions& options,
                                                              const nlohmann::json& remote,
                                                              const std::string& source) {
  config::LoadRequest request = options.config_request;
  request.remote = remote;
  request.remote_source = source;
  auto loaded = config::load(request);
  if (loaded && options.adjust) options.adjust(*loaded);
  return loaded;
}

Expected<config::Settings, config::ConfigErrors> load_layered(
    const DaemonOptions& options, const std::optional<RemoteConfigRecord>& layer) {
  if (!layer) return load_layered(options, nullptr, "");
  return load_layered(options, layer->settings, "remote config v" + std::to_string(layer->version));
}

// Two daemons on one state directory would corrupt each other's view of the outbox.
Expected<int, std::string> lock_state_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return unexpected("cannot create state directory " + dir + ": " + ec.message());
  const std::string path = dir + "/fulfild.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return unexpected("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return unexpected("another fulfild is already running on " + dir);
  }
  return fd;
}

// Raises the soft open-file limit to the hard one (systemd's default soft limit is 1,024
// whatever the hard limit; the unit sets LimitNOFILE=) and says what it is.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  log::info("daemon", "open files limit", {{"limit", static_cast<std::int64_t>(limit.rlim_cur)}});
}

// api.max_connections, lowered to leave room under the open-file limit for everything
// else (the database, the Unix socket, printers, scanners, the cloud link).
std::size_t connection_limit(std::size_t configured) {
  constexpr std::size_t kOtherFiles = 64;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return configured;
  const auto room = limit.rlim_cur > 2 * kOtherFiles ? limit.rlim_cur - kOtherFiles : kOtherFiles;
  if (configured <= room) return configured;
  log::warn("daemon", "api.max_connections lowered to fit the open files limit",
            {{"configured", configured},
             {"used", room},
             {"open_files_limit", static_cast<std::int64_t>(limit.rlim_cur)}});
  return room;
}

class Daemon {
 public:
  Daemon(config::Settings settings, DaemonOptions options, std::unique_ptr<Store> store)
      : settings_(std::move(settings)),
        options_(std::move(options)),
        store_(std::move(store)),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        sweep_timer_(io_),
        watchdog_timer_(io_),
        api_(io_, api_options(settings_, connection_limit(settings_.api.max_connections))),
        disk_(io_, store_->db(), settings_.storage.state_dir,
              std::int64_t{settings_.storage.reserve_mb} * 1024 * 1024,
              [this](bool full) { disk_changed(full); }),
        retention_(io_, store_->db(), settings_),
        integrity_(io_, settings_.storage.state_dir + "/fulfild.db"),
        rollout_(io_, *store_,
                 RolloutHooks{[this]() -> const config::Settings& { return settings_; },
                              [this](const nlohmann::json& remote, const std::string& source) {
                                return load_layered(options_, remote, source);
                              },
                              [this](const config::Settings& next) { apply_settings(next); },
                              [this](std::int64_t since) { return problems_since(since); },
                              [this] {
                                local_change();
                                for (auto& c : components_) c->report_now();
                              }}) {}

  int run() {
    if (options_.components) {
      auto made = options_.components(io_, *store_, settings_);
      if (!made) {
        log::error("daemon", "cannot start", {{"error", made.error()}});
        return 1;
      }
      components_ = std::move(*made);
    }
    auto component_health = [this] {
      nlohmann::json out = nlohmann::json::object();
      for (auto& c : components_)
        if (auto h = c->health(); !h.is_null()) out[c->name()] = h;
      if (scanners_ && !settings_.scanners.empty())
        out["scanners"] = {{"scanners", scanners_->status()}, {"alarms", scanners_->alarms()}};
      if (spooler_ && !settings_.printers.empty())
        out["printing"] = {{"printers", spooler_->status()}, {"alarms", spooler_->alarms()}};
      if (till_files_)
        if (auto h = till_files_->health(); !h.is_null()) out["pos"] = h;
      out["config"] = rollout_.status();
      out["storage"] = disk_.health();
      out["storage"]["retention"] = retention_.health();
      out["storage"]["integrity"] = integrity_.health();
      if (integrity_.failed()) {
        out["storage"]["alarms"].push_back("database_corrupt: the check after start-up failed: " +
                                           integrity_.health()["detail"].get<std::string>());
        out["storage"]["failing"] = true;
      }
      const auto connections = api_.connection_stats();
      out["api"] = {{"open_connections", connections.open},
                    {"refused_over_limit", connections.refused_over_limit},
                    {"accept_failures", connections.accept_failures},
                    {"tls", tls_health(api_, settings_)}};
      if (auto exposed = plain_http_exposure(settings_); !exposed.empty())
        out["api"]["alarms"].push_back(exposed);
      return out;
    };
    add_status_routes(api_, *store_, settings_, kVersion, component_health);
    spooler_ = std::make_unique<PrintSpooler>(io_, *store_, settings_, [this] {
      if (terminal_api_) terminal_api_->devices_changed();
    });
    terminal_api_ = std::make_unique<TerminalApi>(
        io_, api_, *store_, settings_,
        TerminalApiHooks{
            [this] { local_change(); }, component_health,
            [this] { return scanners_ ? scanners_->status() : nlohmann::json::array(); },
            spooler_.get(), options_.demo});
    till_files_ =
        std::make_unique<TillDropFolder>(io_, *store_, settings_, [this] { local_change(); });
    open_scanners();
    for (auto& c : components_) c->attach_devices([this] { return device_status(); });
    if (!settings_.api.socket.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(settings_.api.socket).parent_path(),
                                          ec);
    }
    auto port = api_.start();
    if (!port) {
      log::error("daemon", "cannot start the local API", {{"error", port.error()}});
      return 1;
    }
    if (auto exposed = plain_http_exposure(settings_); !exposed.empty())
      log::warn("daemon", "plain HTTP is served off loopback", {{"alarm", exposed}});
    wait_for_signal();
    disk_.start();
    schedule_sweep();
    retention_.start();
    if (settings_.storage.integrity_check == "background") integrity_.start();
    start_watchdog();
    for (auto& c : components_) c->start();
    scanners_->start();
    spooler_->start();
    till_files_->start();
    rollout_.start();
    log::info("daemon", "serving",
              {{"version", kVersion},
               {"store", settings_.store.id},
               {"state_dir", settings_.storage.state_dir},
               {"api", settings_.api.listen_host + ":" + std::to_string(*port)},
               {"https", api_.tls_status() ? settings_.api.https_listen_host + ":" +
                                                 std::to_string(api_.tls_status()->port)
                                           : std::string("off")},
               {"socket", settings_.api.socket}});
    if (options_.demo)
      log::info("demo", "open the terminal UI",
                {{"url", "http://" + settings_.api.listen_host + ":" + std::to_string(*port) + "/"},
                 {"fulfilctl", "fulfilctl --socket " + settings_.api.socket + " status"}});
    sd_notifyf(0, "READY=1\nSTATUS=serving store %s on port %u", settings_.store.id.c_str(),
               static_cast<unsigned>(*port));
    release_startup_memory();
    run_loop();
    return 0;
  }

 private:
  config::Settings settings_;
  DaemonOptions options_;
  std::unique_ptr<Store> store_;
  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer watchdog_timer_;
  HttpServer api_;
  DiskGuard disk_;
  RetentionRunner retention_;
  IntegrityRunner integrity_;
  std::vector<std::unique_ptr<DaemonComponent>> components_;
  std::unique_ptr<TerminalApi> terminal_api_;
  std::unique_ptr<StoreScanners> scanners_;
  std::unique_ptr<PrintSpooler> spooler_;
  std::unique_ptr<TillDropFolder> till_files_;  // the POS feed's drop folder (pos.*)
  ConfigRollout rollout_;

  void open_scanners() {
    scanners_ = std::make_unique<StoreScanners>(
        io_, settings_.scanners,
        [this](const HardwareScan& scan) {
          if (terminal_api_) terminal_api_->hardware_scan(scan);
        },
        [this] {
          if (terminal_api_) terminal_api_->devices_changed();
        });
  }

  // What the heartbeat tells the cloud about this box's devices.
  nlohmann::json device_status() const {
    nlohmann::json out = nlohmann::json::array();
    for (auto s : scanners_->status()) {
      s["type"] = "scanner";
      out.push_back(std::move(s));
    }
    for (auto p : spooler_->status()) {
      p["type"] = "printer";
      out.push_back(std::move(p));
    }
    return out;
  }

  void local_change() {
    if (spooler_) spooler_->kick();
    for (auto& c : components_) c->local_change();
  }

  // Every handler is meant to turn a storage failure into an alarm and a retry. One that
  // does not must not take the store down with it: the failure is logged, the database's
  // disk-full mark (if that was it) brings in the disk guard, and the loop carries on.
  // Anything else is a bug, and ends in the terminate handler's log line.
  // Start-up read the database through SQLite's page cache (the integrity check, the
  // migrations, the first queries) and freed what it parsed on the way; idle, none of that
  // is needed. The cache's unused pages go back to the heap and the heap's free pages to
  // the system: ~2.5 MB of a 100k-SKU store's idle memory (tests/bench/bench_foundation.cpp
  // row (e)). The cache refills with what requests touch.
  void release_startup_memory() {
    store_->db().exec("PRAGMA shrink_memory");
    ::malloc_trim(0);
  }

  void run_loop() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const StorageFailure& e) {
        log::error("daemon", "a storage failure escaped an event handler; carrying on",
                   {{"error", e.what()}, {"disk_full", e.disk_full()}});
      }
    }
  }

  void disk_changed(bool full) {
    if (!full) local_change();  // what waited for room (print jobs, events) goes on
    if (terminal_api_) terminal_api_->devices_changed();
  }

  CommandContext system_ctx(const char* who) const {
    return {{Actor::Kind::system, who}, now_ms()};
  }

  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        reload();
        return wait_for_signal();
      }
      // Every transaction runs to completion on this thread before a signal handler
      // runs, so stopping here never interrupts a commit.
      log::info("daemon", "stopping", {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
      sd_notify(0, "STOPPING=1");
      disk_.stop();
      api_.stop();
      scanners_->stop();
      spooler_->stop();
      till_files_->stop();
      rollout_.stop();
      terminal_api_.reset();
      sweep_timer_.cancel();
      retention_.stop();
      integrity_.stop();
      watchdog_timer_.cancel();
      for (auto& c : components_) c->stop();
      io_.stop();
    });
  }

  // SIGHUP: the local file again, under the remote configuration in effect (the one on
  // trial, if any).
  void reload() {
    auto layer = store_->remote_configs().trying();
    if (!layer) layer = store_->remote_configs().active();
    auto loaded = load_layered(options_, layer);
    if (!loaded) {
      for (const auto& e : loaded.error())
        log::error("config", "reload refused; keeping the running configuration",
                   {{"error", e.describe()}});
      return;
    }
    apply_settings(*loaded);
    log::info("config", "reloaded", {{"log_level", log::level_name(settings_.log.level)}});
  }

  // Puts `next` into effect without dropping the queue, the API or queued print jobs.
  // The keys the schema marks "x-restart" (where the box keeps its state and listens, how
  // it reaches the cloud, the store it is) keep their running values until a restart.
  void apply_settings(config::Settings next) {
    const auto held = config::changed_restart_keys(settings_.document, next.document);
    if (!held.empty()) {
      for (const auto& key : held) {
        log::warn("config", "changed settings take effect at the next restart", {{"key", key}});
        std::string pointer = "/" + key;
        std::replace(pointer.begin(), pointer.end(), '.', '/');
        const nlohmann::json::json_pointer at(pointer);
        next.document[at] = settings_.document.at(at);  // defaults fill every key
      }
      // The typed settings follow from the document, as when they were loaded.
      auto kept = config::from_document(next.document, "running configuration");
      if (!kept) {
        for (const auto& e : kept.error())
          log::error("config", "reload refused; keeping the running configuration",
                     {{"error", e.describe()}});
        return;
      }
      next = std::move(*kept);
      if (options_.adjust) options_.adjust(next);
    }
    const bool scanners_changed = next.scanners != settings_.scanners;
    const bool printers_changed = next.printers != settings_.printers ||
                                  next.document["printing"] != settings_.document["printing"];
    if (scanners_changed) scanners_->stop();
    // Components hold a reference to settings_: it is updated in place.
    settings_ = std::move(next);
    log::set_level(settings_.log.level);
    store_->orders().set_policy(order_policy(settings_));
    if (scanners_changed) {
      // Scanners reopen with the new settings; the stations' sessions are in the database.
      open_scanners();
      scanners_->start();
    }
    if (printers_changed) spooler_->reconfigure();
    for (auto& c : components_) c->reconfigure(settings_);
    if (terminal_api_) terminal_api_->devices_changed();
  }

  // The remote configuration's health check: printers reachable, the local API bound,
  // and whatever the components report (the cloud link: answered since the change).
  std::vector<std::string> problems_since(std::int64_t since_ms) {
    std::vector<std::string> out;
    if (!api_.listening()) out.push_back("api: the local API is not listening");
    for (const auto& p : spooler_->status()) {
      const std::string state = p["state"];
      if (state == "offline" || state == "unknown")
        out.push_back("printer " + p["id"].get<std::string>() + ": " + state +
                      (p["detail"].get<std::string>().empty()
                           ? ""
                           : " (" + p["detail"].get<std::string>() + ")"));
    }
    for (auto& c : components_)
      for (auto& problem : c->problems_since(since_ms)) out.push_back(std::move(problem));
    return out;
  }

  void schedule_sweep() {
    sweep_timer_.expires_after(std::chrono::seconds(settings_.orders.expiry_sweep_s));
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      auto expired = store_->orders().expire_overdue(system_ctx("sla"));
      if (!expired)
        log::error("orders", "expiry sweep failed", {{"error", expired.error().message}});
      else
        for (const auto& id : *expired)
          log::info("orders", "order expired: not accepted within its SLA", {{"order", id}});
      if (expired && !expired->empty()) local_change();
      end_expired_pause();
      prune_print_jobs();
      schedule_sweep();
    });
  }

  // A manager's pause with an end time ends by itself; the router hears it then (at most a
  // sweep late), rather than having to watch paused_until.
  void end_expired_pause() {
    auto ended = store_->orders().capacity().end_expired_pause(system_ctx("capacity"));
    if (!ended) {
      log::error("capacity", "ending an expired pause failed", {{"error", ended.error().message}});
    } else if (*ended) {
      log::info("capacity", "the pause ran out: the store takes orders again");
      local_change();
    }
  }

  // Finished jobs keep their documents for reprints until they are this old.
  void prune_print_jobs() {
    const auto keep_ms = std::int64_t{settings_.printing.keep_jobs_days} * 24 * 3600 * 1000;
    try {
      if (auto n = store_->print_jobs().prune(now_ms() - keep_ms); n > 0)
        log::info("print", "old print jobs deleted", {{"jobs", n}});
    } catch (const StorageFailure& e) {
      log::error("print", "pruning print jobs failed", {{"error", e.what()}});
    }
  }

  void start_watchdog() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    ping_watchdog(std::chrono::microseconds(usec / 2));
  }

  void ping_watchdog(std::chrono::microseconds every) {
    sd_notify(0, "WATCHDOG=1");
    watchdog_timer_.expires_after(every);
    watchdog_timer_.async_wait([this, every](const boost::system::error_code& ec) {
      if (!ec) ping_watchdog(every);
    });
  }
};

}  // namespace

int run_daemon(config::Settings settings, const DaemonOptions& options) {
  log::set_level(settings.log.level);
  raise_open_file_limit();
  auto lock = lock_state_dir(settings.storage.state_dir);
  if (!lock) {
    log::error("daemon", "cannot start", {{"error", lock.error()}});
    return 1;
  }
  const bool started_full = DiskGuard::make_room_to_start(settings.storage.state_dir);
  auto store = Store::open(database_options(settings), order_policy(settings), settings.store.id);
  if (!store) {
    const auto free = free_disk_bytes(settings.storage.state_dir);
    log::error("storage", "cannot start",
               {{"error", store.error().message},
                {"hint", free >= 0 && free < 1024 * 1024
                             ? "the disk holding " + settings.storage.state_dir +
                                   " is full: free space and fulfild starts by itself"
                             : std::string()}});
    return 1;
  }
  if (started_full) (*store)->db().mark_disk_full();
  if (auto active = (*store)->remote_configs().active()) {
    // brand IT's configuration in effect, over the local file (a trial the last run left
    // unfinished is not: the rollout rolls it back).
    auto layered = load_layered(options, active);
    if (layered) {
      settings = std::move(*layered);
      (*store)->orders().set_policy(order_policy(settings));
      log::info("config", "remote configuration in effect", {{"version", active->version}});
    } else {
      for (const auto& e : layered.error())
        log::error("config",
                   "the remote configuration in effect does not fit the local file; running "
                   "on the local file alone",
                   {{"version", active->version}, {"error", e.describe()}});
    }
  }
  Daemon daemon(std::move(settings), options, std::move(*store));
  const int rc = daemon.run();
  ::close(*lock);
  log::info("daemon", "stopped", {{"exit_code", rc}});
  return rc;
}

}  // namespace fulfil::agent
