#include "sync/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <mutex>

namespace fulfil::sync {
namespace asio = boost::asio;

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpRequest request;
  HttpResponse response;
  HttpClient::Callback done;
  std::size_t max_bytes = 0;
  bool oversized = false;
  char error[CURL_ERROR_SIZE] = {};
};

// One watched socket. Asio must never close curl's fd, so the descriptor is released
// (not closed) when curl stops watching it.
struct SocketWatch {
  explicit SocketWatch(asio::io_context& io, curl_socket_t fd) : descriptor(io, fd), fd(fd) {}
  asio::posix::stream_descriptor descriptor;
  curl_socket_t fd;
  int wanted = 0;  // CURL_POLL_IN / OUT / INOUT
  bool reading = false;
  bool writing = false;
  bool removed = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t bytes = size * n;
  if (t->response.body.size() + bytes > t->max_bytes) {
    t->oversized = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, bytes);
  return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    t->response.headers[name] =
        first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
  } else if (line.rfind("HTTP/", 0) == 0) {
    t->response.headers.clear();  // a new response (after 100-continue or a redirect)
  }
  return size * n;
}

}  // namespace

struct HttpClient::Impl {
  Impl(asio::io_context& io, HttpClientOptions o) : io(io), options(std::move(o)), timer(io) {
    global_init_once();
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::socket_cb);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::timer_cb);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  }

  ~Impl() {
    cancel_all();
    curl_multi_cleanup(multi);
  }

  asio::io_context& io;
  HttpClientOptions options;
  CURLM* multi = nullptr;
  asio::steady_timer timer;
  std::map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::map<curl_socket_t, std::shared_ptr<SocketWatch>> sockets;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  void cancel_all() {
    for (auto& [easy, t] : transfers) {
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      curl_slist_free_all(t->headers);
    }
    transfers.clear();
    for (auto& [fd, w] : sockets) release(*w);
    sockets.clear();
    timer.cancel();
  }

  static void release(SocketWatch& w) {
    w.removed = true;
    boost::system::error_code ignored;
    w.descriptor.cancel(ignored);
    w.descriptor.release();
  }

  void configure(Transfer& t) {
    CURL* e = t.easy;
    const HttpRequest& r = t.request;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options.max_response_bytes));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    if (!options.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_file.c_str());
    if (!options.pinned_public_key.empty())
      curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, options.pinned_public_key.c_str());
    if (!options.proxy.empty()) curl_easy_setopt(e, CURLOPT_PROXY, options.proxy.c_str());
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    }
    t.headers = curl_slist_append(t.headers, "Expect:");  // no 100-continue round trip
    for (const auto& [name, value] : r.headers)
      t.headers = curl_slist_append(t.headers, (name + ": " + value).c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
  }

  static int socket_cb(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    auto* self = static_cast<Impl*>(userp);
    if (what == CURL_POLL_REMOVE) {
      if (auto it = self->sockets.find(fd); it != self->sockets.end()) {
        release(*it->second);
        self->sockets.erase(it);
      }
      return 0;
    }
    auto& w = self->sockets[fd];
    if (!w) w = std::make_shared<SocketWatch>(self->io, fd);
    w->wanted = what;
    self->arm(w);
    return 0;
  }

  void arm(const std::shared_ptr<SocketWatch>& w) {
    if ((w->wanted & CURL_POLL_IN) && !w->reading) {
      w->reading = true;
      w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                               [this, w, alive = alive](const boost::system::error_code& ec) {
                                 w->reading = false;
                                 if (!*alive || ec || w->removed) return;
                                 on_ready(w, CURL_CSELECT_IN);
                               });
    }
    if ((w->wanted & CURL_POLL_OUT) && !w->writing) {
      w->writing = true;
      w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                               [this, w, alive = alive](const boost::system::error_code& ec) {
                                 w->writing = false;
                                 if (!*alive || ec || w->removed) return;
                                 on_ready(w, CURL_CSELECT_OUT);
                               });
    }
  }

  void on_ready(const std::shared_ptr<SocketWatch>& w, int direction) {
    int running = 0;
    curl_multi_socket_action(multi, w->fd, direction, &running);
    collect_done();
    if (!w->removed) arm(w);
  }

  static int timer_cb(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<Impl*>(userp);
    self->timer.cancel();
    if (timeout_ms < 0) return 0;
    self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer.async_wait([self, alive = self->alive](const boost::system::error_code& ec) {
      if (ec || !*alive) return;
      int running = 0;
      curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
      self->collect_done();
    });
    return 0;
  }

  void collect_done() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      auto it = transfers.find(easy);
      if (it == transfers.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      transfers.erase(it);
      const CURLcode rc = msg->data.result;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->response.status);
      if (rc != CURLE_OK) {
        t->response.too_large = t->oversized || rc == CURLE_FILESIZE_EXCEEDED;
        t->response.transport_error =
            t->oversized || rc == CURLE_FILESIZE_EXCEEDED
                ? "response larger than " + std::to_string(options.max_response_bytes) + " bytes"
                : std::string(curl_easy_strerror(rc)) +
                      (t->error[0] ? std::string(": ") + t->error : "");
      }
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      curl_slist_free_all(t->headers);
      // Deliver from a fresh handler: the callback may start new requests or destroy us.
      asio::post(io, [done = std::move(t->done), response = std::move(t->response),
                      alive = alive]() mutable {
        if (*alive) done(std::move(response));
      });
    }
  }
};

HttpClient::HttpClient(asio::io_context& io, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

HttpClient::~HttpClient() {
  *impl_->alive = false;
  impl_->cancel_all();
}

void HttpClient::send(HttpRequest request, Callback done) {
  auto t = std::make_unique<Transfer>();
  t->easy = curl_easy_init();
  t->request = std::move(request);
  t->done = std::move(done);
  t->max_bytes = impl_->options.max_response_bytes;
  impl_->configure(*t);
  CURL* easy = t->easy;
  impl_->transfers.emplace(easy, std::move(t));
  curl_multi_add_handle(impl_->multi, easy);
  // Started now, not at the loop's next turn: on a kept-alive connection the request is
  // written before send() returns, so what the caller does next overlaps the server's work
  // (the drain reads and compresses its next batch meanwhile). The answer still comes
  // through the loop.
  int running = 0;
  curl_multi_socket_action(impl_->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  impl_->collect_done();
}

void HttpClient::cancel_all() {
  // Pending callbacks already posted must not run either.
  *impl_->alive = false;
  impl_->cancel_all();
  impl_->alive = std::make_shared<bool>(true);
}

std::size_t HttpClient::in_flight() const {
  return impl_->transfers.size();
}

}  // namespace fulfil::sync
