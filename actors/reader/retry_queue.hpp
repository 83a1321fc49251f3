#pragma once

// Entries the reader holds for another try: failed entries waiting for their
// redelivery backoff, and dead letters whose script failed, waiting to be
// written again. Plain data, no actor inside: the reader claims the entries
// back (XCLAIM) and arms the timers this class asks for.

#include <rill/actors/reader/slot_table.hpp> // steady
#include <rill/actors/stream_entry.hpp>

#include <optional>
#include <string>
#include <vector>

namespace rill::detail {

/// A failed entry waiting for its redelivery.
struct retry_item {
  steady::time_point due;
  stream_entry entry;
};

/// A dead letter whose script failed, to be written again. Only its ID is
/// kept: the entry stays pending in Redis (its lease renewed) and is fetched
/// again for the next attempt, so poison entries whose dead letter cannot be
/// written hold neither a worker nor memory for their fields.
struct dead_item {
  std::string id;
  std::string reason;
};

class retry_queue {
public:
  /// Redeliver `entry` at `due`.
  void schedule(stream_entry entry, steady::time_point due);

  /// Up to `most` entries due at `now`, oldest first among them.
  std::vector<retry_item> take_due(steady::time_point now, size_t most);

  /// The delay for the redelivery timer if it must be armed (for the
  /// earliest due entry, unless a timer fires that early already).
  std::optional<steady::duration> arm(steady::time_point now);
  /// The redelivery timer fired.
  void timer_fired() noexcept { armed_ = false; }

  /// A dead letter to be written again.
  void dead_failed(dead_item item) { dead_.push_back(std::move(item)); }
  /// Up to `most` dead letters for the next attempt.
  std::vector<dead_item> take_dead(size_t most);

  size_t retries() const noexcept { return retries_.size(); }
  size_t dead() const noexcept { return dead_.size(); }
  bool empty() const noexcept { return retries_.empty() && dead_.empty(); }
  bool holds(const std::string& id) const;

  /// IDs of everything held here (their leases are renewed).
  void append_ids(std::vector<std::string>& out) const;

private:
  std::vector<retry_item> retries_;
  std::vector<dead_item> dead_;
  bool armed_ = false;
  steady::time_point armed_at_;
};

} // namespace rill::detail
