#include <rill/actors/sentinel_watcher.hpp>

#include <rill/actors/backoff.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/redis_connection.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

namespace rill {

namespace {

using clock_type = std::chrono::steady_clock;

struct watcher_state {
  redis_options opts;
  std::shared_ptr<master_address> master;
  size_t index = 0; ///< the sentinel in use
  connection_actor query;
  connection_actor sub;
  bool asking = false;
  clock_type::time_point last_ask{};
  /// Sentinels that failed in a row, and those of them that know no such master.
  size_t failures = 0;
  size_t unknown = 0;
  /// A failure was logged and no sentinel has answered since: one line for
  /// a streak of failed rounds, however long the sentinels stay away.
  bool complaining = false;
  caf::error last_error;
  rill::backoff retry{50ms, 2s};
  std::vector<caf::response_promise> waiting;

  static inline const char* name = "rill.sentinel_watcher";
};

using watcher_ptr = caf::stateful_actor<watcher_state>*;

const redis_endpoint& current(const watcher_state& st) {
  return st.opts.sentinels[st.index];
}

/// Options for a connection to the sentinel in use: its address, its
/// password, no database or Sentinel of its own; TLS as for the master.
redis_options sentinel_link(const watcher_state& st, const char* suffix) {
  auto o = st.opts;
  o.host = current(st).host;
  o.port = current(st).port;
  o.user.clear();
  o.password = st.opts.sentinel_password;
  o.db = 0;
  o.sentinels.clear();
  o.sentinel_master.clear();
  if (!o.client_name.empty())
    o.client_name += suffix;
  return o;
}

void open_links(watcher_ptr self) {
  auto& st = self->state;
  st.query = spawn_redis_connection(self->system(), sentinel_link(st, "-sentinel"));
  st.sub
    = spawn_redis_connection(self->system(), sentinel_link(st, "-sentinel-sub"), caf::actor{self});
  self->link_to(st.query); // they end with the watcher
  self->link_to(st.sub);
}

void close_links(watcher_ptr self) {
  auto& st = self->state;
  for (auto* conn : {&st.query, &st.sub}) {
    self->unlink_from(*conn);
    caf::anon_send_exit(*conn, caf::exit_reason::user_shutdown);
  }
}

void learned(watcher_ptr self, const redis_endpoint& ep, const char* how) {
  auto& st = self->state;
  auto before = st.master->get();
  if (st.master->set(ep)) {
    if (before)
      spdlog::warn("sentinel {}: master '{}' moved from {} to {} ({})", endpoint_text(current(st)),
                   st.opts.sentinel_master, endpoint_text(*before), endpoint_text(ep), how);
    else
      spdlog::info("sentinel {}: master '{}' is at {}", endpoint_text(current(st)),
                   st.opts.sentinel_master, endpoint_text(ep));
    for (auto& addr : st.master->connections())
      if (auto conn = caf::actor_cast<caf::actor>(addr))
        self->send(conn, moved_atom::value);
  }
  for (auto& rp : st.waiting)
    rp.deliver(ep.host, ep.port);
  st.waiting.clear();
}

void ask(watcher_ptr self);

/// The sentinel in use did not name the master: the next one is asked; after
/// a whole round without an answer, the waiting get the reason and the round
/// starts again after a backoff.
void failed(watcher_ptr self, caf::error err, bool unknown_name) {
  auto& st = self->state;
  st.asking = false;
  if (!st.complaining)
    spdlog::warn("sentinel {}: {}", endpoint_text(current(st)), describe(err));
  st.complaining = true;
  st.last_error = std::move(err);
  ++st.failures;
  st.unknown += unknown_name ? 1 : 0;
  auto round_over = st.failures >= st.opts.sentinels.size();
  if (round_over) {
    auto code = st.unknown == st.failures ? sec::invalid_config : code_of(st.last_error);
    auto why = make_error(code == sec::invalid_config || code == sec::tls_failed
                              || code == sec::auth_failed
                            ? code
                            : sec::redis_unavailable,
                          "no sentinel named the master '" + st.opts.sentinel_master
                            + "' (last: " + context_text(st.last_error) + ")");
    for (auto& rp : st.waiting)
      rp.deliver(why);
    st.waiting.clear();
    st.failures = 0;
    st.unknown = 0;
  }
  if (st.opts.sentinels.size() > 1) {
    close_links(self);
    st.index = (st.index + 1) % st.opts.sentinels.size();
    open_links(self);
  }
  if (round_over)
    self->delayed_send(self, st.retry.next(), retry_atom::value);
  else
    ask(self);
}

void ask(watcher_ptr self) {
  auto& st = self->state;
  if (st.asking)
    return;
  st.asking = true;
  st.last_ask = clock_type::now();
  auto cmd = make_command({"SENTINEL", "get-master-addr-by-name", st.opts.sentinel_master});
  self->request(st.query, st.opts.connect_timeout + st.opts.request_timeout, std::move(cmd))
    .then(
      [self](redis_reply& reply) {
        auto& st = self->state;
        if (reply.is_nil()) {
          failed(self,
                 make_error(sec::invalid_config,
                            "knows no master named '" + st.opts.sentinel_master + "'"),
                 true);
          return;
        }
        auto port = reply.is_array() && reply.elements.size() == 2
                      ? std::strtoul(reply.elements[1].str.c_str(), nullptr, 10)
                      : 0;
        if (port == 0 || port > 65535) {
          failed(self, make_error(sec::protocol_error, "odd answer: " + to_string(reply)), false);
          return;
        }
        st.asking = false;
        if (st.complaining)
          spdlog::info("sentinel {}: answers", endpoint_text(current(st)));
        st.complaining = false;
        st.failures = 0;
        st.unknown = 0;
        st.retry.reset();
        learned(self, redis_endpoint{reply.elements[0].str, static_cast<uint16_t>(port)},
                "the sentinel says so");
      },
      [self](caf::error& err) { failed(self, std::move(err), false); });
}

/// `+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>`.
void on_message(watcher_ptr self, const redis_reply& msg) {
  auto& st = self->state;
  if (msg.elements[1].str != "+switch-master")
    return;
  std::istringstream in{msg.elements[2].str};
  std::string name, old_host, old_port, host;
  unsigned port = 0;
  if (!(in >> name >> old_host >> old_port >> host >> port) || name != st.opts.sentinel_master
      || port == 0 || port > 65535)
    return;
  learned(self, redis_endpoint{host, static_cast<uint16_t>(port)}, "+switch-master");
}

caf::behavior sentinel_watcher(watcher_ptr self, redis_options opts,
                               std::shared_ptr<master_address> master) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.master = std::move(master);
  st.retry = rill::backoff{st.opts.reconnect_min, st.opts.reconnect_max};
  open_links(self);
  ask(self);
  self->delayed_send(self, st.opts.sentinel_refresh, tick_atom::value);
  return {
    [self](resolve_atom) -> caf::result<std::string, uint16_t> {
      auto& st = self->state;
      // Many connections lose the master at once: one question for them all.
      if (!st.asking && clock_type::now() - st.last_ask >= st.opts.reconnect_min)
        ask(self);
      if (auto ep = st.master->get())
        return {ep->host, ep->port};
      st.waiting.push_back(self->make_response_promise());
      return caf::delegated<std::string, uint16_t>{};
    },
    [self](retry_atom) { ask(self); },
    [self](tick_atom) {
      auto& st = self->state;
      ask(self);
      // A sentinel that froze would keep the subscription silent for good.
      self->request(st.sub, st.opts.request_timeout, make_command({"PING"}))
        .then([](redis_reply&) {}, [](caf::error&) {});
      self->delayed_send(self, st.opts.sentinel_refresh, tick_atom::value);
    },
    [self](conn_up_atom, int64_t) {
      auto& st = self->state;
      self->request(st.sub, st.opts.request_timeout, make_command({"SUBSCRIBE", "+switch-master"}))
        .then([](redis_reply&) {}, [](caf::error&) {});
      ask(self); // a switch may have come while it was not subscribed
    },
    [](conn_down_atom, const caf::error&) {
      // The subscription reconnects by itself; a sentinel that stays away
      // fails the next question, and the watcher moves on.
    },
    [self](push_atom, const redis_reply& msg) {
      if (msg.elements.size() == 3)
        on_message(self, msg);
    },
  };
}

} // namespace

caf::actor spawn_sentinel_watcher(caf::actor_system& sys, redis_options opts,
                                  std::shared_ptr<master_address> master) {
  auto watcher = sys.spawn(sentinel_watcher, std::move(opts), master);
  master->watcher = watcher.address();
  return watcher;
}

} // namespace rill
