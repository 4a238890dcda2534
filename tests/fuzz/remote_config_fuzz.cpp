// libFuzzer target for brand IT's remote configuration (issue 10): whatever document a
// cloud sends — signed by a trusted key, so every byte reaches the reader — is verified,
// checked for local-only keys and layered over the defaults the way the daemon does for a
// trial, and never crashes: a refusal has a stable code and a message, an accepted one
// loads or is refused key by key. The first byte picks the mode:
//   even: the rest is the document's bytes, signed here with a trusted key;
//   odd:  the rest is the config.desired payload itself (envelope, base64, signature).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/json_input.hpp"
#include "config/remote_config.hpp"
#include "config/settings.hpp"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

const fulfil::config::SigningKey& brand_key() {
  static const auto key = fulfil::config::generate_signing_key();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fulfil::config;
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  nlohmann::json payload;
  if (data[0] % 2 == 0) {
    auto signed_payload = sign_desired_config_bytes(rest, brand_key().private_key, "fuzz");
    require(signed_payload.has_value());
    payload = std::move(*signed_payload);
  } else {
    auto parsed = fulfil::parse_json(rest);
    if (!parsed) return 0;
    payload = std::move(*parsed);
  }
  auto desired = verify_desired_config(payload, {brand_key().public_key});
  if (!desired) {
    require(!desired.error().message.empty());
    return 0;
  }
  require(desired->version >= 1 && desired->settings.is_object());
  (void)local_only_keys(desired->settings, "remote config");
  LoadRequest request;
  request.remote = desired->settings;
  request.remote_source = "remote config v" + std::to_string(desired->version);
  auto loaded = load(request);
  if (!loaded) require(!loaded.error().empty());
  return 0;
}
