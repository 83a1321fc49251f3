#pragma once

// Which master holds which hash slot of a Redis Cluster, shared by every
// cluster connection of a process (actors/cluster_connection.hpp): the one
// that refreshes it (CLUSTER SLOTS at start, on MOVED, on connection loss
// and periodically) writes it, all route by it. A MOVED reply also fixes
// its one slot at once, before the next refresh confirms it.

#include <rill/actors/options.hpp>
#include <rill/actors/redis/reply.hpp>

#include <caf/expected.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rill {

/// Slots `first..last` (inclusive), their master and replicas, from one row
/// of CLUSTER SLOTS.
struct slot_range {
  uint16_t first = 0;
  uint16_t last = 0;
  redis_endpoint master;
  std::vector<redis_endpoint> replicas;
};

/// Parses a CLUSTER SLOTS reply. A node shown with an empty address is the
/// one that answered (`asked_host`); a node of unknown address ("?") is left
/// out.
caf::expected<std::vector<slot_range>> parse_cluster_slots(const redis_reply& reply,
                                                           const std::string& asked_host);

/// A `-MOVED slot host:port` or `-ASK slot host:port` error reply.
struct redirect {
  bool ask = false; ///< ASK: this one command, after ASKING; MOVED: from now on
  uint16_t slot = 0;
  redis_endpoint to;
};

/// The redirect an error reply asks for, if it is one. An empty host means
/// the node that answered (`asked_host`).
std::optional<redirect> parse_redirect(std::string_view error, const std::string& asked_host);

/// Error replies that mean "not here, not now": the command did not run and
/// may go again once the map is fresh (TRYAGAIN during a resharding,
/// CLUSTERDOWN during a failover, READONLY from a demoted master, UNBLOCKED
/// when MIGRATE deleted the stream a read waited on, LOADING).
bool retry_after_refresh(std::string_view error);

class cluster_map {
public:
  /// Replaces the whole map.
  void replace(const std::vector<slot_range>& ranges);
  /// Sets the master of one slot (a MOVED reply).
  void moved(uint16_t slot, const redis_endpoint& to);

  /// The master of `slot`, if the map has one.
  std::optional<redis_endpoint> master_of(uint16_t slot) const;
  /// Every master holding a slot.
  std::vector<redis_endpoint> masters() const;
  /// Masters and replicas: where a refresh may ask.
  std::vector<redis_endpoint> nodes() const;
  /// Bumped on every change: a connection re-checks its nodes when it moves.
  uint64_t version() const;
  bool empty() const;

private:
  mutable std::mutex mtx_;
  /// Index into masters_ per slot, -1 for none.
  std::vector<int16_t> owner_ = std::vector<int16_t>(16384, -1);
  std::vector<redis_endpoint> masters_;
  std::vector<redis_endpoint> replicas_;
  uint64_t version_ = 0;

  int16_t index_of(const redis_endpoint& ep);
};

} // namespace rill
