#include "runtime/backoff.hpp"

#include <algorithm>
#include <random>

namespace rill {

backoff::backoff(caf::timespan min, caf::timespan max) noexcept :
  min_(min), max_(std::max(min, max)) {
  // nop
}

caf::timespan backoff::next() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  auto shift = std::min<uint32_t>(attempts_, 30);
  ++attempts_;
  auto d = min_.count() << shift;
  if (d <= 0 || d > max_.count() || (d >> shift) != min_.count())
    d = max_.count();
  std::uniform_int_distribution<int64_t> dist{d / 2, d};
  return caf::timespan{dist(rng)};
}

} // namespace rill
