#include <rill/actors/cluster/cluster_state.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/redis/key_slot.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rill::detail {

namespace {

/// Refreshes are at least this far apart (a MOVED storm during a resharding
/// asks for one per command).
constexpr auto min_refresh_gap = std::chrono::milliseconds{100};

bool keeps_map(cluster_ptr self) {
  return !self->state.keeper;
}

/// Where to ask for the map: a node that is up, else the next of every node
/// the map knows and the seeds, in turn.
redis_endpoint refresh_source(cluster_ptr self) {
  auto& st = self->state;
  for (auto& n : st.nodes)
    if (n.up)
      return n.ep;
  auto candidates = st.map->nodes();
  auto add = [&](const redis_endpoint& ep) {
    if (std::find(candidates.begin(), candidates.end(), ep) == candidates.end())
      candidates.push_back(ep);
  };
  add(redis_endpoint{st.opts.host, st.opts.port});
  for (const auto& seed : st.opts.seeds)
    add(seed);
  return candidates[st.next_candidate++ % candidates.size()];
}

void refresh_done(cluster_ptr self, const redis_endpoint& source, const caf::error& err) {
  auto& st = self->state;
  st.refreshing = false;
  if (!err) {
    if (st.refresh_failing)
      spdlog::info("redis cluster: slot map read again from {}", endpoint_text(source));
    st.refresh_failing = false;
    st.refresh_backoff.reset();
    check_version(self);
  } else {
    if (!st.refresh_failing)
      spdlog::warn("redis cluster: cannot read the slot map from {}: {}", endpoint_text(source),
                   describe(err));
    else
      spdlog::debug("redis cluster: cannot read the slot map from {}: {}", endpoint_text(source),
                    describe(err));
    st.refresh_failing = true;
  }
  auto waiters = std::move(st.refresh_waiters);
  st.refresh_waiters.clear();
  for (auto& w : waiters)
    w.deliver(st.map->version());
  if (err && !st.refresh_deferred) {
    // Try the next source soon: nothing routes without a map, and a failed
    // source is often the master that just died.
    st.refresh_deferred = true;
    self->delayed_send(self, st.refresh_backoff.next(), refresh_atom::value, false);
  } else if (st.refresh_again) {
    st.refresh_again = false;
    want_refresh(self);
  }
}

/// Keeper: one CLUSTER SLOTS now.
void refresh_now(cluster_ptr self) {
  auto& st = self->state;
  if (st.refreshing) {
    st.refresh_again = true;
    return;
  }
  st.refreshing = true;
  st.last_refresh = clock_type::now();
  auto source = refresh_source(self);
  auto& n = node_for(self, source);
  ++n.outstanding;
  n.used = true;
  ask(self, n.conn, caf::infinite, make_command({"CLUSTER", "SLOTS"}))
    .then(
      [self, source](redis_reply& reply) {
        if (auto* n = find_node(self, source))
          --n->outstanding;
        auto ranges = parse_cluster_slots(reply, source.host);
        if (ranges && ranges->empty())
          ranges = make_error(sec::reply_error, "CLUSTER SLOTS lists no slots");
        if (ranges)
          self->state.map->replace(*ranges);
        refresh_done(self, source, ranges ? caf::error{} : ranges.error());
      },
      [self, source](caf::error& err) {
        if (auto* n = find_node(self, source))
          --n->outstanding;
        refresh_done(self, source, err);
      });
}

/// Closes node connections unused since the last sweep (never the home
/// node's, never one with requests out).
void sweep(cluster_ptr self) {
  auto& st = self->state;
  std::vector<redis_endpoint> idle;
  for (auto& n : st.nodes) {
    if (!n.used && n.outstanding == 0 && !(st.home && *st.home == n.ep))
      idle.push_back(n.ep);
    n.used = false;
  }
  for (const auto& ep : idle)
    retire(self, ep);
}

} // namespace

void start(cluster_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.opts.cluster_refresh, refresh_atom::value, true);
  st.seen_version = st.map->version();
  if (keeps_map(self))
    refresh_now(self);
  else if (!st.map->empty())
    check_home(self);
  else
    want_refresh(self);
}

void want_refresh(cluster_ptr self) {
  auto& st = self->state;
  if (st.refreshing) {
    st.refresh_again = true;
    return;
  }
  if (!keeps_map(self)) {
    st.refreshing = true;
    auto deadline = st.opts.request_timeout + st.opts.connect_timeout;
    self->request(st.keeper, deadline * 2, refresh_atom::value)
      .then(
        [self](uint64_t) {
          self->state.refreshing = false;
          check_version(self);
          if (self->state.refresh_again) {
            self->state.refresh_again = false;
            want_refresh(self);
          }
        },
        [self](caf::error&) { self->state.refreshing = false; });
    return;
  }
  if (st.refresh_deferred)
    return;
  auto since = clock_type::now() - st.last_refresh;
  if (since < min_refresh_gap) {
    st.refresh_deferred = true;
    self->delayed_send(self, min_refresh_gap - since, refresh_atom::value, false);
    return;
  }
  refresh_now(self);
}

void check_version(cluster_ptr self) {
  auto& st = self->state;
  auto version = st.map->version();
  if (version == st.seen_version)
    return;
  st.seen_version = version;
  check_home(self);
  auto masters = st.map->masters();
  std::vector<redis_endpoint> gone;
  for (auto& n : st.nodes)
    if (n.outstanding == 0 && !(st.home && *st.home == n.ep)
        && std::find(masters.begin(), masters.end(), n.ep) == masters.end())
      gone.push_back(n.ep);
  for (const auto& ep : gone)
    retire(self, ep);
}

void check_home(cluster_ptr self) {
  auto& st = self->state;
  if (st.home_key.empty())
    return;
  auto master = st.map->master_of(key_slot(st.home_key));
  if (!master) {
    want_refresh(self);
    return;
  }
  if (st.home && *st.home == *master)
    return;
  auto old = st.home;
  st.home = *master;
  if (old)
    spdlog::info("redis cluster: {} is served by {} now (was {})", st.home_key,
                 endpoint_text(*master), endpoint_text(*old));
  auto& n = node_for(self, *master); // connects now: the listener waits for it
  if (n.up && st.listener)
    self->send(st.listener, conn_up_atom::value, n.client_id);
  if (old)
    if (auto* prev = find_node(self, *old); prev && prev->outstanding == 0)
      retire(self, *old);
  update_metrics(self);
}

caf::result<uint64_t> on_refresh_request(cluster_ptr self) {
  auto rp = self->make_response_promise();
  self->state.refresh_waiters.push_back(rp);
  want_refresh(self);
  return caf::delegated<uint64_t>{};
}

void on_refresh_timer(cluster_ptr self, bool periodic) {
  auto& st = self->state;
  if (periodic) {
    self->delayed_send(self, st.opts.cluster_refresh, refresh_atom::value, true);
    sweep(self);
    if (keeps_map(self))
      want_refresh(self);
    return;
  }
  if (keeps_map(self)) { // a deferred refresh
    st.refresh_deferred = false;
    refresh_now(self);
    return;
  }
  // The home node is down: ask for the map until it names another master
  // (a failover) or the node is back.
  auto* home = st.home ? find_node(self, *st.home) : nullptr;
  if (home && !home->up) {
    want_refresh(self);
    self->delayed_send(self, std::chrono::milliseconds{250}, refresh_atom::value, false);
  } else {
    st.home_watch = false;
  }
}

} // namespace rill::detail
