// TLS on the cloud link is verified by default: an unknown certificate is refused, the
// configured CA bundle is trusted, and a public-key pin must match. The server is
// `openssl s_server` with a certificate made for this test.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "child_process.hpp"
#include "http/http_server.hpp"
#include "sync/http_client.hpp"
#include "test_support.hpp"

using namespace fulfil;

namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  if (p) ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

sync::HttpResponse get(const std::string& url, sync::HttpClientOptions o) {
  boost::asio::io_context io(1);
  sync::HttpClient client(io, o);
  sync::HttpResponse result;
  bool done = false;
  sync::HttpRequest r;
  r.url = url;
  r.timeout = std::chrono::milliseconds(10000);
  client.send(r, [&](sync::HttpResponse resp) {
    result = std::move(resp);
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!done && std::chrono::steady_clock::now() < deadline)
    io.run_for(std::chrono::milliseconds(20));
  REQUIRE(done);
  return result;
}

}  // namespace

TEST_CASE("the cloud's certificate is verified; a CA bundle and a key pin are honoured") {
  test::TempDir dir;
  const std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  REQUIRE(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                       "-nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 "
                       "-keyout " +
                       key + " -out " + cert + " 2>/dev/null")
                          .c_str()) == 0);
  const std::string pin = "sha256//" + run("openssl x509 -in " + cert +
                                           " -pubkey -noout | openssl pkey -pubin -outform der "
                                           "| openssl dgst -sha256 -binary | base64");
  const int port = free_port();
  test::ChildProcess server("openssl",
                            {"s_server", "-quiet", "-accept", "127.0.0.1:" + std::to_string(port),
                             "-cert", cert, "-key", key, "-www"},
                            {}, false);
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
  sync::HttpClientOptions o;
  o.max_response_bytes = 1 << 20;
  // Wait until the server accepts connections (a refused connection says so).
  sync::HttpResponse first;
  for (int i = 0; i < 100; ++i) {
    first = get(url, o);
    if (first.transport_error.find("onnect") == std::string::npos) break;
    usleep(100000);
  }
  CHECK(first.status == 0);
  CHECK_MESSAGE(first.transport_error.find("certificate") != std::string::npos,
                first.transport_error);

  o.ca_file = cert;
  auto trusted = get(url, o);
  CHECK_MESSAGE(trusted.ok(), trusted.transport_error);
  CHECK(trusted.status == 200);

  o.pinned_public_key = pin;
  CHECK(get(url, o).ok());
  o.pinned_public_key = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  auto pinned_wrong = get(url, o);
  CHECK_FALSE(pinned_wrong.ok());
  CHECK_MESSAGE(pinned_wrong.transport_error.find("pin") != std::string::npos,
                pinned_wrong.transport_error);
}

TEST_CASE("responses above the limit are refused as too large") {
  test::TempDir dir;
  boost::asio::io_context io(1);
  agent::HttpServer server(io, {"127.0.0.1", 0, 1 << 20, ""});
  server.route("GET", "/big", [](const agent::ApiRequest&) {
    agent::ApiResponse r;
    r.body = std::string(100000, 'x');
    return r;
  });
  const auto port = *server.start();
  sync::HttpClientOptions o;
  o.max_response_bytes = 50000;
  sync::HttpClient client(io, o);
  sync::HttpResponse result;
  bool done = false;
  sync::HttpRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/big";
  client.send(r, [&](sync::HttpResponse resp) {
    result = std::move(resp);
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < deadline)
    io.run_for(std::chrono::milliseconds(10));
  REQUIRE(done);
  CHECK(result.too_large);
  CHECK(result.transport_error.find("larger than 50000") != std::string::npos);
}
