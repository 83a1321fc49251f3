#include <rill/actors/cluster_connection.hpp>

#include <rill/actors/cluster/cluster_state.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/redis/key_slot.hpp>
#include <rill/actors/redis_connection.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

namespace rill {

namespace detail {

node_link* find_node(cluster_ptr self, const redis_endpoint& ep) {
  for (auto& n : self->state.nodes)
    if (n.ep == ep)
      return &n;
  return nullptr;
}

node_link& node_for(cluster_ptr self, const redis_endpoint& ep) {
  if (auto* n = find_node(self, ep))
    return *n;
  auto& st = self->state;
  auto opts = st.opts;
  opts.host = ep.host;
  opts.port = ep.port;
  node_link n;
  n.ep = ep;
  n.metrics = std::make_shared<connection_metrics>();
  auto conn = spawn_redis_connection(self->system(), opts, caf::actor{self}, n.metrics);
  self->link_to(conn); // it ends with this connection
  n.conn = connection_ref{std::move(conn)};
  st.nodes.push_back(std::move(n));
  return st.nodes.back();
}

void retire(cluster_ptr self, const redis_endpoint& ep) {
  auto& nodes = self->state.nodes;
  auto i = std::find_if(nodes.begin(), nodes.end(), [&](auto& n) { return n.ep == ep; });
  if (i == nodes.end())
    return;
  spdlog::debug("redis cluster: closing the connection to {}", endpoint_text(ep));
  self->unlink_from(i->conn.actor);
  caf::anon_send_exit(i->conn.actor, caf::exit_reason::user_shutdown);
  nodes.erase(i);
  update_metrics(self);
}

void update_metrics(cluster_ptr self) {
  auto& st = self->state;
  bool up = false;
  if (auto* home = st.home ? find_node(self, *st.home) : nullptr)
    up = home->up;
  else
    up = std::any_of(st.nodes.begin(), st.nodes.end(), [](auto& n) { return n.up; });
  st.metrics->up.store(up, std::memory_order_relaxed);
}

/// Where a command goes: its key's master, or for a command without a key
/// the home node, a node that is up, or a seed.
std::optional<redis_endpoint> target_of(cluster_ptr self, const redis_command& cmd) {
  auto& st = self->state;
  if (auto key = routing_key(cmd))
    return st.map->master_of(key_slot(*key));
  if (st.home)
    return st.home;
  for (auto& n : st.nodes)
    if (n.up)
      return n.ep;
  if (auto masters = st.map->masters(); !masters.empty())
    return masters.front();
  return redis_endpoint{st.opts.host, st.opts.port};
}

void complete(const op_ptr& op) {
  if (op->finished)
    return;
  op->finished = true;
  if (!op->single) {
    op->rp.deliver(std::move(op->replies));
  } else if (op->replies.front().is_error()) {
    op->rp.deliver(error_from_reply(op->replies.front().str));
  } else {
    op->rp.deliver(std::move(op->replies.front()));
  }
}

void fail(const op_ptr& op, caf::error err) {
  if (op->finished)
    return;
  op->finished = true;
  op->rp.deliver(std::move(err));
}

/// A command that could not go now (no master known, or a reply that says
/// "again later"): once the map is fresh, after a backoff, within its deadline.
void park(cluster_ptr self, const op_ptr& op, size_t idx, std::string why) {
  auto& st = self->state;
  auto hops = ++op->hops[idx];
  auto delay = std::min<caf::timespan>(std::chrono::milliseconds{10 << std::min(hops, 6u)},
                                       std::chrono::milliseconds{500});
  auto now = clock_type::now();
  if (now + delay > op->deadline) {
    op->replies[idx] = redis_reply::error(std::move(why));
    if (--op->remaining == 0)
      complete(op);
    return;
  }
  st.parked.push_back(parked_command{op, idx, now + delay});
  self->delayed_send(self, delay, retry_atom::value);
  want_refresh(self);
}

void send_to(cluster_ptr self, const redis_endpoint& ep, const op_ptr& op, std::vector<size_t> idxs,
             bool asking) {
  auto& n = node_for(self, ep);
  std::vector<redis_command> batch;
  batch.reserve(idxs.size() + (asking ? 1 : 0));
  if (asking)
    batch.push_back(make_command({"ASKING"}));
  for (auto idx : idxs)
    batch.push_back(op->cmds[idx]);
  ++n.outstanding;
  n.used = true;
  ask(self, n.conn, caf::infinite, std::move(batch))
    .then([self, ep, op, idxs, asking](
            std::vector<redis_reply>& replies) { on_replies(self, ep, op, idxs, asking, replies); },
          [self, ep, op](caf::error& err) {
            if (auto* n = find_node(self, ep))
              --n->outstanding;
            if (is_unreachable(err))
              want_refresh(self);
            fail(op, std::move(err));
          });
}

void on_replies(cluster_ptr self, const redis_endpoint& ep, const op_ptr& op,
                const std::vector<size_t>& idxs, bool asking, std::vector<redis_reply>& replies) {
  if (auto* n = find_node(self, ep))
    --n->outstanding;
  if (op->finished)
    return;
  auto first = asking ? size_t{1} : size_t{0};
  if (replies.size() != idxs.size() + first) {
    fail(op, make_error(sec::unexpected_reply, "redis cluster: pipeline reply of wrong size"));
    return;
  }
  if (asking && replies[0].is_error())
    replies[1] = std::move(replies[0]); // ASKING refused: that is the answer
  for (size_t k = 0; k < idxs.size(); ++k) {
    auto idx = idxs[k];
    auto& reply = replies[first + k];
    if (reply.is_error() && op->hops[idx] < max_hops) {
      if (auto r = parse_redirect(reply.str, ep.host)) {
        ++op->hops[idx];
        if (!r->ask) {
          self->state.map->moved(r->slot, r->to);
          want_refresh(self);
          check_home(self);
        }
        send_to(self, r->to, op, {idx}, r->ask);
        continue;
      }
      if (retry_after_refresh(reply.str)) {
        park(self, op, idx, reply.str);
        continue;
      }
    }
    op->replies[idx] = std::move(reply);
    if (--op->remaining == 0)
      complete(op);
  }
}

void dispatch(cluster_ptr self, const op_ptr& op, const std::vector<size_t>& idxs) {
  check_version(self);
  std::map<std::pair<std::string, uint16_t>, std::vector<size_t>> groups;
  for (auto idx : idxs) {
    auto target = target_of(self, op->cmds[idx]);
    if (!target) {
      park(self, op, idx, "CLUSTERDOWN no master known for this key's slot");
      continue;
    }
    groups[{target->host, target->port}].push_back(idx);
  }
  for (auto& [ep, group] : groups)
    send_to(self, redis_endpoint{ep.first, ep.second}, op, std::move(group), false);
}

void on_retry(cluster_ptr self) {
  auto& st = self->state;
  auto now = clock_type::now();
  std::vector<parked_command> due;
  auto i = std::stable_partition(st.parked.begin(), st.parked.end(),
                                 [now](const parked_command& p) { return p.due > now; });
  due.assign(std::make_move_iterator(i), std::make_move_iterator(st.parked.end()));
  st.parked.erase(i, st.parked.end());
  for (auto& p : due)
    if (!p.op->finished)
      dispatch(self, p.op, {p.idx});
}

template <class Request>
op_ptr make_op(cluster_ptr self, Request&& cmds, bool single) {
  auto op = std::make_shared<pending_op>();
  op->single = single;
  op->remaining = cmds.size();
  op->replies.resize(cmds.size());
  op->hops.resize(cmds.size(), 0);
  caf::timespan blocks{0};
  for (const auto& c : cmds)
    blocks += c.blocks_for;
  const auto& o = self->state.opts;
  op->deadline = clock_type::now() + o.request_timeout + o.connect_timeout + blocks;
  op->cmds = std::forward<Request>(cmds);
  op->rp = self->make_response_promise();
  auto& st = self->state;
  if (st.in_flight.size() >= st.prune_at) { // amortized: the bound doubles with what is live
    st.in_flight.erase(std::remove_if(st.in_flight.begin(), st.in_flight.end(),
                                      [](const std::weak_ptr<pending_op>& w) {
                                        auto live = w.lock();
                                        return !live || live->finished;
                                      }),
                       st.in_flight.end());
    st.prune_at = std::max<size_t>(1024, 2 * st.in_flight.size());
  }
  st.in_flight.push_back(op);
  return op;
}

std::vector<size_t> all_of(const op_ptr& op) {
  std::vector<size_t> idxs(op->cmds.size());
  for (size_t i = 0; i < idxs.size(); ++i)
    idxs[i] = i;
  return idxs;
}

void on_node_event(cluster_ptr self, bool up, int64_t client_id, const caf::error& err) {
  auto& st = self->state;
  auto sender = self->current_sender();
  auto i = std::find_if(st.nodes.begin(), st.nodes.end(), [&](auto& n) {
    return caf::actor_cast<caf::strong_actor_ptr>(n.conn.actor) == sender;
  });
  if (i == st.nodes.end())
    return; // a retired node's last word
  i->up = up;
  i->client_id = client_id;
  (up ? st.metrics->connects : st.metrics->losses).fetch_add(1, std::memory_order_relaxed);
  update_metrics(self);
  bool home = st.home && *st.home == i->ep;
  if (!up)
    want_refresh(self); // a master that went away may be failing over
  if (home && st.listener) {
    if (up)
      self->send(st.listener, conn_up_atom::value, client_id);
    else
      self->send(st.listener, conn_down_atom::value, err);
  }
  if (home && !up && !st.home_watch) {
    st.home_watch = true;
    self->delayed_send(self, std::chrono::milliseconds{250}, refresh_atom::value, false);
  }
}

caf::behavior cluster_connection(cluster_ptr self, redis_options opts,
                                 std::shared_ptr<cluster_map> map, caf::actor keeper,
                                 std::string home_key, caf::actor listener,
                                 std::shared_ptr<connection_metrics> metrics) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.map = std::move(map);
  st.keeper = std::move(keeper);
  st.home_key = std::move(home_key);
  st.listener = std::move(listener);
  st.metrics = metrics ? std::move(metrics) : std::make_shared<connection_metrics>();
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& nodes = self->state.nodes;
    auto i = std::find_if(nodes.begin(), nodes.end(),
                          [&](auto& n) { return n.conn.actor.address() == msg.source; });
    if (i != nodes.end()) { // one node's connection ended: not ours to end with
      nodes.erase(i);
      update_metrics(self);
      return;
    }
    for (auto& w : self->state.in_flight)
      if (auto op = w.lock())
        fail(op, make_error(sec::stopped, "redis cluster connection stopped"));
    self->state.in_flight.clear();
    self->state.parked.clear();
    self->quit(msg.reason);
  });
  start(self);
  return {
    [self](redis_command& cmd) -> caf::result<redis_reply> {
      std::vector<redis_command> cmds;
      cmds.emplace_back(std::move(cmd));
      auto op = make_op(self, std::move(cmds), true);
      dispatch(self, op, {0});
      return caf::delegated<redis_reply>{};
    },
    [self](std::vector<redis_command>& cmds) -> caf::result<std::vector<redis_reply>> {
      if (cmds.empty())
        return std::vector<redis_reply>{};
      auto op = make_op(self, std::move(cmds), false);
      dispatch(self, op, all_of(op));
      return caf::delegated<std::vector<redis_reply>>{};
    },
    [self](conn_up_atom, int64_t client_id) { on_node_event(self, true, client_id, {}); },
    [self](conn_down_atom, caf::error& err) { on_node_event(self, false, -1, err); },
    [self](retry_atom) { on_retry(self); },
    [self](refresh_atom) -> caf::result<uint64_t> { return on_refresh_request(self); },
    [self](refresh_atom, bool periodic) { on_refresh_timer(self, periodic); },
  };
}

} // namespace detail

connection_actor spawn_cluster_connection(caf::actor_system& sys, redis_options opts,
                                          std::shared_ptr<cluster_map> map, caf::actor keeper,
                                          std::string home_key, caf::actor listener,
                                          std::shared_ptr<connection_metrics> metrics) {
  // Its full behaviour also takes node events and timers; others get the
  // typed request interface only.
  return caf::actor_cast<connection_actor>(
    sys.spawn(detail::cluster_connection, std::move(opts), std::move(map), std::move(keeper),
              std::move(home_key), std::move(listener), std::move(metrics)));
}

} // namespace rill
