#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace rill {

/// A Prometheus-style histogram of durations in seconds: fixed upper bounds
/// (`le`), one counter per bucket plus the sum. `observe` is a few relaxed
/// atomic adds - no lock - so an actor records into its own histogram on the
/// hot path and the exporter reads it from another thread at any time.
class histogram {
public:
  /// What `read` returns: `counts[i]` holds the observations <= `bounds[i]`
  /// and above the bound before (not cumulative); the last one is +Inf.
  struct snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;
    double sum = 0;
    uint64_t count() const noexcept;
    /// Adds `other` (same bounds) into this one.
    void merge(const snapshot& other);
  };

  /// `bounds` in seconds, ascending (sorted and de-duplicated here).
  explicit histogram(std::vector<double> bounds);

  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  void observe(std::chrono::nanoseconds d) noexcept;

  snapshot read() const;

  const std::vector<double>& bounds() const noexcept { return bounds_; }

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_; // bounds_.size() + 1
  std::atomic<uint64_t> sum_ns_{0};
};

/// Default buckets (seconds): callback durations and round trips span 50 µs
/// to 10 s; entry ages span 1 ms to 1 h.
std::vector<double> default_duration_buckets();
std::vector<double> default_age_buckets();

} // namespace rill
