#pragma once

#include <rill/actors/interfaces.hpp>
#include <rill/actors/metrics.hpp>
#include <rill/actors/options.hpp>
#include <rill/actors/redis/master_address.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include <memory>
#include <string>

namespace rill {

/// Spawns a connection actor: one TCP connection to Redis, driven by CAF's I/O
/// multiplexer (never blocking a scheduler thread), with hiredis encoding
/// commands and decoding replies.
///
/// Requests (the connection bounds each one by its own deadline, so callers on
/// hot paths may use `caf::infinite`; others should pass a timeout):
/// - `redis_command` -> `redis_reply`; an error reply becomes an error
///   (`sec::wrong_type`, `sec::no_group`, `sec::reply_error`, ...).
/// - `std::vector<redis_command>` -> `std::vector<redis_reply>`: pipelined,
///   error replies stay in the vector.
///
/// A requester holding the connection's link (actors/connection_ref.hpp) may
/// send the same requests from its own thread instead of the mailbox, and
/// gets the answers the same way.
///
/// Guarantees:
/// - Replies are matched FIFO; many requests are pipelined on the connection.
/// - The connect is non-blocking with a deadline (`connect_timeout`, covering
///   AUTH / SELECT / CLIENT SETNAME too). Host names are resolved once, here,
///   on the calling thread.
/// - A request with no reply after `request_timeout` (+ its BLOCK time) marks
///   the connection dead: it is closed and every pending request fails.
/// - On connection loss every pending request fails with `connection_lost`,
///   then the actor reconnects with capped exponential backoff and jitter.
///   While disconnected, new requests fail at once with `redis_unavailable`.
/// - At most `max_queued` requests are pending; more fail with `backpressure`.
/// - `listener` (if any) receives `(conn_up_atom, client_id)` after each
///   handshake and `(conn_down_atom, error)` on each loss.
/// - `metrics` (if any) shows whether it is up, its connects and its losses.
/// - After a SUBSCRIBE, each message goes to `listener` as `(push_atom, reply)`.
/// - With `master` (Sentinel mode, docs/sentinel.md) it connects to the
///   address the sentinels named last, checks with ROLE that it is a master,
///   asks the watcher again when it lost it or got READONLY, and moves when
///   the watcher says the master moved.
connection_actor spawn_redis_connection(caf::actor_system& sys, redis_options opts,
                                        caf::actor listener = {},
                                        std::shared_ptr<connection_metrics> metrics = {},
                                        std::shared_ptr<master_address> master = {});

} // namespace rill
