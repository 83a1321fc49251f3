#pragma once

// Internal to the runtime (not installed): the process's one HTTP server.

#include <rill/runtime/http_stream.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rill {

struct http_request {
  std::string method;
  /// The target's path ("/metrics") and its query without the '?'.
  std::string path;
  std::string query;
  /// The Authorization header (empty if none).
  std::string authorization;
  /// Headers an event stream reads (empty if absent).
  std::string last_event_id;
  std::string cookie;
  std::string origin;
};

struct http_response {
  using header_list = std::vector<std::pair<std::string, std::string>>;

  http_response() = default;
  http_response(unsigned status_code, std::string type, std::string text, header_list extra = {}) :
    status(status_code), content_type(std::move(type)), body(std::move(text)),
    headers(std::move(extra)) {}

  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  header_list headers;
  /// Set: a streamed response. The server writes the status and headers
  /// (no length: the body ends when the connection does) and hands the
  /// connection to `stream`, on the server's thread.
  std::function<void(std::shared_ptr<http_stream>)> stream;
  /// The stream's bound (http_stream::send).
  size_t max_queued_bytes = size_t{1} << 20;
};

using http_handler = std::function<http_response(const http_request&)>;

/// An HTTP/1.1 server (Boost.Beast) on its own thread and asio io_context:
/// CAF 0.17 has no asio multiplexer, and a scrape must never wait for a
/// scheduler thread. Everything is asynchronous, so one thread holds many
/// slow clients; each connection has a deadline for every read and write,
/// headers are bounded, bodies refused, and at most `max_connections` are
/// held (more are closed at accept). `handler` runs on the server's thread
/// and must not block: rill's handlers read atomics and hand anything else
/// to actors with asynchronous sends.
class http_server {
public:
  struct limits {
    size_t max_connections = 256;
    /// Deadline of each request read (the whole header) and each write;
    /// also how long a kept-alive connection may sit idle.
    std::chrono::milliseconds io_timeout{10000};
    uint32_t max_header_bytes = 8192;
  };

  /// Binds `host:port` (port 0: a free one) and serves. On failure returns
  /// null and sets `error` to one line naming the address.
  static std::unique_ptr<http_server> start(const std::string& host, uint16_t port,
                                            http_handler handler, limits lim, std::string& error);

  /// Closes the listener and every connection and joins the thread.
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The bound port.
  uint16_t port() const noexcept;

  /// Runs `fn` on the server's thread every `period`, first after one period.
  void every(std::chrono::milliseconds period, std::function<void()> fn);

  /// Runs `fn` on the server's thread soon (from any thread). Dropped, not
  /// run, once the server stops.
  void post(std::function<void()> fn);

  struct impl;

private:
  explicit http_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace rill
