#pragma once

// Per-key ordering for a reader with `consumer.order-by` (docs/key-order.md):
// at most one entry of a key is out at a worker (its *holder*); later entries
// of that key wait here, in stream-ID order, until the holder is settled
// (acked, dead-lettered or deleted). A failing holder keeps its key through
// its retries, so nothing of that key overtakes it; other keys go on. A key
// with nothing out and nothing waiting leaves no state. Plain data, no actor
// inside.
//
// A key's waiting entries beyond `key_queue` are *parked*: only their IDs stay
// here (the entries stay pending for this consumer in Redis), so one hot key
// cannot fill the reader's window and starve the others. When the key's
// in-memory queue is down to half, its oldest parked IDs are handed out to be
// read back (XRANGE); everything newer of that key keeps waiting behind them.

#include <rill/actors/stream_entry.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rill::detail {

/// An entry's key, or nothing (not ordered).
using key_function = std::function<std::optional<std::string>(const stream_entry&)>;

class key_order {
public:
  /// Parked IDs of one key to read back from Redis, oldest first.
  struct fetch {
    std::string key;
    std::vector<std::string> ids;
  };

  /// `field`: the entry field whose value is the key; or `fn`, which computes
  /// it (both empty: no ordering). `key_queue`: entries of one key kept in
  /// memory while it is busy (0: all of them, nothing parked).
  explicit key_order(std::string field = {}, key_function fn = {}, size_t key_queue = 0);

  bool enabled() const noexcept { return static_cast<bool>(key_); }
  /// For log lines: "consumer.order-by=FIELD" or "order_key".
  const std::string& name() const noexcept { return name_; }

  /// The entry's key (nothing: not ordered). Throws what a key function throws.
  std::optional<std::string> key_of(const stream_entry& entry) const {
    return key_ ? key_(entry) : std::nullopt;
  }

  /// The entry may go to a worker now: it has no key, its key is free (it
  /// becomes the holder), or it holds its key already (a redelivery). Else it
  /// waits behind its key's holder (or is parked) and nothing is returned.
  std::optional<stream_entry> admit(stream_entry&& entry, std::optional<std::string> key);
  /// The same with the entry's own key (key_of).
  std::optional<stream_entry> admit(stream_entry&& entry) {
    auto key = key_of(entry);
    return admit(std::move(entry), std::move(key));
  }

  /// The entry `id` is settled: its key is free, or passes to the oldest entry
  /// waiting for it, which is returned (its new holder, to be dispatched). If
  /// its queue is down to half and entries are parked, a fetch is queued
  /// (take_fetches).
  std::optional<stream_entry> settle(const std::string& id);

  /// The fetches queued since the last call.
  std::vector<fetch> take_fetches();
  /// A fetch's answer: the entries Redis still has (any order); the IDs it
  /// asked for and did not get are gone from the stream (the caller acks
  /// them). Returns the key's new holder, if it has one now.
  std::optional<stream_entry> fetched(const std::string& key, std::vector<stream_entry> entries);
  /// A fetch failed: its IDs are parked again and the fetch is queued again.
  void fetch_failed(const std::string& key);

  /// Entries waiting in memory behind a busy key.
  size_t waiting() const noexcept { return waiting_; }
  /// Entries parked (IDs only), including those being fetched.
  size_t parked() const noexcept { return parked_ids_.size(); }
  /// Keys with an entry out (or being retried, or being fetched).
  size_t keys() const noexcept { return lines_.size(); }
  /// The most entries waiting in memory behind one key.
  size_t longest() const noexcept { return longest_; }
  /// Entries that had to wait behind their key, ever.
  uint64_t waited() const noexcept { return waited_; }
  /// True if `id` waits here (in memory or parked).
  bool holds(const std::string& id) const;
  /// True if `id` is out holding its key (not for entries without one).
  bool is_holder(const std::string& id) const { return of_.count(id) > 0; }

private:
  struct line {
    std::string holder;                // the entry out for this key ("": none, fetching)
    std::deque<stream_entry> queue;    // the key's next entries, oldest first
    std::deque<std::string> parked;    // newer than all of `queue`, by ID only
    std::vector<std::string> fetching; // parked IDs being read back
  };

  key_function key_; // empty: no ordering
  std::string name_;
  size_t key_queue_ = 0;
  std::unordered_map<std::string, line> lines_;     // by key
  std::unordered_map<std::string, std::string> of_; // holder ID -> key
  std::unordered_set<std::string> parked_ids_;
  std::vector<fetch> fetches_;
  size_t waiting_ = 0;
  uint64_t waited_ = 0;
  /// How many keys have L entries waiting, at index L: `longest_` in O(1)
  /// (a queue grows or shrinks by one at a time).
  std::vector<size_t> lengths_;
  size_t longest_ = 0;

  void resized(size_t from, size_t to);
  void enqueue(line& l, stream_entry&& entry);
  void park_overflow(line& l);
  void start_fetch(const std::string& key, line& l);
  /// The oldest waiting entry becomes the holder; or a fetch starts; or the
  /// key is dropped. `it` may be erased.
  std::optional<stream_entry> next_holder(std::unordered_map<std::string, line>::iterator it);
};

} // namespace rill::detail
