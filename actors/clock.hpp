#pragma once

// The two clocks the metrics and probes read, as plain integers.

#include <chrono>
#include <cstdint>

namespace rill {

/// The steady clock in ns since its epoch: what the `*_ns` fields of
/// consumer_metrics hold.
inline int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// The wall clock in ms since the Unix epoch: the time in stream IDs.
inline int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace rill
