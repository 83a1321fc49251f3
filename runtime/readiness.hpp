#pragma once

// Internal to the runtime (not installed): what /livez and /readyz decide.

#include <cstdint>
#include <string>
#include <vector>

namespace rill {

class runtime;

/// One check of /readyz or /livez: a name ("redis", "group orders/billing")
/// and, when it fails, why.
struct health_check {
  std::string name;
  bool ok = true;
  std::string detail;
};

/// /readyz: every Redis connection is up; every reader is attached to its
/// group; no group has gone `http.ready-stall` without a confirmed ack while
/// its lag is > 0; no consumer refused to run. `now_ns` on the steady clock.
std::vector<health_check> readiness(const runtime& rt, int64_t now_ns);

/// /livez: the scheduler answered the watchdog's last ping within `limit_ns`
/// of `now_ns` (steady clock). Redis plays no part: a pod is not restarted
/// because Redis blinked.
health_check liveness(int64_t last_pong_ns, int64_t now_ns, int64_t limit_ns);

/// `{"ok":..,"checks":[{"name":..,"ok":..,"detail":..}]}` and 200 or 503.
std::string health_body(const std::vector<health_check>& checks);
bool all_ok(const std::vector<health_check>& checks);

} // namespace rill
