#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace rill {

/// Spawns the relay between a reader on another node and this node's workers.
/// The reader sends it a `delivery_batch` per burst, which it hands out to the
/// workers; the workers send it their `(ack_atom, slot, id)`, and it forwards
/// every burst (what arrived before its own flush message) to the reader as
/// one `ack_batch`. One BASP message per burst instead of one per entry each
/// way, no timer, no added wait beyond its mailbox. Credits and nacks go
/// straight to the reader. It quits when the reader goes down.
caf::actor spawn_ack_relay(caf::actor_system& sys, caf::actor reader);

} // namespace rill
