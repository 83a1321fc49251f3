#include <rill/actors/histogram.hpp>

#include <algorithm>
#include <new>

namespace rill {

uint64_t histogram::snapshot::count() const noexcept {
  uint64_t n = 0;
  for (auto c : counts)
    n += c;
  return n;
}

void histogram::snapshot::merge(const snapshot& other) {
  if (counts.empty()) {
    *this = other;
    return;
  }
  for (size_t i = 0; i < counts.size() && i < other.counts.size(); ++i)
    counts[i] += other.counts[i];
  sum += other.sum;
}

namespace {

constexpr size_t cache_line = 64;
constexpr size_t per_line = cache_line / sizeof(std::atomic<uint64_t>);

} // namespace

void histogram::aligned_delete::operator()(std::atomic<uint64_t>* p) const noexcept {
  ::operator delete[](p, std::align_val_t{cache_line});
}

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  sum_index_ = bounds_.size() + 1;
  auto slots = (sum_index_ + 1 + per_line - 1) / per_line * per_line;
  auto* raw = static_cast<std::atomic<uint64_t>*>(
    ::operator new[](slots * sizeof(std::atomic<uint64_t>), std::align_val_t{cache_line}));
  for (size_t i = 0; i < slots; ++i)
    new (raw + i) std::atomic<uint64_t>{0};
  counts_.reset(raw);
}

void histogram::observe(std::chrono::nanoseconds d) noexcept {
  auto ns = std::max<int64_t>(0, d.count());
  auto seconds = static_cast<double>(ns) / 1e9;
  // `le` buckets: the first bound >= the value.
  auto i = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin();
  // One writer (see the header): a plain load and store, no locked
  // read-modify-write on the hot path.
  auto& bucket = counts_[static_cast<size_t>(i)];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  auto& sum = counts_[sum_index_];
  sum.store(sum.load(std::memory_order_relaxed) + static_cast<uint64_t>(ns),
            std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  add_to(s);
  return s;
}

void histogram::add_to(snapshot& s) const {
  if (s.counts.empty()) {
    s.bounds = bounds_;
    s.counts.assign(bounds_.size() + 1, 0);
  }
  for (size_t i = 0; i < s.counts.size() && i <= bounds_.size(); ++i)
    s.counts[i] += counts_[i].load(std::memory_order_relaxed);
  s.sum += static_cast<double>(counts_[sum_index_].load(std::memory_order_relaxed)) / 1e9;
}

std::vector<double> default_duration_buckets() {
  return {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
}

std::vector<double> default_age_buckets() {
  return {0.001, 0.01, 0.1, 1, 10, 60, 600, 3600};
}

} // namespace rill
