#pragma once

#include <rill/actors/stream_entry.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <functional>
#include <string>
#include <vector>

namespace rill {

/// A stream followed without a consumer group (`runtime::tail`): one tailer
/// actor with one Redis connection (actors/tailer.hpp), any number of
/// subscribers. Entries are not acknowledged: a subscriber that stops and
/// subscribes again from the last ID it saw misses nothing still in the
/// stream, and is told of a gap if the stream was trimmed past that ID.
class tail {
public:
  tail(caf::actor_system& sys, caf::actor tailer) : sys_(sys), tailer_(std::move(tailer)) {}
  ~tail();

  tail(const tail&) = delete;
  tail& operator=(const tail&) = delete;

  /// Calls `on_entry` for every entry after `from` (an entry ID; empty: the
  /// tail when the tailer started, or its live position for later
  /// subscribers), each once and in stream order, on a scheduler thread.
  /// `on_gap` (optional) hears when entries after `from` were trimmed.
  tail& subscribe(std::function<void(const stream_entry&)> on_entry, std::string from = {},
                  std::function<void(const std::string& first_available)> on_gap = {});

  const caf::actor& tailer() const noexcept { return tailer_; }
  size_t subscribers() const noexcept { return subscribers_.size(); }

  /// Ends the tailer, its connection and the subscribers.
  void stop();

private:
  caf::actor_system& sys_;
  caf::actor tailer_;
  std::vector<caf::actor> subscribers_;
};

} // namespace rill
