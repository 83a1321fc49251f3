#pragma once

// Every message that flows between rill's actors, in one place.
//
//   worker  --(credit[, relay])----------------> reader   once, when it starts
//   worker  --(credit)-------------------------> ack relay   (remote reader) first
//   reader  --(delivery{slot, entry})----------> worker   one entry per credit
//   worker  --(ack, slot, id)------------------> reader   all callbacks succeeded
//   worker  --(nack, slot, entry, error)-------> reader   a callback failed
//   worker  --(effects, slot, entry, effects)--> reader   all succeeded, with staged
//                                                         effects: applied with the XACK
//   reader --(delivery_batch)--> ack relay     entries for a remote node's workers,
//   ack relay --(ack_batch)----> reader        and their acks: one BASP message per burst
//   reader  --(redis_command: XACK many ids)---> shared redis connection
//
// An ack or nack also returns the worker's credit: the reader never holds more
// entries than it has idle workers.

#include <rill/actors/effects.hpp>
#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/reply.hpp>
#include <rill/actors/stream_entry.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

#include <cstdint>

namespace rill {

// -- worker <-> reader ----------------------------------------------------------

/// worker -> reader: "I am idle, give me one entry". Sent once at start; after
/// that every ack/nack carries the credit back.
using credit_atom = caf::atom_constant<caf::atom("credit")>;

/// worker -> reader: `(ack_atom, slot, id)`.
using ack_atom = caf::atom_constant<caf::atom("ack")>;

/// worker -> reader: `(nack_atom, slot, stream_entry, caf::error reason)`; the
/// entry comes back for a retry or the dead-letter stream.
using nack_atom = caf::atom_constant<caf::atom("nack")>;

/// worker -> reader: `(effects_atom, slot, stream_entry, std::vector<effect>)`:
/// all callbacks succeeded and staged these effects; the reader applies them
/// with the entry's XACK in one script (actors/reader_effects.cpp). The entry
/// comes along: if the script fails it, it is retried or dead-lettered.
using effects_atom = caf::atom_constant<caf::atom("effects")>;

/// reader (self): flush the effects batch now.
using effects_flush_atom = caf::atom_constant<caf::atom("fxflush")>;

/// reader -> worker: one entry to process. `slot` identifies the worker at the
/// reader and comes back in the ack.
struct delivery {
  uint32_t slot = 0;
  stream_entry entry;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery& x) {
  return f(caf::meta::type_name("rill::delivery"), x.slot, x.entry);
}

/// ack relay -> reader: the acks of several workers on one node (the workers
/// send their `(ack_atom, slot, id)` to the relay on their own node, which
/// forwards what arrived in one burst as one message). `slots[i]` acks `ids[i]`;
/// entries with staged effects travel the same way: `effect_slots[i]` finished
/// `effect_entries[i]`, which staged `effects[i]`.
struct ack_batch {
  std::vector<uint32_t> slots;
  std::vector<std::string> ids;
  std::vector<uint32_t> effect_slots;
  std::vector<stream_entry> effect_entries;
  std::vector<std::vector<effect>> effects;

  bool empty() const noexcept { return slots.empty() && effect_slots.empty(); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ack_batch& x) {
  return f(caf::meta::type_name("rill::ack_batch"), x.slots, x.ids, x.effect_slots,
           x.effect_entries, x.effects);
}

/// reader -> ack relay: entries for several workers on the relay's node, one
/// BASP message per burst; the relay hands `items[i]` to its worker whose
/// actor id is `workers[i]` (each worker registers with its relay before it
/// offers its credit). Ids rather than `caf::actor` handles: a handle takes 40
/// bytes on the wire (an id 8), an actor-registry write at the reader's node and
/// a lookup at the relay's, per entry.
struct delivery_batch {
  std::vector<caf::actor_id> workers;
  std::vector<delivery> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery_batch& x) {
  return f(caf::meta::type_name("rill::delivery_batch"), x.workers, x.items);
}

// -- control --------------------------------------------------------------------

/// -> reader: stop reading, finish in-flight entries, flush acks, quit.
using stop_atom = caf::atom_constant<caf::atom("stop")>;

/// reader (self): send the delivery batches for remote nodes.
using send_atom = caf::atom_constant<caf::atom("send")>;

/// reader (self): flush the ack batch now.
using flush_atom = caf::atom_constant<caf::atom("flush")>;

/// reader (self): retry after a failure (setup or read).
using retry_atom = caf::atom_constant<caf::atom("retry")>;

/// worker (self): `(done_atom, seq, caf::error)` an async callback finished.
using done_atom = caf::atom_constant<caf::atom("done")>;

/// worker (self): `timeout_atom` its deadline timer (see worker.cpp).
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;

/// reader (self): redeliver failed entries whose backoff has passed.
using redeliver_atom = caf::atom_constant<caf::atom("redeliver")>;

/// reader (self): read parked entries back after a failed XRANGE.
using key_fetch_atom = caf::atom_constant<caf::atom("keyfetch")>;

/// reader (self): write dead letters whose script failed again.
using dead_retry_atom = caf::atom_constant<caf::atom("deadretry")>;

/// reader (self): look for entries to claim from other consumers.
using claim_atom = caf::atom_constant<caf::atom("claim")>;

/// reader (self): `(orphan_atom, bool periodic)` look for own pending entries
/// nobody holds.
using orphan_atom = caf::atom_constant<caf::atom("orphan")>;

/// reader (self): take or renew the lease on the consumer name.
using lease_name_atom = caf::atom_constant<caf::atom("leasename")>;

/// reader (self): renew the leases of entries held for a while.
using lease_atom = caf::atom_constant<caf::atom("lease")>;

/// reader (self): end a streak of repeated warnings (one summary line).
using streak_atom = caf::atom_constant<caf::atom("streak")>;

/// reader (self): remove idle consumers without pending entries.
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;

// -- redis connection -------------------------------------------------------------

/// connection -> listener: `(conn_up_atom, int64_t client_id)` after every
/// successful (re)connect and handshake.
using conn_up_atom = caf::atom_constant<caf::atom("conn_up")>;

/// connection -> listener: `(conn_down_atom, caf::error)` when it lost or could
/// not establish its connection.
using conn_down_atom = caf::atom_constant<caf::atom("conn_down")>;

/// connection -> listener: `(push_atom, redis_reply)` a message on a
/// subscribed connection (`["message", channel, payload]`).
using push_atom = caf::atom_constant<caf::atom("push")>;

/// -> sentinel watcher: `resolve_atom` -> `(std::string host, uint16_t port)`,
/// the master's address once a sentinel named it; a connection that lost
/// its master sends it without waiting for the answer.
using resolve_atom = caf::atom_constant<caf::atom("resolve")>;
/// sentinel watcher -> connections: `moved_atom` the master's address changed.
using moved_atom = caf::atom_constant<caf::atom("moved")>;

/// connection (self) timers.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using reconnect_atom = caf::atom_constant<caf::atom("reconnect")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

/// cluster connection -> the one keeping the slot map (the shared one):
/// `refresh_atom` -> the map's version once CLUSTER SLOTS was read again (or
/// could not be). Self: `(refresh_atom, bool)` a deferred refresh or sweep.
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;

// -- producer ----------------------------------------------------------------------

/// -> producer: `(xadd_atom, stream, fields)` -> entry id, or
/// `(xadd_atom, stream, std::vector<fields>)` -> ids (one pipelined batch), or
/// `(xadd_atom, stream, std::vector<id>, std::vector<fields>)` -> `xadd_results`
/// (explicit IDs or "*", an outcome per entry).
using xadd_atom = caf::atom_constant<caf::atom("xadd")>;

/// producer -> caller: the outcome of a batch, entry by entry: `ids[i]` is the
/// ID of entry i, or empty if Redis refused it, and `errors[i]` says why.
struct xadd_results {
  std::vector<std::string> ids;
  std::vector<std::string> errors;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, xadd_results& x) {
  return f(caf::meta::type_name("rill::xadd_results"), x.ids, x.errors);
}

// -- tailer (actors/tailer.hpp) ------------------------------------------------------

/// subscriber -> tailer: `(subscribe_atom, caf::actor subscriber, std::string from)`:
/// entries after `from` (an entry ID), or from the tailer's live position
/// when `from` is empty.
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
/// subscriber -> tailer: `(credit_atom, uint32_t n)`: n more entries, please.
/// tailer -> subscriber: `(entries_atom, std::vector<stream_entry>)`, never more
/// than the credits it was given.
using entries_atom = caf::atom_constant<caf::atom("entries")>;
/// tailer -> subscriber: `(gap_atom, std::string first_available)`: entries
/// after its `from` were trimmed; what follows starts at `first_available`.
using gap_atom = caf::atom_constant<caf::atom("gap")>;
/// tailer -> subscriber: `(dropped_atom, std::string last_id)`: its buffer
/// overflowed; it got everything up to `last_id` (or, if it got nothing, that
/// is where it started) and may subscribe again from there.
using dropped_atom = caf::atom_constant<caf::atom("dropped")>;

// -- nodes ----------------------------------------------------------------------------

/// -> node directory: `(lookup_atom, stream, group)` -> the reader's `caf::actor`.
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;

/// ack relay -> reader: `withdraw_atom` -> `drained_atom`. The relay's workers
/// take no new entries; the reply comes once each has acked (or nacked) the
/// entry it holds, so a worker node can stop without redeliveries.
/// runtime -> ack relay: the same, at a graceful stop; the relay quits after.
using withdraw_atom = caf::atom_constant<caf::atom("withdraw")>;
using drained_atom = caf::atom_constant<caf::atom("drained")>;

/// Registers rill's message types with an actor system config.
void register_message_types(caf::actor_system_config& cfg);

} // namespace rill
