#pragma once

#include <rill/actors/interfaces.hpp>
#include <rill/actors/metrics.hpp>
#include <rill/actors/options.hpp>
#include <rill/actors/redis/cluster_map.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>
#include <string>

namespace rill {

/// Spawns a connection to a Redis Cluster (docs/cluster.md). It takes the
/// requests of a plain connection (actors/redis_connection.hpp) and sends
/// each command to the master of its key's slot over a plain connection per
/// master, opened when first needed; a pipeline whose commands live on
/// several masters is split and its replies put back in order.
///
/// - `-MOVED` fixes the slot in `map`, asks for a refresh and sends the
///   command on; `-ASK` sends it on once, after ASKING; TRYAGAIN,
///   CLUSTERDOWN, READONLY, UNBLOCKED and LOADING are retried with backoff
///   after a refresh, within the request's deadline (none of them ran the
///   command). Connection errors go back to the caller, as from a plain
///   connection, and make the map be read again.
/// - `keeper` null: this is the process's shared connection, which keeps
///   `map`: CLUSTER SLOTS from the seeds at start, periodically
///   (`cluster_refresh`), and on request (`refresh_atom`) after a redirect or
///   a lost node. Others ask it.
/// - `home_key` set: a connection for one stream's reads (a reader's, a
///   tailer's). It connects to that slot's master at once, follows it when
///   it moves, and tells `listener` about that node's connection only
///   (`conn_up_atom` with the client ID there, `conn_down_atom`): one
///   connection per reader, as without a cluster.
/// - Node connections not needed (no longer a master, unused for a refresh
///   interval) are closed.
connection_actor spawn_cluster_connection(caf::actor_system& sys, redis_options opts,
                                          std::shared_ptr<cluster_map> map, caf::actor keeper,
                                          std::string home_key = {}, caf::actor listener = {},
                                          std::shared_ptr<connection_metrics> metrics = {});

} // namespace rill
