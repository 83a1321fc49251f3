#pragma once

// Internal to the runtime (not installed): the SSE gateway (issue 17,
// docs/gateway.md), served by http_service when `gateway.enabled` is set.

#include <rill/runtime/gateway_hub.hpp>
#include <rill/runtime/http_server.hpp>

#include <prometheus/metric_family.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rill {

class runtime;
struct health_check;

/// `GET /streams/{key}/events` (key percent-encoded) as `text/event-stream`:
/// every entry after the client's position, once and in stream order (see
/// gateway_hub.hpp). The position is the `Last-Event-ID` header - what a
/// browser's EventSource sends by itself on reconnecting - else the
/// `last_id` query parameter, else now. With `http.token` the client must
/// carry it (bearer header, `rill_token` cookie or `access_token` query);
/// 401 without. 403 for a key outside `gateway.streams`, 503 past
/// `gateway.max-clients` or `gateway.max-streams`.
class gateway {
public:
  explicit gateway(runtime& rt);

  /// The server whose thread it runs on (http_service calls it once the
  /// server listens).
  void attach(http_server& server);

  /// Closes every client and ends every tailer, on the server's thread;
  /// call before the server stops.
  void stop();

  /// The answer for a gateway path; nullopt for any other path.
  std::optional<http_response> handle(const http_request& req);

  /// Every second on the server's thread: heartbeats, streams let go.
  void tick(int64_t now_ns);

  /// Its metric families for /metrics (server thread).
  std::vector<prometheus::MetricFamily> metric_families() const;

  /// Its line of /readyz: clients, streams and drops (never failing).
  health_check readiness() const;

private:
  http_response refuse(unsigned status, std::string why,
                       std::vector<std::pair<std::string, std::string>> headers) const;
  std::shared_ptr<gateway_hub> hub_for(const std::string& stream);

  runtime& rt_;
  const gateway_settings& cfg_;
  std::shared_ptr<server_poster> poster_ = std::make_shared<server_poster>();
  http_server* server_ = nullptr;
  /// Set once `attach` is done: a request the server takes before that (it
  /// serves from the moment it listens) gets 503, since the feed could not
  /// reach it yet.
  std::atomic<bool> attached_{false};
  gateway_counters counters_;
  std::map<std::string, std::shared_ptr<gateway_hub>> hubs_;
  int64_t last_beat_ns_ = 0;
  uint64_t rejected_auth_ = 0;
  uint64_t rejected_full_ = 0;
  uint64_t rejected_key_ = 0;
};

} // namespace rill
