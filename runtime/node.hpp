#pragma once

// Spreading a consumer over several processes with CAF's own networking (the
// io middleman, BASP): a reader node publishes a directory of its readers; a
// worker node looks a reader up and spawns workers for it. Remote workers
// are ordinary workers: one credit per idle worker, one entry per credit, an
// ack back, batched XACK at the reader.

#include <rill/actors/callbacks.hpp>
#include <rill/actors/options.hpp>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include <memory>
#include <string>

namespace rill {

class config;
class runtime;

/// How nodes talk: mutual TLS (CAF's openssl module with `openssl.certificate`,
/// `openssl.key` and `openssl.cafile` from the config; peers without a
/// certificate signed by that CA are refused in the handshake) or plaintext.
enum class link_security { tls, plain };

/// Returns `tls` if certificate, key and CA file are configured, `plain` if
/// `--plain` was given (and no certificates), an `invalid_config` error else.
caf::expected<link_security> node_security(const config& cfg);

/// Publishes a directory of `rt`'s readers on `port` (0: any free port) and
/// address `bind` (empty: all). Call after `runtime::start`. Blocks the
/// calling thread while binding. Returns the port.
caf::expected<uint16_t> serve_readers(runtime& rt, uint16_t port, const std::string& bind,
                                      link_security security);

/// Connects to the reader node at `host:port`, looks up the reader of
/// (`opts.stream`, `opts.group`) and spawns `opts.max_in_flight` workers
/// running `callbacks` for it (with `opts.callback_timeout`). The workers quit
/// when the reader or its node goes away. `runtime::stop` (a signal in `run`)
/// withdraws them: they finish the entries they hold and the reader gets their
/// acks before `run` returns (within `opts.stop_timeout`), so stopping a worker
/// node causes no redeliveries. Returns the pool's ack relay, which quits
/// (and its workers with it) when the pool drained or the reader went away.
/// Blocks the calling thread while connecting: call it from the main thread,
/// not from an actor.
caf::expected<caf::actor> join_reader(runtime& rt, const std::string& host, uint16_t port,
                                      const consumer_options& opts,
                                      std::shared_ptr<const callback_list> callbacks,
                                      link_security security);

} // namespace rill
