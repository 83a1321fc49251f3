#pragma once

#include <rill/actors/interfaces.hpp>
#include <rill/actors/options.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace rill {

/// Spawns a producer that XADDs through `shared_conn` (a connection actor).
///
/// Requests:
/// - `(xadd_atom, stream, std::vector<std::string> fields)` -> entry ID;
/// - `(xadd_atom, stream, std::vector<std::vector<std::string>> batch)` -> IDs,
///   written as one pipeline.
/// `fields` alternate names and values (binary-safe). With `maxlen`, every
/// XADD trims with `MAXLEN ~ maxlen`.
///
/// At most `max_in_flight` requests are outstanding at Redis and `max_queued`
/// wait here; beyond that a request fails at once with `sec::backpressure`,
/// and while Redis is down with `sec::redis_unavailable`: a fast producer is
/// slowed down or told, never buffered without bound. Every request is
/// answered: `shared_conn` (a redis_connection) fails a request whose deadline
/// passed itself, so no CAF timer is set per XADD.
producer_actor spawn_producer(caf::actor_system& sys, producer_options opts,
                              connection_actor shared_conn);

} // namespace rill
