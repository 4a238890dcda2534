#pragma once
// Configuration pushed by brand IT through the cloud feed (a `config.desired` command,
// sync/PROTOCOL.md "Remote configuration"). The cloud signs the exact bytes of a small
// JSON document with the brand's Ed25519 key; the agent checks the signature against the
// public keys in its local file before it reads a single setting, then the version, the
// store, and that only remotely settable keys are touched.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/expected.hpp"
#include "config/settings.hpp"

namespace fulfil::config {

struct DesiredConfig {
  std::int64_t version = 0;
  std::string store_id;  // empty: meant for every store
  std::string key_id;    // which brand key signed it (informational)
  std::string issued_at;
  nlohmann::json settings = nlohmann::json::object();  // a partial configuration
  std::string body;                                    // the signed bytes, as received
  std::string signature;                               // base64, as received
};

// Why a desired configuration was refused; its name is stable (reported to the cloud in
// config.refused, sync/PROTOCOL.md).
enum class ConfigRefusalCode {
  malformed,        // not a signed configuration document
  no_trusted_keys,  // this store trusts no brand key (remote_config.public_keys)
  bad_signature,    // no trusted key signed these bytes
  wrong_store,      // signed for another store
  stale_version,    // not newer than a version already tried here
  local_only_key,   // sets a key only the local file may set
  invalid,          // does not validate over the local file
};
std::string_view refusal_code_name(ConfigRefusalCode code);

struct ConfigRefusal {
  ConfigRefusalCode code = ConfigRefusalCode::malformed;
  std::string message;
  std::int64_t version = 0;  // 0 when the document could not be read
};

// Checks the signature with every trusted key, then reads the signed document. Version
// and validity against the running configuration are the caller's to check (they need
// state this function does not have); see check_desired_settings.
Expected<DesiredConfig, ConfigRefusal> verify_desired_config(
    const nlohmann::json& payload, const std::vector<std::string>& public_keys);

// The keys of `settings` that only the local file may set ("storage", "sync.cloud_url",
// ...), each described; empty when none is touched.
ConfigErrors local_only_keys(const nlohmann::json& settings, const std::string& source);

// Why a key is local-only, from the schema ("" for a remotely settable key).
std::string local_only_reason(const std::string& dotted_key);

// The cloud's side: signs `document` (which must hold "version" and "settings") with an
// Ed25519 private key (base64 of the 32-byte seed) into a `config.desired` payload.
// Used by the reference cloud simulator, tests and `fulfilctl config sign`.
Expected<nlohmann::json, std::string> sign_desired_config(const nlohmann::json& document,
                                                          const std::string& private_key,
                                                          const std::string& key_id);
// The same over bytes as they are (the agent reads exactly what was signed, so a cloud may
// serialise its documents any way it likes; the fuzzer signs whatever it makes).
Expected<nlohmann::json, std::string> sign_desired_config_bytes(const std::string& body,
                                                                const std::string& private_key,
                                                                const std::string& key_id);

struct SigningKey {
  std::string private_key;  // base64 of the 32-byte seed
  std::string public_key;   // base64 of the 32-byte public key
};
SigningKey generate_signing_key();
Expected<std::string, std::string> public_key_of(const std::string& private_key);

std::string base64_encode(const std::string& bytes);
Expected<std::string, std::string> base64_decode(const std::string& text);

}  // namespace fulfil::config
