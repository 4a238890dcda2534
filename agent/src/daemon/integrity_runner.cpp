#include "integrity_runner.hpp"

#include <boost/asio/post.hpp>

#include "config/log.hpp"

namespace fulfil::agent {

void IntegrityRunner::start() {
  if (started_) return;
  started_ = true;
  worker_ = std::thread([this] {
    auto result = check_integrity(path_, &stopping_);
    if (stopping_) return;
    boost::asio::post(io_, [this, result = std::move(result)] {
      result_ = result;
      if (result.ok)
        log::info("storage", "database integrity check passed", {{"seconds", result.seconds}});
      else
        log::error("storage", "database integrity check failed", {{"detail", result.detail}});
    });
  });
}

void IntegrityRunner::stop() {
  stopping_ = true;
  if (worker_.joinable()) worker_.join();
}

nlohmann::json IntegrityRunner::health() const {
  if (!started_) return nullptr;
  if (!result_) return {{"state", "running"}};
  return {{"state", result_->ok ? "ok" : "failed"},
          {"detail", result_->detail},
          {"seconds", result_->seconds}};
}

}  // namespace fulfil::agent
