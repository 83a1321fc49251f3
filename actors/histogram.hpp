#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace rill {

/// A Prometheus-style histogram of durations in seconds: fixed upper bounds
/// (`le`), one counter per bucket plus the sum. One writer at a time (an
/// actor records into its own histogram on the hot path: `observe` is two
/// relaxed loads and stores, no lock, no locked instruction); any thread
/// reads it at any time (the exporter, at a scrape).
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
  /// Adds the counts and the sum into `s`, which takes these bounds if it
  /// has none yet: a scrape sums 64 workers per consumer without a snapshot
  /// (two vectors) for each.
  void add_to(snapshot& s) const;

  const std::vector<double>& bounds() const noexcept { return bounds_; }

private:
  struct aligned_delete {
    void operator()(std::atomic<uint64_t>* p) const noexcept;
  };

  std::vector<double> bounds_;
  /// The bucket counters (bounds_.size() + 1), then the sum in ns, in whole
  /// cache lines of their own: histograms of workers on other threads never
  /// share a line. (K=512 against the build without metrics, CPU per entry:
  /// +14% with the allocator packing them side by side, +4% aligned.)
  std::unique_ptr<std::atomic<uint64_t>[], aligned_delete> counts_;
  size_t sum_index_ = 0;
};

/// Default buckets (seconds): callback durations and round trips 100 µs to
/// 10 s in 1-5 steps (11 bounds), entry ages 1 ms to 1 h (8). Few on purpose:
/// every bound is a series per consumer, and a scrape of 1,000 consumers
/// costs about 2.5 µs per series in the text format (docs/observability.md).
std::vector<double> default_duration_buckets();
std::vector<double> default_age_buckets();

} // namespace rill
