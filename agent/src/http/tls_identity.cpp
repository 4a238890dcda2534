#include "http/tls_identity.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace fulfil::agent {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BigNum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

// OpenSSL's last error, for a message that says what failed.
std::string openssl_error(const std::string& what) {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  return what + ": " + buf;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    if (i) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

std::int64_t not_after_ms(X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000;
}

// "IP:127.0.0.1,DNS:localhost,..." for the names given.
std::string subject_alt_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(name, ec);
    if (!out.empty()) out += ',';
    out += (ec ? "DNS:" : "IP:") + name;
  }
  return out;
}

Expected<void, std::string> add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return unexpected(openssl_error("certificate extension " + value));
  return {};
}

Expected<Cert, std::string> self_signed(EVP_PKEY* key, const std::vector<std::string>& names) {
  Cert cert(X509_new());
  BigNum serial(BN_new());
  if (!cert || !serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    return unexpected(openssl_error("certificate serial"));
  X509_set_version(cert.get(), 2);  // v3, for the extensions
  // An hour back, for a terminal whose clock runs a little behind the box's.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const std::string cn = "fulfild " + (names.empty() ? std::string("store box") : names.front());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            std::pair{NID_key_usage, std::string("critical,digitalSignature")},
                            std::pair{NID_ext_key_usage, std::string("serverAuth")},
                            std::pair{NID_subject_alt_name, subject_alt_names(names)}})
    if (auto ok = add_extension(cert.get(), nid, value); !ok) return unexpected(ok.error());
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0)
    return unexpected(openssl_error("signing the certificate"));
  return cert;
}

Expected<std::string, std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Written whole or not at all (a temporary file, synced, renamed over), with `mode` from
// its creation: the key is never readable by others, not even for an instant.
Expected<void, std::string> write_file(const std::string& path, const std::string& text,
                                       mode_t mode) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return unexpected("cannot create " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return unexpected("cannot write " + path + ": " + std::strerror(ok ? errno : saved));
  }
  return {};
}

Expected<TlsIdentity, std::string> from_pem(std::string certificate_pem, std::string key_pem) {
  Bio cert_bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  Bio key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  Cert cert(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return unexpected(openssl_error("not a PEM certificate"));
  Pkey key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return unexpected(openssl_error("not a PEM private key"));
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return unexpected(openssl_error("the certificate is not for this key"));
  TlsIdentity id;
  id.fingerprint_sha256 = fingerprint(cert.get());
  id.not_after_ms = not_after_ms(cert.get());
  id.self_signed = X509_self_signed(cert.get(), 1) == 1;
  ERR_clear_error();  // a certificate that is not self-signed leaves its reason queued
  id.certificate_pem = std::move(certificate_pem);
  id.key_pem = std::move(key_pem);
  return id;
}

Expected<TlsIdentity, std::string> create(const std::string& key_file, const std::string& cert_file,
                                          const std::vector<std::string>& names) {
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) return unexpected(openssl_error("creating the key"));
  auto cert = self_signed(key.get(), names);
  if (!cert) return unexpected(cert.error());
  Bio key_out(BIO_new(BIO_s_secmem()));
  Bio cert_out(BIO_new(BIO_s_mem()));
  if (!key_out || !cert_out ||
      PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1 ||
      PEM_write_bio_X509(cert_out.get(), cert->get()) != 1)
    return unexpected(openssl_error("encoding the key and certificate"));
  std::string key_pem = bio_text(key_out.get());
  std::string cert_pem = bio_text(cert_out.get());
  // The key first: a crash between the two leaves a key without a certificate, which the
  // next start replaces (a certificate without its key would be refused).
  if (auto ok = write_file(key_file, key_pem, 0600); !ok) return unexpected(ok.error());
  if (auto ok = write_file(cert_file, cert_pem, 0644); !ok) return unexpected(ok.error());
  return from_pem(std::move(cert_pem), std::move(key_pem));
}

}  // namespace

std::string certificate_fingerprint(const std::string& certificate_pem) {
  Bio bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  Cert cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  return cert ? fingerprint(cert.get()) : std::string();
}

Expected<TlsIdentity, std::string> load_or_create_tls_identity(
    const std::string& dir, const std::vector<std::string>& names) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return unexpected("cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  const std::string key_file = dir + "/" + kTlsKeyFile;
  const std::string cert_file = dir + "/" + kTlsCertificateFile;
  const bool have_cert = std::filesystem::exists(cert_file, ec);
  const bool have_key = std::filesystem::exists(key_file, ec);
  Expected<TlsIdentity, std::string> id = unexpected(std::string());
  if (!have_cert) {
    id = create(key_file, cert_file, names);
  } else if (!have_key) {
    return unexpected(cert_file + " has no key beside it (" + key_file + ")");
  } else {
    auto cert_pem = read_file(cert_file);
    auto key_pem = read_file(key_file);
    if (!cert_pem) return unexpected(cert_pem.error());
    if (!key_pem) return unexpected(key_pem.error());
    id = from_pem(std::move(*cert_pem), std::move(*key_pem));
    if (!id) return unexpected(cert_file + " and " + key_file + ": " + id.error());
  }
  if (!id) return id;
  id->certificate_file = cert_file;
  id->key_file = key_file;
  return id;
}

}  // namespace fulfil::agent
