#pragma once
// Staged apply of brand IT's remote configuration: verify (signature, version, store,
// local-only keys, full validation against the local file) -> persist as on trial ->
// apply to the running components -> health check until a deadline -> commit and report,
// or roll back to the previous configuration and report why. A trial a crash or restart
// interrupted is rolled back at the next start, so a configuration that kills the agent
// cannot keep it down.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "config/remote_config.hpp"
#include "config/settings.hpp"
#include "domain/store.hpp"

namespace fulfil::agent {

struct RolloutHooks {
  // The running configuration (its trusted keys, store id, health deadline).
  std::function<const config::Settings&()> running;
  // The local file (and command line) with `remote` layered over it; null: the file alone.
  std::function<Expected<config::Settings, config::ConfigErrors>(const nlohmann::json& remote,
                                                                 const std::string& source)>
      load;
  // Puts a configuration into effect in the running components.
  std::function<void(const config::Settings&)> apply;
  // What is wrong since `since_ms`; empty: healthy.
  std::function<std::vector<std::string>(std::int64_t since_ms)> problems_since;
  // Events were committed (the cloud link sends them).
  std::function<void()> reported;
};

class ConfigRollout {
 public:
  ConfigRollout(boost::asio::io_context& io, Store& store, RolloutHooks hooks);
  // Rolls back a trial the last run left unfinished; then watches for new configurations.
  void start();
  void stop();
  nlohmann::json status();

 private:
  struct Trial {
    std::int64_t id = 0;
    std::int64_t version = 0;
    std::int64_t started_at = 0;
    std::int64_t deadline = 0;
    config::Settings previous;
  };

  void schedule(std::chrono::milliseconds after);
  void tick();
  void take(const RemoteConfigRecord& received);
  void check_trial();
  void refuse(const RemoteConfigRecord& r, std::int64_t version, config::ConfigRefusalCode code,
              const std::string& why);

  Store& store_;
  RolloutHooks hooks_;
  boost::asio::steady_timer timer_;
  std::optional<Trial> trial_;
  std::vector<std::string> last_problems_;
  bool running_ = false;
};

}  // namespace fulfil::agent
