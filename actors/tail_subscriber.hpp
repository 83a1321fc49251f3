#pragma once

// A subscriber of a tailer (actors/tailer.hpp) that runs a callback per entry
// on a scheduler thread: it keeps `window` entries in credit (one back per
// entry done), and when the tailer drops it (it fell behind by the tailer's
// buffer) it subscribes again from the last ID it got, so the callback still
// sees every entry once, in order: the tailer catches it up with XRANGE.

#include <rill/actors/stream_entry.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <functional>
#include <string>

namespace rill {

struct tail_callbacks {
  /// Each entry, in stream order. Keep it short: it runs on a scheduler
  /// thread (hand long work to an actor).
  std::function<void(const stream_entry&)> on_entry;
  /// Entries after the subscription's ID were trimmed away; what follows
  /// starts at `first_available` (empty: nothing is left). Optional.
  std::function<void(const std::string& first_available)> on_gap;
  /// false: a credit goes back to the tailer as each `on_entry` returns.
  /// true: whoever hands the entries on grants them, sending `(credit_atom,
  /// uint32_t n)` to the subscriber once its own sink (a socket) took them:
  /// the tailer then sends no faster than that sink drains.
  bool caller_grants_credit = false;
};

/// Subscribes to `tailer` from `from` (an entry ID; empty: the live tail).
caf::actor spawn_tail_subscriber(caf::actor_system& sys, caf::actor tailer, std::string from,
                                 tail_callbacks callbacks, uint32_t window = 256);

} // namespace rill
