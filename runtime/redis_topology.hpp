#pragma once

// How this process reaches Redis: one server, a master found by Sentinel
// (docs/sentinel.md), or a Redis Cluster (docs/cluster.md). Decided once, at
// start: `redis.sentinels`, `redis.cluster=true`, several seeds, or - with
// `auto` - the seed's `INFO cluster`. Everything that opens
// a connection asks here, so the connection count stays what
// docs/architecture.md says in either mode, and so does every key rill
// derives from a stream (dead letters: same slot as the stream).

#include <rill/actors/effects.hpp>
#include <rill/actors/interfaces.hpp>
#include <rill/actors/metrics.hpp>
#include <rill/actors/options.hpp>
#include <rill/actors/redis/cluster_map.hpp>
#include <rill/actors/redis/master_address.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>
#include <string>

namespace rill {

class redis_topology {
public:
  /// Spawns the shared connection. `cluster_setting` is `redis.cluster`
  /// ("auto", "true", "false"); with "auto" and a single seed the server is
  /// asked (unreachable: one server, as before). Throws
  /// `std::invalid_argument` for a setting the cluster cannot honour
  /// (redis.db other than 0), `startup_error` (runtime.hpp) when TLS fails.
  redis_topology(caf::actor_system& sys, redis_options& redis, const std::string& cluster_setting);

  bool cluster() const noexcept { return opts_.cluster; }

  /// Acks, XADD, recovery and admin commands (a cluster: routed by slot).
  const connection_actor& shared() const noexcept { return shared_; }
  /// Its state (up, connects, losses).
  const std::shared_ptr<connection_metrics>& shared_metrics() const noexcept {
    return shared_metrics_;
  }

  /// A connection for one stream's blocking reads (a reader's or a tailer's),
  /// named `client_name + name_suffix`. In a cluster it is a connection to
  /// the master of `stream`'s slot, following it.
  connection_actor spawn_own(const std::string& stream, const std::string& name_suffix,
                             caf::actor listener,
                             std::shared_ptr<connection_metrics> metrics = {}) const;

  /// What the effects a consumer of `stream` stages may touch: in a cluster
  /// the stream's slot; the generic form's key patterns. In a cluster,
  /// throws `std::invalid_argument` for a pattern that can name a key in
  /// another slot (no hash tag of the stream's slot, or a wildcard).
  std::shared_ptr<const effect_rules> effect_rules_for(const std::string& stream,
                                                       std::vector<std::string> command_keys) const;

  /// The dead-letter stream of `stream`: `configured`, or the default
  /// (`<stream>:dead`; in a cluster `{<stream>}:dead` unless the stream has a
  /// hash tag of its own). In a cluster, throws `std::invalid_argument` when
  /// it is not in the stream's slot (the dead-letter script takes both).
  std::string dead_letter_stream(const std::string& stream, const std::string& configured) const;

  /// Stops the shared connection (and the sentinel watcher).
  void stop();

private:
  /// Sentinel mode: the watcher, and the master's address at start (waits
  /// for the sentinels' first answer; throws `startup_error` when they know
  /// no such master or TLS to them fails).
  void watch_sentinels();

  caf::actor_system& sys_;
  redis_options opts_;
  std::shared_ptr<cluster_map> map_;
  std::shared_ptr<master_address> master_; // Sentinel mode
  caf::actor watcher_;
  std::shared_ptr<connection_metrics> shared_metrics_;
  connection_actor shared_;
};

/// The default dead-letter stream of `stream` (see
/// `redis_topology::dead_letter_stream`), for tools that run without a
/// runtime's connection yet.
std::string default_dead_letter_stream(const std::string& stream, bool cluster);

} // namespace rill
