#pragma once

// A tailer follows one stream without a consumer group and fans its entries
// out to any number of subscriber actors (issue 17).
//
// It never sends `$`: after an empty BLOCK reply, Redis would resolve `$` to
// the tail at that moment again, and every entry added between the empty
// reply and the next read would be lost. The tailer starts from a concrete
// cursor - the tail snapshotted once (`XREVRANGE key + - COUNT 1`, `0-0` for
// an empty or missing stream) or an ID it is given - and after that always
// reads after the last ID it has seen.
//
// Subscribers (see messages.hpp, "tailer"):
// - get what they asked for and never more: `(credit_atom, n)` grants n
//   entries; the tailer queues up to `buffer` more for each, then tells the
//   subscriber it was dropped (and the last ID it got) and forgets it, so a
//   slow subscriber never holds back the others or the reads;
// - subscribing with an ID catches up with `XRANGE` on the shared connection
//   and is then handed to the live reads with no gap and no duplicate (an
//   entry is queued for a subscriber only if its ID is above the last one
//   queued for it);
// - an ID older than what the stream still holds (trimmed: older than its
//   first entry, and something after it was deleted per XINFO STREAM's
//   max-deleted-entry-id) is reported as `(gap_atom, first_available)` before
//   the entries; `0-0` never is.
// One tailer holds one Redis connection (its blocking reads) whatever the
// number of subscribers; catch-ups and the start-up snapshot use the shared
// one.

#include <rill/actors/interfaces.hpp>
#include <rill/actors/reader.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <string>

namespace rill {

struct tailer_options {
  std::string stream;
  /// Where to start: empty = the stream's tail when the tailer starts,
  /// otherwise an entry ID (entries after it).
  std::string from;
  caf::timespan block = std::chrono::milliseconds{1000};
  /// Entries per XREAD and per catch-up XRANGE.
  uint32_t count = 256;
  /// Entries queued for one subscriber beyond its credits before it is
  /// dropped (at least `count`).
  size_t buffer = 4096;
  caf::timespan request_timeout = std::chrono::seconds{5};
  caf::timespan retry_min = std::chrono::milliseconds{100};
  caf::timespan retry_max = std::chrono::seconds{5};
};

/// Spawns a tailer; `make_connection` opens its own connection (the reads
/// block), `shared_conn` serves the snapshot, XINFO and catch-up reads.
caf::actor spawn_tailer(caf::actor_system& sys, tailer_options opts,
                        connection_factory make_connection, connection_actor shared_conn);

} // namespace rill
