#pragma once

// Internal to the runtime (not installed): /metrics.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace rill {

class runtime;

/// The runtime's live figures as Prometheus metric families. The hot path
/// never sees it: actors count into their own atomics and histograms
/// (actors/metrics.hpp) and this reads them at scrape time, so a scrape
/// costs no message, no lock per entry and no Redis command. Every metric is
/// listed in docs/observability.md. Labels are names only (stream, group,
/// connection, command; consumer with `metrics.per-consumer`), never IDs or
/// error text, and invalid UTF-8 in them is replaced.
class metrics_exporter : public prometheus::Collectable {
public:
  explicit metrics_exporter(const runtime& rt) : rt_(rt) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

  /// Collect() and `extra` in the text exposition format (version 0.0.4).
  std::string text(std::vector<prometheus::MetricFamily> extra = {}) const;

private:
  const runtime& rt_;
};

} // namespace rill
