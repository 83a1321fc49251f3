#include <rill/actors/backoff.hpp>

#include <algorithm>
#include <random>

namespace rill {

backoff::backoff(caf::timespan min, caf::timespan max) noexcept :
  min_(min), max_(std::max(min, max)) {
  // nop
}

caf::timespan backoff_delay(caf::timespan min, caf::timespan max, uint32_t attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  auto shift = std::min<uint32_t>(attempt, 30);
  auto d = min.count() << shift;
  if (d <= 0 || d > max.count() || (d >> shift) != min.count())
    d = max.count();
  std::uniform_int_distribution<int64_t> dist{d / 2, d};
  return caf::timespan{dist(rng)};
}

caf::timespan backoff::next() {
  return backoff_delay(min_, max_, attempts_++);
}

} // namespace rill
