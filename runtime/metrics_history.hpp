#pragma once

// Internal to the runtime (not installed): the dashboard's few minutes of
// history, so the page needs no Prometheus.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace rill {

class runtime;

/// Samples each consumer's figures once per `sample` call (the HTTP server's
/// thread calls it every second) and keeps the last `capacity` samples.
class metrics_history {
public:
  explicit metrics_history(size_t capacity = 600) : capacity_(capacity) {}

  void sample(const runtime& rt, int64_t unix_ms);

  /// `{"interval_ms":..,"consumers":[{"stream","group","consumer","t":[..],
  /// "acked":[..],"delivered":[..],"lag":[..],"pending":[..],"in_flight":[..],
  /// "idle_workers":[..]}]}`; counters are cumulative (the page takes rates).
  std::string json(int64_t interval_ms) const;

private:
  struct series {
    std::string stream, group, consumer;
    std::deque<int64_t> t, acked, delivered, lag, pending, in_flight, idle_workers;
  };
  size_t capacity_;
  std::vector<series> all_;
};

} // namespace rill
