#pragma once

#include <rill/actors/callbacks.hpp>
#include <rill/actors/interfaces.hpp>
#include <rill/actors/metrics.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace rill {

/// Spawns a worker for `reader`. It sends one `credit` to the reader, then
/// handles one `delivery` at a time: runs `callbacks` in order (waiting,
/// without blocking, for asynchronous ones), then sends `ack` - or `nack` with
/// the first failure (an error, an exception) and the entry itself - back to
/// the reader. With `timeout` > 0, a delivery whose callbacks have not finished
/// by then is nacked with `sec::callback_timeout` (only asynchronous callbacks
/// can be cut short). It quits when the reader goes down. With `detached`, it
/// runs on its own thread, for callbacks that block. With `acks_to` set, acks
/// and nacks go there instead (an ack relay batching them for a remote
/// reader), and the worker also quits when `acks_to` goes down. Asynchronous
/// callbacks find `shared_conn` and `producer` in their context. With
/// `timings`, it records each entry's callback duration and age there (its
/// own histograms: no other worker writes them). Effects the callbacks stage
/// are checked against `rules` (cluster slot, the generic form's keys) and go
/// to the reader with the entry instead of a plain ack.
caf::actor spawn_worker(caf::actor_system& sys, reader_actor reader,
                        std::shared_ptr<const callback_list> callbacks,
                        connection_actor shared_conn, caf::timespan timeout = caf::timespan{0},
                        bool detached = false, caf::actor acks_to = caf::actor{},
                        producer_actor producer = producer_actor{},
                        std::shared_ptr<callback_timings> timings = {},
                        std::shared_ptr<const effect_rules> rules = {});

} // namespace rill
