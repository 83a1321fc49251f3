#pragma once

// The typed interfaces of rill's actors, for the handles other actors and
// user code hold (CAF's manual recommends static typing for actors used
// across translation units). The actors' full behaviours stay internal: the
// connection broker also takes I/O events and its own timers, the reader its
// timers and the runtime's stop. A handle of these types is checked by the
// compiler: sending a message the actor does not take does not build.

#include <rill/actors/messages.hpp>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>
#include <vector>

namespace rill {

/// A Redis connection (actors/redis_connection.hpp): one command -> its
/// reply (an error reply becomes an error), or a pipeline -> every reply.
using connection_actor
  = caf::typed_actor<caf::replies_to<redis_command>::with<redis_reply>,
                     caf::replies_to<std::vector<redis_command>>::with<std::vector<redis_reply>>>;

/// One entry's field names and values, alternating.
using field_list = std::vector<std::string>;

/// The producer (actors/producer.hpp): XADD one entry -> its ID, a batch ->
/// the IDs, or a batch with explicit IDs -> an outcome per entry.
using producer_actor = caf::typed_actor<
  caf::replies_to<xadd_atom, std::string, field_list>::with<std::string>,
  caf::replies_to<xadd_atom, std::string, std::vector<field_list>>::with<std::vector<std::string>>,
  caf::replies_to<xadd_atom, std::string, std::vector<std::string>,
                  std::vector<field_list>>::with<xadd_results>>;

/// Where a worker sends the outcome of an entry: its reader, or the ack relay
/// batching acks for a reader on another node.
using ack_sink_actor
  = caf::typed_actor<caf::reacts_to<ack_atom, uint32_t, std::string>,
                     caf::reacts_to<nack_atom, uint32_t, stream_entry, caf::error>,
                     caf::reacts_to<effects_atom, uint32_t, stream_entry, std::vector<effect>>>;

/// The reader as its workers and ack relays see it: credits, acks (one by
/// one or batched), and the withdrawal of a node's workers.
using reader_actor
  = ack_sink_actor::extend<caf::reacts_to<credit_atom>, caf::reacts_to<credit_atom, caf::actor>,
                           caf::reacts_to<ack_batch>,
                           caf::replies_to<withdraw_atom>::with<drained_atom>>;

} // namespace rill
