#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/timespan.hpp>

namespace rill {

/// Spawns the relay between a reader on another node and this node's workers.
/// The reader sends it a `delivery_batch` per burst, which it hands out to the
/// workers (each sends it a `credit_atom` first, so it knows their actor ids);
/// the workers send it their `(ack_atom, slot, id)`, their entries with staged
/// effects and nacks. Acks and entries with effects leave as one `ack_batch`
/// per BASP message: at once when the last entry of a
/// delivery batch is done, else `linger` after the first ack of the batch
/// (workers finish microseconds apart; one message per ack cost the reader
/// node more than the acks themselves). `linger` 0: each burst already in its
/// mailbox goes at once. Nacks go on to the reader at once.
///
/// A `withdraw_atom` (the node stops) withdraws the workers at the reader: they
/// finish the entries they hold, their acks reach the reader, then the relay
/// quits (after `drain_timeout` at the latest). It also quits when the reader
/// goes down.
caf::actor spawn_ack_relay(caf::actor_system& sys, caf::actor reader, caf::timespan linger,
                           caf::timespan drain_timeout);

} // namespace rill
