#pragma once

// Per-key ordering for a reader with `consumer.order-by` (docs/key-order.md):
// at most one entry of a key is out at a worker (its *holder*); later entries
// of that key wait here, in stream-ID order, until the holder is settled
// (acked, dead-lettered or deleted). A failing holder keeps its key through
// its retries, so nothing of that key overtakes it; other keys go on. A key
// with nothing out and nothing waiting leaves no state. Plain data, no actor
// inside.

#include <rill/actors/stream_entry.hpp>

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace rill::detail {

class key_order {
public:
  /// `field`: the entry field whose value is the key (empty: no ordering).
  explicit key_order(std::string field = {}) : field_(std::move(field)) {}

  bool enabled() const noexcept { return !field_.empty(); }

  /// The entry may go to a worker now: it has no key, its key is free (it
  /// becomes the holder), or it holds its key already (a redelivery). Else it
  /// waits behind its key's holder and nothing is returned.
  std::optional<stream_entry> admit(stream_entry&& entry);

  /// The entry `id` is settled: its key is free, or passes to the oldest entry
  /// waiting for it, which is returned (its new holder, to be dispatched).
  std::optional<stream_entry> settle(const std::string& id);

  /// Entries waiting behind a busy key.
  size_t waiting() const noexcept { return waiting_; }
  /// Keys with an entry out (or being retried).
  size_t keys() const noexcept { return lines_.size(); }
  /// The most entries waiting behind one key.
  size_t longest() const noexcept { return longest_; }
  /// Entries that had to wait behind their key, ever.
  uint64_t waited() const noexcept { return waited_; }
  /// True if `id` waits here.
  bool holds(const std::string& id) const;

private:
  struct line {
    std::string holder;             // the entry out for this key
    std::deque<stream_entry> queue; // the key's next entries, oldest first
  };

  std::string field_;
  std::unordered_map<std::string, line> lines_;     // by key
  std::unordered_map<std::string, std::string> of_; // holder ID -> key
  size_t waiting_ = 0;
  uint64_t waited_ = 0;
  /// How many keys have L entries waiting, at index L: `longest_` in O(1)
  /// (a queue grows or shrinks by one at a time).
  std::vector<size_t> lengths_;
  size_t longest_ = 0;

  void resized(size_t from, size_t to);
};

} // namespace rill::detail
