#pragma once
// The store box's own TLS identity for the local API: its private key and certificate.
//
// The seam: a certificate and key already in the directory are used as they are (today
// the self-signed one made here on an earlier start; later one the brand's CA issues for
// the same key); only when there is none is a self-signed one created. The key is an EC
// P-256 key, written with mode 0600, never logged and never served; the certificate
// names the box by the names it is given (subjectAltName) and is valid for one year.
// A manager checks the certificate's SHA-256 fingerprint when pairing a terminal.
#include <cstdint>
#include <string>
#include <vector>

#include "config/expected.hpp"

namespace fulfil::agent {

struct TlsIdentity {
  std::string certificate_pem;
  std::string key_pem;  // secret: kept in memory only to configure the server
  std::string certificate_file;
  std::string key_file;
  std::string fingerprint_sha256;  // "AB:CD:..." over the certificate's DER form
  std::int64_t not_after_ms = 0;   // the certificate's expiry, epoch milliseconds
  bool self_signed = false;
};

// The file names inside `dir` (the state directory's tls/).
inline constexpr const char* kTlsKeyFile = "api.key";
inline constexpr const char* kTlsCertificateFile = "api.crt";

// Loads dir/api.crt and dir/api.key, or creates both (self-signed, naming `names`: IP
// addresses become IP entries, the rest DNS entries) when neither is there. A pair that
// is half there, unreadable or mismatched is refused: it is not ours to overwrite.
Expected<TlsIdentity, std::string> load_or_create_tls_identity(
    const std::string& dir, const std::vector<std::string>& names);

// The SHA-256 fingerprint of a PEM certificate, "AB:CD:..."; empty when it is not one.
std::string certificate_fingerprint(const std::string& certificate_pem);

}  // namespace fulfil::agent
