#pragma once

// Internal to the runtime (not installed): what `http.listen` turns on.

#include <rill/runtime/gateway.hpp>
#include <rill/runtime/http_server.hpp>
#include <rill/runtime/metrics_exporter.hpp>
#include <rill/runtime/metrics_history.hpp>

#include <caf/actor.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace rill {

class runtime;

/// The process's HTTP endpoints on one `http_server`:
/// - `GET /metrics`: Prometheus text format (metrics_exporter);
/// - `GET /livez`: the scheduler answers a watchdog ping (sent every second
///   from the server's thread to an actor, asynchronously);
/// - `GET /readyz`: Redis, groups and progress (readiness.hpp);
/// - `GET /`, `/chart.min.js`, `/api/history`: the live dashboard;
/// - with `gateway.enabled`, `GET /streams/{key}/events` (gateway.hpp).
/// With `http.token`, /metrics and /api/history need `Authorization: Bearer
/// TOKEN` (the page passes on a `?token=TOKEN` of its own URL); the probes
/// and the page's static files hold no figures and need none.
class http_service {
public:
  /// Starts serving on `http.listen`; null and `error` set if it cannot.
  static std::unique_ptr<http_service> start(runtime& rt, std::string& error);

  ~http_service();

  uint16_t port() const noexcept { return server_->port(); }

private:
  explicit http_service(runtime& rt);
  http_response handle(const http_request& req);
  bool authorized(const http_request& req) const;

  runtime& rt_;
  metrics_exporter exporter_;
  metrics_history history_;
  std::shared_ptr<std::atomic<int64_t>> last_pong_;
  caf::actor watchdog_;
  std::unique_ptr<gateway> gateway_;
  std::unique_ptr<http_server> server_;
};

} // namespace rill
