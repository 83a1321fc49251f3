#pragma once

#include <rill/actors/options.hpp>
#include <rill/actors/redis/master_address.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace rill {

/// Spawns the sentinel watcher of a process in Sentinel mode
/// (docs/sentinel.md). It asks the sentinels (`opts.sentinels`, one at a
/// time, moving on from one that does not answer) for the address of
/// `opts.sentinel_master` with `SENTINEL get-master-addr-by-name`, keeps it in
/// `master` and tells the connections enlisted there when it changes. It asks
/// again on `+switch-master` (it subscribes), whenever a connection lost its
/// master or was refused a write (`resolve_atom`, at most once per
/// `reconnect_min`), and every `sentinel_refresh`.
///
/// It holds two connections, both to the sentinel in use: one for questions,
/// one subscribed. They use `sentinel_password` and the TLS options.
///
/// `resolve_atom` -> `(host, port)`: the address once a sentinel named it;
/// when no sentinel does, an error (`invalid_config` if those that answered
/// know no master of that name).
caf::actor spawn_sentinel_watcher(caf::actor_system& sys, redis_options opts,
                                  std::shared_ptr<master_address> master);

} // namespace rill
