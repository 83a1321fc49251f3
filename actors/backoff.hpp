#pragma once

#include <caf/timestamp.hpp>

#include <cstdint>

namespace rill {

/// The delay before attempt `attempt` (0-based): drawn from [d/2, d] with
/// d = min * 2^attempt, capped at max.
caf::timespan backoff_delay(caf::timespan min, caf::timespan max, uint32_t attempt);

/// Capped exponential backoff with jitter: the n-th delay is drawn uniformly
/// from [d/2, d] with d = min * 2^n, capped at max. Jitter keeps many clients
/// that lost Redis together from reconnecting in lockstep.
class backoff {
public:
  backoff(caf::timespan min, caf::timespan max) noexcept;

  /// Returns the next delay and advances.
  caf::timespan next();

  /// Starts over at `min` (call after a success).
  void reset() noexcept { attempts_ = 0; }

  /// Delays handed out since the last reset.
  uint32_t attempts() const noexcept { return attempts_; }

private:
  caf::timespan min_;
  caf::timespan max_;
  uint32_t attempts_ = 0;
};

} // namespace rill
