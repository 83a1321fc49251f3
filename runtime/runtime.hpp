#pragma once

#include <rill/actors/interfaces.hpp>
#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/reply.hpp>
#include <rill/runtime/config.hpp>
#include <rill/runtime/consumer.hpp>
#include <rill/runtime/tail.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace rill {

/// A running rill process: the actor system (scheduler + I/O multiplexer), one
/// shared pipelined connection for acks, XADD and admin commands, a producer,
/// and the consumers added to it. Each consumer gets one reader with its own
/// connection and `max_in_flight` workers, so the connection count is known up
/// front: 1 + number of consumers + number of tailed streams.
///
///     rill::config cfg;                  // options, e.g. from cfg.load(args)
///     rill::runtime rt{cfg};
///     rt.add_consumer(opts).add([](const rill::stream_entry& e) { ... });
///     rt.start();
///     return rt.run();                   // until done or SIGINT/SIGTERM
class http_service;
class redis_topology;

/// Thrown by the runtime's constructor when Redis refuses the connection in a
/// way that retrying cannot fix: a TLS certificate that does not verify, TLS
/// files that do not load (docs/tls.md). Other problems (Redis down) are
/// retried, as everywhere.
class startup_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class runtime {
public:
  /// What `run` returns when acks could not be flushed at the end.
  static constexpr int exit_unflushed_acks = 3;
  /// What `run` returns when a consumer refused to run: its name is in use by
  /// another process (a configuration error).
  static constexpr int exit_refused = 2;

  /// Starts the actor system and the shared connection. The runtime copies
  /// `cfg` - rill's settings and the CAF part its actor system runs on, in
  /// which it installs rill's scheduler - and reads only its copies: `cfg` is
  /// not changed, need not outlive the runtime, and can start more runtimes.
  /// SIGINT and SIGTERM are blocked in all threads and `run` takes them,
  /// unless `cfg.take_signals` is false (an app that owns its signals).
  explicit runtime(const config& cfg);

  /// Stops gracefully (if still running) and shuts everything down.
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Adds a consumer; validates `opts` (throws `std::invalid_argument` with
  /// the message of `validate`). Call before `start`.
  consumer& add_consumer(consumer_options opts);

  /// Follows `stream` without a consumer group: one tailer (and one Redis
  /// connection) per stream in this process, however many subscribers;
  /// `from` (an entry ID, or empty for the tail at this moment) counts only
  /// when the stream's tailer is created. Works before and after `start`;
  /// call from one thread, like add_consumer.
  rill::tail& tail(const std::string& stream, std::string from = {});

  /// Spawns a tailer of `stream` (actors/tailer.hpp) with a connection of its
  /// own, named `redis.client-name` + `name_suffix`; the caller ends it (an
  /// exit message). What `tail` and the gateway follow streams with; safe
  /// from any thread.
  caf::actor spawn_stream_tailer(const std::string& stream, std::string from = {},
                                 const std::string& name_suffix = {});

  /// Spawns the readers, worker pools and group probes of all consumers, and
  /// starts the HTTP server if `http.listen` is set (throws
  /// `std::invalid_argument` with one line if it cannot listen).
  void start();

  /// Blocks until `done()` is true (default: every consumer has finished,
  /// i.e. reached its `limit`) or SIGINT / SIGTERM arrived; a signal stops the
  /// consumers gracefully and returns once they finished and the remote worker
  /// pools drained. Calls `on_tick` every `tick`. Returns 0; `exit_refused`
  /// (2) if a consumer's name was in use by another process;
  /// `exit_unflushed_acks` (3) if acks of processed entries could not be
  /// flushed before the consumers quit (Redis down at the stop: those entries
  /// are delivered again); or 130 if a second signal cut the stop short.
  int run(const std::function<bool()>& done = {}, const std::function<void()>& on_tick = {},
          caf::timespan tick = std::chrono::milliseconds{200});

  /// True once a SIGINT / SIGTERM was taken by `run` (with
  /// `settings::take_signals` off: once `stop()` was called and `run` saw it).
  bool interrupted() const noexcept { return interrupted_; }

  /// True if a consumer refused to run (see `exit_refused`).
  bool refused() const;

  /// Acks the finished consumers could not flush (see `run`).
  uint64_t unflushed_acks() const;

  /// True if every consumer has finished (false without consumers).
  bool consumers_finished() const;

  /// Asks every consumer to stop gracefully and withdraws the worker pools
  /// serving readers on other nodes (they finish what they hold); safe from
  /// any thread.
  void stop();

  /// Registers the ack relay of a worker pool serving a reader on another
  /// node (`join_reader` does this): `stop` withdraws it, and `run` returns
  /// after a signal once it has drained.
  void add_remote_pool(caf::actor relay);

  /// True once every registered remote pool has drained (or lost its reader).
  bool remote_pools_drained() const;

  /// True once the remote pool of `relay` has drained or lost its reader (its
  /// relay quit).
  bool remote_pool_gone(const caf::actor& relay) const;

  /// Waits until every reader has quit; false on timeout.
  bool await_consumers(caf::timespan timeout);

  /// XADDs one entry through the producer. Blocking: for non-actor code only
  /// (main, a thread of the app). Inside an actor or a callback, send
  /// `(xadd_atom, stream, fields)` to `producer()` (callbacks get it as
  /// `async_context::producer`) and take the reply with `.then`.
  caf::expected<std::string> xadd(const std::string& stream, std::vector<std::string> fields);

  /// Runs one command on the shared connection. Blocking: for non-actor code
  /// only; actors and callbacks request `shared_connection()` instead.
  caf::expected<redis_reply> command(redis_command cmd);

  caf::actor_system& system() noexcept { return system_; }
  /// The settings it runs with (a copy taken at construction).
  const rill::settings& cfg() const noexcept { return settings_; }
  /// The shared connection: acks, XADD, recovery and admin commands, and
  /// what asynchronous callbacks get as `async_context::shared_conn`.
  const connection_actor& shared_connection() const noexcept { return shared_conn_; }
  const producer_actor& producer() const noexcept { return producer_; }
  /// Redis Cluster mode (docs/cluster.md): commands are routed by slot.
  bool cluster() const noexcept { return settings_.redis.cluster; }
  /// The dead-letter stream of `stream`: `configured`, or "<stream>:dead"
  /// ("{<stream>}:dead" in a cluster). Throws `std::invalid_argument` when a
  /// cluster would put it in another slot than the stream.
  std::string dead_letter_stream(const std::string& stream, const std::string& configured) const;
  /// What effects staged by a consumer of `opts.stream` may touch (its
  /// cluster slot, `opts.effect_keys`). Throws `std::invalid_argument` for a
  /// key pattern that a cluster would put in another slot.
  std::shared_ptr<const effect_rules> effect_rules_for(const consumer_options& opts) const;
  const std::vector<std::unique_ptr<consumer>>& consumers() const noexcept { return consumers_; }

  /// The shared connection's state (up, connects, losses).
  const connection_metrics& shared_connection_metrics() const noexcept {
    return *shared_conn_metrics_;
  }

  /// A worker pool in this process serving a reader on another node.
  struct worker_pool {
    std::string stream;
    std::string group;
    std::shared_ptr<worker_timings> timings;
  };
  /// The timings the workers of such a pool record into, for /metrics: one
  /// per (stream, group), kept across re-joins (`join_reader` uses it).
  std::shared_ptr<worker_timings> worker_pool_timings(const std::string& stream,
                                                      const std::string& group);
  std::vector<worker_pool> worker_pools() const;

  /// The port the HTTP server listens on (0: none; see `http.listen`).
  uint16_t http_port() const noexcept;

private:
  /// A copy: the runtime reads nothing else of the caller's config.
  rill::settings settings_;
  /// The actor system's config (CAF keeps a reference to it): a copy of the
  /// caller's, declared before the system so that it outlives it.
  std::unique_ptr<caf::actor_system_config> system_cfg_;
  caf::actor_system system_;
  /// One server or a cluster (runtime/redis_topology.hpp): spawns every
  /// connection; shared with the readers' and tailers' connection factories.
  std::shared_ptr<redis_topology> redis_;
  std::shared_ptr<connection_metrics> shared_conn_metrics_;
  connection_actor shared_conn_;
  producer_actor producer_;
  std::vector<std::unique_ptr<consumer>> consumers_;
  std::map<std::string, std::unique_ptr<rill::tail>> tails_;
  struct remote_pool {
    caf::actor relay;
    std::shared_ptr<std::atomic<bool>> gone;
  };
  mutable std::mutex pools_mtx_;
  std::vector<remote_pool> pools_;
  std::vector<worker_pool> worker_pools_; // guarded by pools_mtx_
  /// Declared last: stopped first, before anything it reads.
  std::unique_ptr<http_service> http_;
  bool started_ = false;
  bool interrupted_ = false;
  /// stop() was called (from any thread): with take_signals off, run treats
  /// it like a signal.
  std::atomic<bool> stop_requested_{false};
};

/// Blocks SIGINT and SIGTERM in the calling thread (threads created later
/// inherit it), so `runtime::run` can take them with sigtimedwait.
void block_stop_signals();

} // namespace rill
