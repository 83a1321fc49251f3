#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace rill {

/// What a load generator writes: `count` entries with fields `seq` (0..count-1),
/// `payload` (`payload_bytes` bytes) and `ts` (microseconds since the epoch,
/// realtime clock, taken when the entry is sent).
struct load_plan {
  std::string stream;
  uint64_t count = 0;
  uint64_t payload_bytes = 100;
  /// Entries per second (0: as fast as the producer takes them).
  uint64_t rate = 0;
  /// Entries per pipelined XADD batch at most.
  uint32_t batch = 128;
  /// Batches outstanding at the producer at most.
  uint32_t window = 8;
};

/// Progress of a load generator, readable from any thread.
struct load_progress {
  std::atomic<uint64_t> produced{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<bool> finished{false};
};

/// Spawns an actor that XADDs `plan.count` entries through `producer` (see
/// `spawn_producer`), keeping at most `plan.window` batches outstanding and
/// pacing to `plan.rate`. A failed batch (Redis down, backpressure) is sent
/// again after a backoff, so every seq is written at least once. It quits when
/// all were written.
caf::actor spawn_load_generator(caf::actor_system& sys, caf::actor producer, load_plan plan,
                                std::shared_ptr<load_progress> progress);

} // namespace rill
