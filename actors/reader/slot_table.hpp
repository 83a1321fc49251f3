#pragma once

// The reader's worker slots: one per worker that offered its credit. A slot is
// idle (its worker waits for an entry), busy (it holds one), retiring (it
// holds one and gets no other: its node stops) or gone (its worker is down or
// withdrawn). Plain data, no actor inside: tests drive it directly.

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_clock.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace rill::detail {

/// The actor clock (steady_clock; virtual time under the test coordinator).
using steady = caf::actor_clock::clock_type;

enum class slot_state : uint8_t { idle, busy, retiring, gone };

struct slot {
  caf::actor worker;
  /// The relay on the worker's node that takes its entries in batches (remote
  /// workers), or invalid (entries go straight to the worker).
  caf::actor relay;
  slot_state state = slot_state::idle;
  /// ID of the entry the worker holds (busy or retiring).
  std::string id;
  steady::time_point since;

  bool holds_entry() const noexcept {
    return state == slot_state::busy || state == slot_state::retiring;
  }
};

class slot_table {
public:
  /// A worker offered its credit: a new idle slot.
  uint32_t add(caf::actor worker, caf::actor relay);

  size_t size() const noexcept { return slots_.size(); }
  size_t idle() const noexcept { return idle_.size(); }
  /// Slots holding an entry.
  uint32_t busy() const noexcept { return busy_; }

  /// Idle workers left once `spoken_for` entries or reads have one: the one
  /// capacity formula (credits for reads, room for redeliveries).
  size_t free_workers(size_t spoken_for) const noexcept {
    return idle_.size() > spoken_for ? idle_.size() - spoken_for : 0;
  }

  /// Gives entry `id` to an idle worker (the most recently idle one: its
  /// mailbox and stack are warm). Requires idle() > 0.
  uint32_t acquire(std::string id, steady::time_point now);

  /// The slot `index` if it holds `id`; nullptr for a stale ack or nack (its
  /// worker was declared down, or the entry was already settled).
  const slot* holding(uint32_t index, const std::string& id) const;

  /// The entry of slot `index` is settled. Returns false if the slot retired
  /// (its node stops) instead of becoming idle again.
  bool release(uint32_t index);

  /// The workers behind `relay` get no new entries: idle ones are gone at
  /// once, busy ones retire after their entry. Returns how many.
  size_t withdraw(const caf::actor_addr& relay);

  /// True if a worker behind `relay` still holds an entry.
  bool relay_busy(const caf::actor_addr& relay) const;

  /// `worker` is down: its slots are gone. Returns one ID per slot it had
  /// (empty where the slot held nothing), for redelivery.
  std::vector<std::string> worker_down(const caf::actor_addr& worker);

  bool holds(const std::string& id) const;

  const slot& operator[](uint32_t index) const { return slots_[index]; }
  auto begin() const { return slots_.begin(); }
  auto end() const { return slots_.end(); }

private:
  void drop_idle(uint32_t index);

  std::vector<slot> slots_;
  /// Idle slots, most recently idle last.
  std::vector<uint32_t> idle_;
  uint32_t busy_ = 0;
};

} // namespace rill::detail
