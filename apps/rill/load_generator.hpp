#pragma once

#include <rill/actors/interfaces.hpp>

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
  /// Bytes of payload outstanding at most: fewer entries per batch and fewer
  /// batches for large payloads (the producer bounds its bytes too).
  uint64_t max_bytes = 32 << 20;
  /// With a value > 0, entry `seq` gets the ID `<id_ms>-<seq>` (pick one above
  /// the stream's last ID): a batch whose reply was lost is sent again and
  /// Redis rejects what it has already ("equal or smaller than the target
  /// stream top item"), so nothing is written twice. Only for a stream no one
  /// else writes to meanwhile. 0: IDs by Redis (`*`), and a lost reply may
  /// duplicate its batch.
  uint64_t id_ms = 0;
  /// With a value > 0, each entry also gets `key` = "k<drill_key(seq, keys)>"
  /// (for `consumer.order-by=key` drills).
  uint64_t keys = 0;
};

/// A pseudo-random key number in 0..keys-1 for `seq`, reproducible from the
/// seq alone: seq_hash(seq) % keys (splitmix64, seq_checksum.hpp). Nearby
/// entries share keys, as in real traffic (seq % keys, or any hash built to
/// spread consecutive values, would put a key's entries `keys` apart, and
/// no key would ever wait).
uint64_t drill_key(uint64_t seq, uint64_t keys);

/// Progress of a load generator, readable from any thread.
struct load_progress {
  /// Entries Redis acknowledged (or, resent, already had).
  std::atomic<uint64_t> produced{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<bool> finished{false};
  /// Why the generator gave up (set before `finished`; empty if it did not).
  std::string error;
};

/// Spawns an actor that XADDs `plan.count` entries through `producer` (see
/// `spawn_producer`; `conn` is the connection it writes through), keeping at most `plan.window`
/// batches outstanding and pacing to `plan.rate`. A batch that was not sent (Redis down,
/// backpressure) goes again after a backoff; entries Redis refused (memory,
/// loading) go again alone, under new IDs above all sent; a batch whose
/// outcome is unknown (reply lost) goes again before any new one, and what
/// Redis refuses as already passed is looked up (see `load_plan::id_ms`). An error that retrying
/// cannot fix (a value too long for the server, a key of another type) ends
/// it with `progress->error`. It quits when all were written.
caf::actor spawn_load_generator(caf::actor_system& sys, producer_actor producer,
                                connection_actor conn, load_plan plan,
                                std::shared_ptr<load_progress> progress);

} // namespace rill
