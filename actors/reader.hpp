#pragma once

#include <rill/actors/interfaces.hpp>
#include <rill/actors/metrics.hpp>
#include <rill/actors/options.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <functional>
#include <memory>

namespace rill {

/// Creates the reader's own connection; the argument is the reader itself, to
/// be told about `conn_up` / `conn_down`.
using connection_factory = std::function<connection_actor(caf::actor listener)>;

/// Spawns the reader of one (stream, group, consumer). The handle it returns
/// takes everything (the runtime sends `stop_atom`); workers get the narrower
/// `reader_actor` (actors/interfaces.hpp).
///
/// - Creates the group if missing (`XGROUP CREATE ... MKSTREAM`).
/// - Workers offer themselves with `credit`; the reader holds one credit per
///   idle worker and reads exactly that many entries (`XREADGROUP ... COUNT
///   credits`), only when it holds credits and no read is outstanding.
/// - First re-reads its own pending entries (ID `0`, cursor carried forward),
///   then new ones (`>` with BLOCK) on its own connection, so a blocked read
///   never delays anybody else's command.
/// - Each entry goes to one idle worker; `ack`s are batched into one `XACK`
///   (size `ack_batch` or after `ack_delay`) on `shared_conn`, the
///   runtime's shared connection. A `nack` leaves the entry pending.
/// - Errors (Redis down, WRONGTYPE, ...) are logged once per streak, kept in
///   `metrics`, and retried with backoff; other consumers are unaffected.
/// - `stop_atom`: stops reading, lets in-flight entries finish (up to
///   `stop_timeout`), flushes acks, quits. With `limit`, it does the same on
///   its own after reading `limit` entries.
caf::actor spawn_reader(caf::actor_system& sys, consumer_options opts,
                        connection_factory make_connection, connection_actor shared_conn,
                        std::shared_ptr<consumer_metrics> metrics);

} // namespace rill
