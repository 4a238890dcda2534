// HTTPS on the local API (issue 15), through the real fulfild: a client that trusts only
// the box's own certificate (read from its state directory) gets in, one that trusts
// nothing does not; TLS 1.1 is refused; the fingerprint /health shows is the served
// certificate's; the key is 0600; a restart serves the same certificate; plain HTTP only
// redirects; the WebSocket works over TLS; a silent client is dropped after the handshake
// timeout and garbage does not hurt. The client is OpenSSL's own, on a blocking socket
// with receive and send timeouts, so no step can hang.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "daemon_harness.hpp"
#include "http/tls_identity.hpp"

using namespace std::chrono_literals;
using fulfil::test::contains;
using fulfil::test::Daemon;
using fulfil::test::health;
using fulfil::test::scaled;
using fulfil::test::write_file;
using nlohmann::json;

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using SslCtx = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;
using Ssl = std::unique_ptr<SSL, Deleter<SSL, SSL_free>>;
using Session = std::unique_ptr<SSL_SESSION, Deleter<SSL_SESSION, SSL_SESSION_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A TCP connection to 127.0.0.1:port whose reads and writes give up after 10 s (scaled).
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  const auto limit = scaled(10s);
  timeval tv{static_cast<time_t>(limit.count() / 1000), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// A client context that trusts `ca_file` only (nothing when empty), and speaks TLS up to
// `max_version` (0: any). For TLS 1.1 the client's own floor and security level are
// lowered, so a refusal can only be the server's.
SslCtx client_context(const std::string& ca_file, int max_version = 0) {
  SslCtx ctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(ctx);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!ca_file.empty())
    REQUIRE(SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) == 1);
  if (max_version) {
    SSL_CTX_set_security_level(ctx.get(), 0);
    REQUIRE(SSL_CTX_set_cipher_list(ctx.get(), "ALL:@SECLEVEL=0") == 1);
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  }
  return ctx;
}

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += std::string(buf) + "\n";
  }
  return out;
}

struct Reply {
  int status = 0;
  std::string headers;
  std::string body;
};

// One TLS connection to the box, verified against the context's trust and 127.0.0.1.
class TlsConnection {
 public:
  TlsConnection(SSL_CTX* ctx, int port, SSL_SESSION* resume = nullptr)
      : fd_(connect_to(port)), ssl_(SSL_new(ctx)) {
    REQUIRE(ssl_);
    SSL_set_fd(ssl_.get(), fd_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), "127.0.0.1");
    if (resume) SSL_set_session(ssl_.get(), resume);
    handshake_ok_ = SSL_connect(ssl_.get()) == 1;
    if (!handshake_ok_) error_ = openssl_errors();
  }
  ~TlsConnection() { ::close(fd_); }
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  bool ok() const { return handshake_ok_; }
  const std::string& error() const { return error_; }
  SSL* ssl() { return ssl_.get(); }

  void write(const std::string& text) {
    REQUIRE(SSL_write(ssl_.get(), text.data(), static_cast<int>(text.size())) ==
            static_cast<int>(text.size()));
  }
  // Up to `n` more bytes into in_; false at the end of the stream or a timeout.
  bool fill() {
    char buf[4096];
    const int n = SSL_read(ssl_.get(), buf, sizeof buf);
    if (n <= 0) return false;
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  // An HTTP/1.1 request and its whole answer (by Content-Length).
  Reply request(const std::string& method, const std::string& target,
                const std::vector<std::string>& headers = {}, const std::string& body = "") {
    std::string text = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& h : headers) text += h + "\r\n";
    if (!body.empty())
      text += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n";
    write(text + "\r\n" + body);
    return read_reply();
  }
  Reply read_reply() {
    std::size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return {};
    Reply r;
    r.headers = in_.substr(0, end + 2);
    r.status = std::stoi(r.headers.substr(9, 3));
    std::size_t length = 0;
    std::string lower = r.headers;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (const auto at = lower.find("content-length:"); at != std::string::npos)
      length = std::stoul(lower.substr(at + 15));
    while (in_.size() < end + 4 + length)
      if (!fill()) return {};
    r.body = in_.substr(end + 4, length);
    in_.erase(0, end + 4 + length);
    return r;
  }
  // One WebSocket text frame from the server (unmasked, not fragmented).
  std::optional<std::string> websocket_text() {
    while (in_.size() < 2)
      if (!fill()) return std::nullopt;
    std::size_t length = static_cast<unsigned char>(in_[1]) & 0x7F, header = 2;
    if (length == 126) {
      while (in_.size() < 4)
        if (!fill()) return std::nullopt;
      length = (static_cast<unsigned char>(in_[2]) << 8) | static_cast<unsigned char>(in_[3]);
      header = 4;
    }
    REQUIRE(length != 127);  // a hello is never that long
    while (in_.size() < header + length)
      if (!fill()) return std::nullopt;
    CHECK((static_cast<unsigned char>(in_[0]) & 0x0F) == 1);  // text
    std::string text = in_.substr(header, length);
    in_.erase(0, header + length);
    return text;
  }

 private:
  int fd_;
  Ssl ssl_;
  bool handshake_ok_ = false;
  std::string error_;
  std::string in_;
};

std::string sha256_fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  REQUIRE(X509_digest(cert, EVP_sha256(), md, &len) == 1);
  std::string out;
  char hex[4];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

int https_port(const json& h) {
  REQUIRE_MESSAGE(h["api"]["tls"].is_object(), h.dump());
  const std::string listen = h["api"]["tls"]["listen"];
  return std::stoi(listen.substr(listen.rfind(':') + 1));
}

// A terminal's token: a code from fulfilctl (Unix socket, never redirected), exchanged
// over HTTPS (plain HTTP only redirects).
std::string paired_token(const Daemon& d, SSL_CTX* trusted, int port) {
  const auto code = fulfil::test::run_fulfilctl(d, {"pair", "--role", "associate", "--json"});
  REQUIRE_MESSAGE(code.rc == 0, code.err);
  TlsConnection c(trusted, port);
  REQUIRE_MESSAGE(c.ok(), c.error());
  const auto paired = c.request("POST", "/api/v1/pair", {"Connection: close"},
                                json{{"code", json::parse(code.out)["code"]}}.dump());
  REQUIRE_MESSAGE(paired.status == 201, paired.headers << paired.body);
  return json::parse(paired.body)["token"];
}

}  // namespace

TEST_CASE("HTTPS with the box's own certificate: trusted, verified, resumed, redirected to") {
  fulfil::test::TempDir dir;
  const std::string config = dir.path() + "/fulfild.json";
  write_file(config, R"({"api": {"tls": "on", "https_listen": "127.0.0.1:0",
                                 "tls_handshake_timeout_ms": 300}})");
  const std::string state = dir.path() + "/state";
  std::string first_fingerprint;
  {
    Daemon d(std::vector<std::string>{"--config", config}, {}, state);
    const json h = health(d.port);  // plain HTTP still answers /health (local probes)
    const int port = https_port(h);
    const std::string cert_file = state + "/tls/" + fulfil::agent::kTlsCertificateFile;
    const std::string key_file = state + "/tls/" + fulfil::agent::kTlsKeyFile;

    struct stat key_stat {};
    REQUIRE(::stat(key_file.c_str(), &key_stat) == 0);
    CHECK((key_stat.st_mode & 0777) == 0600);
    CHECK_MESSAGE(!contains(d.child->stderr_text(), "PRIVATE KEY"), "the key was logged");

    const SslCtx trusted = client_context(cert_file);
    TlsConnection c(trusted.get(), port);
    REQUIRE_MESSAGE(c.ok(), c.error());
    CHECK(SSL_get_verify_result(c.ssl()) == X509_V_OK);
    const Reply r = c.request("GET", "/health");
    REQUIRE(r.status == 200);
    CHECK_MESSAGE(contains(r.headers, "Strict-Transport-Security: max-age=31536000"), r.headers);
    const json over_tls = json::parse(r.body);

    // What the manager compares when pairing is what the box serves.
    const Cert served(SSL_get1_peer_certificate(c.ssl()));
    REQUIRE(served);
    first_fingerprint = sha256_fingerprint(served.get());
    CHECK(over_tls["api"]["tls"]["fingerprint"] == first_fingerprint);
    CHECK(h["api"]["tls"]["fingerprint"] == first_fingerprint);
    CHECK(fulfil::agent::certificate_fingerprint(read_text(cert_file)) == first_fingerprint);
    CHECK(over_tls["api"]["tls"]["self_signed"] == true);
    const std::int64_t not_after = over_tls["api"]["tls"]["not_after"];
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    CHECK(not_after > now_ms + 360LL * 24 * 3600 * 1000);
    CHECK(not_after < now_ms + 367LL * 24 * 3600 * 1000);
    CHECK_MESSAGE(!over_tls["api"].contains("alarms"), over_tls["api"].dump());
    const auto pair = fulfil::test::fulfilctl_json(d, {"pair", "--role", "associate"});
    CHECK(pair["tls_fingerprint"] == first_fingerprint);
    CHECK_MESSAGE(contains(pair["pair_url"].get<std::string>(),
                           "https://127.0.0.1:" + std::to_string(port) + "/#/pair/"),
                  pair["pair_url"]);
    const auto pair_text = fulfil::test::run_fulfilctl(d, {"pair", "--role", "associate"});
    CHECK_MESSAGE(contains(pair_text.out, first_fingerprint), pair_text.out);

    // Only ECDHE with AEAD, even for a client that offers no more than TLS 1.2.
    const SslCtx tls12 = client_context(cert_file, TLS1_2_VERSION);
    TlsConnection c12(tls12.get(), port);
    REQUIRE_MESSAGE(c12.ok(), c12.error());
    const std::string cipher = SSL_get_cipher_name(c12.ssl());
    CHECK_MESSAGE(
        (contains(cipher, "ECDHE") && (contains(cipher, "GCM") || contains(cipher, "CHACHA20"))),
        cipher);

    // A terminal coming back resumes its TLS session rather than a full handshake.
    const Session session(SSL_get1_session(c.ssl()));
    REQUIRE(session);
    TlsConnection again(trusted.get(), port, session.get());
    REQUIRE_MESSAGE(again.ok(), again.error());
    CHECK(SSL_session_reused(again.ssl()) == 1);

    // TLS 1.1: the server says no (the alert is the server's: the client would speak it).
    const SslCtx tls11 = client_context(cert_file, TLS1_1_VERSION);
    TlsConnection old(tls11.get(), port);
    CHECK_FALSE(old.ok());
    CHECK_MESSAGE(contains(old.error(), "protocol version"), old.error());

    // A client that does not trust the box's certificate does not get in.
    const SslCtx untrusting = client_context("");
    TlsConnection stranger(untrusting.get(), port);
    CHECK_FALSE(stranger.ok());
    CHECK_MESSAGE(contains(stranger.error(), "certificate verify failed"), stranger.error());

    // Plain HTTP answers a 308 to the same path over HTTPS, and nothing else.
    const auto plain = fulfil::test::http_get(d.port, "/api/v1/orders?state=routed");
    REQUIRE(plain.has_value());
    CHECK(plain->status == 308);
    CHECK_MESSAGE(contains(plain->headers, "Location: https://127.0.0.1:" + std::to_string(port) +
                                               "/api/v1/orders?state=routed"),
                  plain->headers);
    CHECK(json::parse(plain->body)["error"]["code"] == "https_required");

    // The live-update WebSocket over TLS, with the token in its header.
    const std::string token = paired_token(d, trusted.get(), port);
    TlsConnection ws(trusted.get(), port);
    REQUIRE_MESSAGE(ws.ok(), ws.error());
    const Reply upgraded =
        ws.request("GET", "/api/v1/events",
                   {"Upgrade: websocket", "Connection: Upgrade",
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
                    "Authorization: Bearer " + token});
    REQUIRE_MESSAGE(upgraded.status == 101, upgraded.headers);
    const auto hello = ws.websocket_text();
    REQUIRE(hello.has_value());
    CHECK(json::parse(*hello)["type"] == "hello");

    // A client that connects and says nothing is dropped after the handshake timeout.
    const auto t0 = std::chrono::steady_clock::now();
    const int silent = connect_to(port);
    char byte;
    const auto got = ::recv(silent, &byte, 1, 0);
    const auto waited = std::chrono::steady_clock::now() - t0;
    ::close(silent);
    CHECK_MESSAGE(got <= 0, "the server sent something to a silent client");
    CHECK_MESSAGE(waited < scaled(5s),
                  "a silent client held its connection for "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
                      << " ms");
    CHECK(waited >= 250ms);  // dropped by the timeout, not at once

    // Garbage and plain HTTP on the TLS port: refused, and the server serves on.
    for (const std::string& junk :
         {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string(4096, '\x16'),
          std::string("\x16\x03\x01\xff\xff")}) {
      const int fd = connect_to(port);
      ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
      char buf[512];
      while (::recv(fd, buf, sizeof buf, 0) > 0) {
      }
      ::close(fd);
    }
    CHECK(d.child->running());
    TlsConnection after(trusted.get(), port);
    REQUIRE_MESSAGE(after.ok(), after.error());
    const json later = json::parse(after.request("GET", "/health").body);
    CHECK(later["api"]["tls"]["handshake_failures"].get<int>() >= 5);
    d.stop(SIGTERM);
  }
  // A restart serves the same certificate.
  Daemon d(std::vector<std::string>{"--config", config}, {}, state);
  CHECK(health(d.port)["api"]["tls"]["fingerprint"] == first_fingerprint);
}

TEST_CASE("with TLS off the API serves plain HTTP and /health says nothing of TLS") {
  Daemon d;
  const json h = health(d.port);
  CHECK(h["api"]["tls"].is_null());
  CHECK_MESSAGE(!h["api"].contains("alarms"), h["api"].dump());  // loopback: no alarm
  const auto pair = fulfil::test::fulfilctl_json(d, {"pair", "--role", "associate"});
  CHECK(pair["tls_fingerprint"].is_null());
}

TEST_CASE("the box's TLS identity: made once, reused, and never overwritten when half there") {
  using fulfil::agent::load_or_create_tls_identity;
  fulfil::test::TempDir dir;
  const std::string tls = dir.path() + "/tls";
  const std::vector<std::string> names = {"store-042.example", "192.168.7.20", "localhost"};
  auto made = load_or_create_tls_identity(tls, names);
  REQUIRE_MESSAGE(made.has_value(), (made ? "" : made.error()));
  CHECK(made->self_signed);
  CHECK(made->fingerprint_sha256.size() == 32 * 3 - 1);

  // It names the box by what it was given, and by nothing else.
  const std::string pem = read_text(made->certificate_file);
  std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  const Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(cert);
  CHECK(X509_check_host(cert.get(), "store-042.example", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_ip_asc(cert.get(), "192.168.7.20", 0) == 1);
  CHECK(X509_check_host(cert.get(), "elsewhere.example", 0, 0, nullptr) == 0);
  CHECK(X509_check_ip_asc(cert.get(), "192.168.7.21", 0) == 0);
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  REQUIRE(key);
  CHECK(EVP_PKEY_is_a(key, "EC"));
  CHECK(EVP_PKEY_get_bits(key) == 256);

  auto again = load_or_create_tls_identity(tls, {"other.example"});
  REQUIRE(again.has_value());
  CHECK(again->fingerprint_sha256 == made->fingerprint_sha256);

  // A certificate whose key is gone is refused, and left as it was.
  const std::string key_pem = read_text(made->key_file);
  REQUIRE(::unlink(made->key_file.c_str()) == 0);
  auto keyless = load_or_create_tls_identity(tls, names);
  REQUIRE_FALSE(keyless.has_value());
  CHECK_MESSAGE(contains(keyless.error(), made->key_file), keyless.error());
  CHECK(read_text(made->certificate_file) == pem);

  // So is one with another key beside it.
  fulfil::test::TempDir other;
  auto stranger = load_or_create_tls_identity(other.path(), names);
  REQUIRE(stranger.has_value());
  write_file(made->key_file, read_text(stranger->key_file));
  auto mismatched = load_or_create_tls_identity(tls, names);
  REQUIRE_FALSE(mismatched.has_value());
  CHECK_MESSAGE(contains(mismatched.error(), "not for this key"), mismatched.error());
  CHECK(read_text(made->certificate_file) == pem);

  // A key alone (a crash between writing the two) is replaced by a new pair.
  REQUIRE(::unlink(made->certificate_file.c_str()) == 0);
  write_file(made->key_file, key_pem);
  auto remade = load_or_create_tls_identity(tls, names);
  REQUIRE_MESSAGE(remade.has_value(), (remade ? "" : remade.error()));
  CHECK(remade->fingerprint_sha256 != made->fingerprint_sha256);
}

TEST_CASE("plain HTTP off loopback is a warning at start and an alarm, unless it only redirects") {
  Daemon exposed(std::vector<std::string>{"--listen", "0.0.0.0:0"});
  const json h = health(exposed.port);
  CHECK(h["status"] == "degraded");
  REQUIRE_MESSAGE(h["api"]["alarms"].is_array(), h["api"].dump());
  CHECK(contains(h["api"]["alarms"][0].get<std::string>(), "plain_http_off_loopback"));
  CHECK_MESSAGE(contains(exposed.child->stderr_text(), "plain HTTP is served off loopback"),
                exposed.child->stderr_text());

  Daemon redirecting(
      {"--listen", "0.0.0.0:0", "--set", "api.tls=on", "--set", "api.https_listen=127.0.0.1:0"});
  const json r = health(redirecting.port);
  CHECK_MESSAGE(!r["api"].contains("alarms"), r["api"].dump());
  CHECK(r["api"]["tls"].is_object());
}
