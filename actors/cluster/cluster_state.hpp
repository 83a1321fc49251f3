#pragma once

// Internal to the cluster connection (actors/cluster_connection.cpp): its
// state and the functions its two files share. cluster_connection.cpp
// routes requests and follows redirects; cluster_refresh.cpp keeps the slot
// map fresh and the set of node connections small.

#include <rill/actors/backoff.hpp>
#include <rill/actors/connection_ref.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/metrics.hpp>
#include <rill/actors/options.hpp>
#include <rill/actors/redis/cluster_map.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rill::detail {

using clock_type = std::chrono::steady_clock;

/// Redirects and retries one command may take before its last reply counts.
constexpr uint32_t max_hops = 16;

/// A plain connection to one node.
struct node_link {
  redis_endpoint ep;
  connection_ref conn;
  std::shared_ptr<connection_metrics> metrics;
  bool up = false;
  int64_t client_id = -1;
  /// Requests sent and not answered: a node is closed only without any.
  uint32_t outstanding = 0;
  /// Sent to since the last sweep.
  bool used = false;
};

/// One caller's request: one command or a pipeline, its replies filled in
/// as the nodes answer (in the caller's order).
struct pending_op {
  std::vector<redis_command> cmds;
  std::vector<redis_reply> replies;
  std::vector<uint32_t> hops;
  size_t remaining = 0;
  bool single = true;
  bool finished = false;
  caf::response_promise rp;
  clock_type::time_point deadline;
};
using op_ptr = std::shared_ptr<pending_op>;

struct parked_command {
  op_ptr op;
  size_t idx = 0;
  clock_type::time_point due;
};

struct cluster_state {
  redis_options opts;
  std::shared_ptr<cluster_map> map;
  caf::actor keeper; ///< null: this one keeps the map
  std::string home_key;
  std::optional<redis_endpoint> home; ///< the home key's master, when known
  caf::actor listener;
  std::shared_ptr<connection_metrics> metrics;
  std::vector<node_link> nodes;
  std::vector<parked_command> parked;
  /// Every request not answered yet (as its node connections would, they
  /// are failed with `stopped` when this actor ends).
  std::vector<std::weak_ptr<pending_op>> in_flight;
  size_t prune_at = 1024; ///< answered ones are dropped when it grows to this
  uint64_t seen_version = 0;

  // -- refreshing (cluster_refresh.cpp) -------------------------------------------
  bool refreshing = false;       ///< a CLUSTER SLOTS is out (keeper) / asked (others)
  bool refresh_again = false;    ///< wanted while one was out
  bool refresh_deferred = false; ///< a timer will start it (rate limit)
  clock_type::time_point last_refresh;
  std::vector<caf::response_promise> refresh_waiters;
  size_t next_candidate = 0;
  rill::backoff refresh_backoff{std::chrono::milliseconds{50}, std::chrono::seconds{1}};
  /// The last refresh failure was logged (one line per streak).
  bool refresh_failing = false;
  /// A timer asks for the map while the home node is down.
  bool home_watch = false;

  static inline const char* name = "rill.cluster_connection";
};

using cluster_ptr = caf::stateful_actor<cluster_state>*;

// cluster_connection.cpp
node_link* find_node(cluster_ptr self, const redis_endpoint& ep);
node_link& node_for(cluster_ptr self, const redis_endpoint& ep);
void retire(cluster_ptr self, const redis_endpoint& ep);
void update_metrics(cluster_ptr self);
void on_replies(cluster_ptr self, const redis_endpoint& ep, const op_ptr& op,
                const std::vector<size_t>& idxs, bool asking, std::vector<redis_reply>& replies);
void dispatch(cluster_ptr self, const op_ptr& op, const std::vector<size_t>& idxs);

// cluster_refresh.cpp
/// Spawn-time: the keeper reads the map from the seeds; a home connection
/// connects to its master (asking the keeper first if the map is empty).
void start(cluster_ptr self);
/// Something suggests the map is stale: refresh it (keeper, rate-limited)
/// or ask the keeper to.
void want_refresh(cluster_ptr self);
/// The map moved on: follow the home key, close nodes no longer masters.
void check_version(cluster_ptr self);
void check_home(cluster_ptr self);
/// `refresh_atom` from another connection: answered after the next refresh.
caf::result<uint64_t> on_refresh_request(cluster_ptr self);
/// `(refresh_atom, periodic)`: the periodic refresh and sweep, or a deferred one.
void on_refresh_timer(cluster_ptr self, bool periodic);

} // namespace rill::detail
