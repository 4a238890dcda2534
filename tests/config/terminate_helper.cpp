// For config_settings: installs fulfild's terminate handler and lets an exception reach
// std::terminate, as one leaving a noexcept function or a thread would.
#include <exception>
#include <stdexcept>

#include "config/log.hpp"

int main() {
  fulfil::log::install_terminate_handler("fulfild");
  try {
    throw std::runtime_error("boom \"quoted\"\nsecond line");
  } catch (...) {
    std::terminate();
  }
}
