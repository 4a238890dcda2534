#include "config/remote_config.hpp"

#include "config/json_input.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <sstream>

namespace fulfil::config {
namespace {

using nlohmann::json;

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kSignatureBytes = 64;
constexpr std::size_t kMaxBodyBytes = 1024 * 1024;

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

PKey public_key(const std::string& raw) {
  return {
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                  reinterpret_cast<const unsigned char*>(raw.data()), raw.size()),
      EVP_PKEY_free};
}

PKey private_key(const std::string& seed) {
  return {EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(seed.data()),
                                       seed.size()),
          EVP_PKEY_free};
}

bool signature_holds(const std::string& body, const std::string& signature,
                     const std::string& raw_key) {
  PKey key = public_key(raw_key);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(body.data()),
                          body.size()) == 1;
}

ConfigRefusal refusal(ConfigRefusalCode code, std::string message, std::int64_t version = 0) {
  return {code, std::move(message), version};
}

std::string string_field(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

void collect_local_only(const json& node, const json& value, const std::string& path,
                        const std::string& source, ConfigErrors& out) {
  if (node.value("x-local-only", false)) {
    out.push_back({path, value.dump(),
                   "no remote value: this key is set only in the local file (" +
                       node.value("x-local-only-reason", "") + ")",
                   source});
    return;
  }
  if (!value.is_object() || node.value("type", "") != "object" || !node.contains("properties"))
    return;
  for (const auto& [key, item] : value.items())
    if (node["properties"].contains(key))
      collect_local_only(node["properties"][key], item, path.empty() ? key : path + "." + key,
                         source, out);
}

}  // namespace

std::string_view refusal_code_name(ConfigRefusalCode code) {
  static constexpr std::array<std::string_view, 7> kNames = {
      "malformed",     "no_trusted_keys", "bad_signature", "wrong_store",
      "stale_version", "local_only_key",  "invalid"};
  static_assert(kNames.size() == static_cast<std::size_t>(ConfigRefusalCode::invalid) + 1);
  return kNames[static_cast<std::size_t>(code)];
}

std::string base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Expected<std::string, std::string> base64_decode(const std::string& text) {
  if (text.size() % 4 != 0)
    return unexpected(std::string("not base64: length is not a multiple of 4"));
  for (char c : text)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='))
      return unexpected(std::string("not base64: it holds characters outside A-Z a-z 0-9 + / ="));
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return unexpected(std::string("not base64"));
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

Expected<DesiredConfig, ConfigRefusal> verify_desired_config(
    const json& payload, const std::vector<std::string>& public_keys) {
  if (!payload.is_object())
    return unexpected(refusal(ConfigRefusalCode::malformed, "the payload is not a JSON object"));
  const std::string body_b64 = string_field(payload, "config");
  const std::string signature_b64 = string_field(payload, "signature");
  if (body_b64.empty() || signature_b64.empty())
    return unexpected(refusal(ConfigRefusalCode::malformed,
                              "the payload needs \"config\" and \"signature\" (base64 strings)"));
  auto body = base64_decode(body_b64);
  if (!body)
    return unexpected(refusal(ConfigRefusalCode::malformed, "payload.config is " + body.error()));
  if (body->size() > kMaxBodyBytes)
    return unexpected(refusal(ConfigRefusalCode::malformed, "payload.config is larger than 1 MiB"));
  auto signature = base64_decode(signature_b64);
  if (!signature || signature->size() != kSignatureBytes)
    return unexpected(refusal(ConfigRefusalCode::malformed,
                              "payload.signature is not a base64 Ed25519 signature "
                              "(64 bytes)"));
  if (public_keys.empty())
    return unexpected(refusal(ConfigRefusalCode::no_trusted_keys,
                              "no brand public key is configured (remote_config.public_keys in "
                              "the local file), so no remote configuration can be trusted"));
  bool trusted = false;
  for (const auto& key_b64 : public_keys) {
    auto raw = base64_decode(key_b64);
    if (raw && raw->size() == kKeyBytes && signature_holds(*body, *signature, *raw)) {
      trusted = true;
      break;
    }
  }
  const std::string key_id = string_field(payload, "key_id");
  if (!trusted)
    return unexpected(refusal(ConfigRefusalCode::bad_signature,
                              "the signature does not verify with any of the " +
                                  std::to_string(public_keys.size()) + " trusted brand key(s)" +
                                  (key_id.empty() ? "" : " (it names key '" + key_id + "')")));
  // Only signed bytes are read from here on.
  json doc = parse_json(*body).value_or(json());
  if (!doc.is_object())
    return unexpected(
        refusal(ConfigRefusalCode::malformed, "the signed document is not a JSON object"));
  if (!doc.contains("version") || !doc["version"].is_number_integer() ||
      doc["version"].get<std::int64_t>() < 1)
    return unexpected(refusal(ConfigRefusalCode::malformed,
                              "the signed document needs \"version\", a positive integer"));
  DesiredConfig out;
  out.version = doc["version"].get<std::int64_t>();
  if (!doc.contains("settings") || !doc["settings"].is_object())
    return unexpected(refusal(ConfigRefusalCode::malformed,
                              "the signed document needs \"settings\", an object", out.version));
  out.settings = doc["settings"];
  out.store_id = string_field(doc, "store_id");
  out.issued_at = string_field(doc, "issued_at");
  out.key_id = key_id;
  out.body = std::move(*body);
  out.signature = signature_b64;
  return out;
}

ConfigErrors local_only_keys(const json& settings, const std::string& source) {
  ConfigErrors out;
  collect_local_only(schema(), settings, "", source, out);
  return out;
}

std::string local_only_reason(const std::string& dotted_key) {
  const json* node = &schema();
  std::stringstream in(dotted_key);
  for (std::string part; std::getline(in, part, '.');) {
    if (node->value("x-local-only", false)) break;
    if (!node->contains("properties") || !(*node)["properties"].contains(part)) return "";
    node = &(*node)["properties"][part];
  }
  return node->value("x-local-only", false) ? node->value("x-local-only-reason", "") : "";
}

Expected<json, std::string> sign_desired_config(const json& document,
                                                const std::string& private_key_b64,
                                                const std::string& key_id) {
  return sign_desired_config_bytes(document.dump(), private_key_b64, key_id);
}

Expected<json, std::string> sign_desired_config_bytes(const std::string& body,
                                                      const std::string& private_key_b64,
                                                      const std::string& key_id) {
  auto seed = base64_decode(private_key_b64);
  if (!seed || seed->size() != kKeyBytes)
    return unexpected(std::string("the private key is not base64 of a 32-byte Ed25519 seed"));
  PKey key = private_key(*seed);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    return unexpected(std::string("OpenSSL cannot use the private key"));
  std::string signature(kSignatureBytes, '\0');
  std::size_t length = signature.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(body.data()), body.size()) != 1)
    return unexpected(std::string("OpenSSL could not sign"));
  json payload = {{"config", base64_encode(body)}, {"signature", base64_encode(signature)}};
  if (!key_id.empty()) payload["key_id"] = key_id;
  return payload;
}

Expected<std::string, std::string> public_key_of(const std::string& private_key_b64) {
  auto seed = base64_decode(private_key_b64);
  if (!seed || seed->size() != kKeyBytes)
    return unexpected(std::string("the private key is not base64 of a 32-byte Ed25519 seed"));
  PKey key = private_key(*seed);
  std::string raw(kKeyBytes, '\0');
  std::size_t length = raw.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(raw.data()),
                                          &length) != 1)
    return unexpected(std::string("OpenSSL cannot derive the public key"));
  return base64_encode(raw);
}

SigningKey generate_signing_key() {
  std::string seed(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), static_cast<int>(seed.size())) != 1)
    throw std::runtime_error("OpenSSL's random generator failed");
  SigningKey out;
  out.private_key = base64_encode(seed);
  out.public_key = *public_key_of(out.private_key);
  return out;
}

}  // namespace fulfil::config
