#include <rill/actors/redis_connection.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/redis/connection_core.hpp>
#include <rill/actors/redis/connection_link.hpp>

#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <deque>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <sys/socket.h>
#include <unistd.h>
#include <variant>

namespace rill {

namespace {

using clock_type = connection_core::clock_type;

struct connection_state;
using broker_ptr = caf::io::stateful_broker<connection_state>*;

/// The core's output, onto the broker: bytes to the link's buffer, answers
/// to the callers (in submission order), up/down to the listener. Called
/// with the link's lock held.
class broker_sink : public connection_core::sink {
public:
  broker_ptr self = nullptr;

  std::vector<char>& wire() override;
  void answer(connection_core::answer&& result) override;
  void up(int64_t client_id) override;
  void down(const caf::error& err, caf::timespan retry_in) override;
  void push(redis_reply&& message) override;
};

struct connection_state {
  redis_options opts;
  caf::actor listener;
  std::shared_ptr<connection_metrics> metrics; // never null
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  /// Why no connection can be opened at all (a host that does not resolve,
  /// TLS files that do not load): every attempt fails with it.
  caf::error resolve_error;
  std::shared_ptr<ssl_ctx_st> tls_ctx; // with redis.tls
  /// Sentinel mode: where the master is, and the one `addr` was resolved for.
  std::shared_ptr<master_address> master;
  std::optional<redis_endpoint> target;
  caf::io::connection_handle hdl;
  /// The core, the socket and the reply targets, shared with requesters
  /// that send on their own thread (actors/redis/connection_link.hpp).
  std::shared_ptr<connection_link> link;
  uint64_t attempt = 0;
  broker_sink sink;

  static inline const char* name = "rill.redis_connection";
};

using lock_type = connection_link::lock_type;

std::vector<char>& broker_sink::wire() {
  auto& link = *self->state.link;
  return link.tls ? link.plain : link.out;
}

/// Sends what the core wrote. The broker runs on the multiplexer thread, so
/// on a ready connection it writes with one non-blocking send(): a scribe
/// flush costs two epoll_ctl calls (add and drop write interest) and an
/// extra epoll_wait round per flush (docs/benchmarks.md). Whatever send()
/// does not take - a full socket buffer, a broken connection, or any bytes
/// while connecting or while the scribe still writes earlier ones - goes to
/// the scribe as before, behind what it holds, so bytes stay in order and
/// errors surface the same way (as connection_closed_msg).
void push_out(broker_ptr self) {
  auto& link = *self->state.link;
  link.send_out();
  if (link.tls_error) {
    auto err = std::move(link.tls_error);
    link.tls_error = caf::none;
    link.core->close(err);
    return;
  }
  if (link.out.empty())
    return;
  auto& buf = self->wr_buf(self->state.hdl);
  buf.insert(buf.end(), link.out.begin(), link.out.end());
  link.scribe_busy = true;
  self->flush(self->state.hdl);
  link.out.clear();
}

void broker_sink::answer(connection_core::answer&& result) {
  auto& targets = self->state.link->targets;
  auto target = std::move(targets.front());
  targets.pop_front();
  target.deliver(std::move(result));
}

void broker_sink::up(int64_t client_id) {
  self->state.link->ready = true;
  self->state.metrics->up.store(true, std::memory_order_relaxed);
  self->state.metrics->connects.fetch_add(1, std::memory_order_relaxed);
  push_out(self); // the requests held behind the handshake
  if (self->state.listener)
    self->send(self->state.listener, conn_up_atom::value, client_id);
}

void broker_sink::down(const caf::error& err, caf::timespan retry_in) {
  self->state.link->ready = false;
  self->state.metrics->up.store(false, std::memory_order_relaxed);
  self->state.metrics->losses.fetch_add(1, std::memory_order_relaxed);
  self->close(self->state.hdl);
  if (self->state.listener)
    self->send(self->state.listener, conn_down_atom::value, err);
  self->delayed_send(self, retry_in, reconnect_atom::value);
  if (self->state.master) // the sentinels may know better by the next attempt
    caf::anon_send(caf::actor_cast<caf::actor>(self->state.master->watcher), resolve_atom::value);
}

void broker_sink::push(redis_reply&& message) {
  if (self->state.listener)
    self->send(self->state.listener, push_atom::value, std::move(message));
}

caf::error resolve(connection_state& st) {
  auto endpoint = endpoint_text(st.opts.host, st.opts.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto host = st.opts.host == "localhost" ? std::string{"127.0.0.1"} : st.opts.host;
  auto port = std::to_string(st.opts.port);
  if (auto rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return make_error(sec::connect_failed, "cannot resolve " + endpoint + ": " + gai_strerror(rc));
  std::memcpy(&st.addr, res->ai_addr, res->ai_addrlen);
  st.addr_len = static_cast<socklen_t>(res->ai_addrlen);
  freeaddrinfo(res);
  return caf::none;
}

/// Sentinel mode: points the next connect at the master the sentinels named
/// last. False when they have named none yet.
bool aim_at_master(connection_state& st, connection_core& core) {
  auto ep = st.master->get();
  if (!ep) {
    core.connect_failed(
      make_error(sec::redis_unavailable,
                 "the sentinels have not named the master '" + st.opts.sentinel_master + "' yet"));
    return false;
  }
  if (ep == st.target)
    return true;
  st.target = ep;
  st.opts.host = ep->host;
  st.opts.port = ep->port;
  core.retarget(*ep);
  st.resolve_error = resolve(st);
  return true;
}

void connect(broker_ptr self) {
  auto& st = self->state;
  auto& link = *st.link;
  auto& core = *link.core;
  if (st.master && !aim_at_master(st, core))
    return;
  if (st.resolve_error) {
    core.connect_failed(st.resolve_error);
    return;
  }
  auto fd = ::socket(st.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    core.connect_failed(
      make_error(sec::connect_failed, std::string{"socket(): "} + std::strerror(errno)));
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  // Non-blocking connect: EINPROGRESS is the normal answer. The scribe starts
  // writing once the socket is writable; a refused connect surfaces as a
  // closed connection, a silent one hits the deadline below.
  auto rc = ::connect(fd, reinterpret_cast<sockaddr*>(&st.addr), st.addr_len);
  if (rc != 0 && errno != EINPROGRESS) {
    auto reason = std::string{std::strerror(errno)};
    ::close(fd);
    core.connect_failed(
      make_error(sec::connect_failed, "connect to " + core.endpoint() + ": " + reason));
    return;
  }
  st.hdl = self->add_scribe(fd);
  link.fd = fd;
  link.out.clear();
  link.scribe_busy = false;
  link.flush_posted = false;
  link.ready = false;
  self->configure_read(st.hdl, caf::io::receive_policy::at_most(64 * 1024));
  self->ack_writes(st.hdl, true); // tells when the scribe has written all it holds
  ++st.attempt;
  link.tls.reset();
  link.plain.clear();
  link.tls_error = caf::none;
  if (st.tls_ctx) { // a fresh session per attempt; its ClientHello goes first
    link.tls = std::make_unique<tls_session>(st.tls_ctx, st.opts);
    if (auto err = link.tls->start(link.out))
      link.tls_error = std::move(err);
  }
  core.connecting(clock_type::now());
  push_out(self);
  link.arm_tick();
  self->delayed_send(self, st.opts.connect_timeout, deadline_atom::value, st.attempt);
}

/// Submits a request the core accepts; answers a refused one at once.
template <class Request>
void submit(broker_ptr self, const Request& req, caf::response_promise rp) {
  auto& link = *self->state.link;
  lock_type guard{link.mutex};
  if (auto err = link.core->refuse(req)) {
    rp.deliver(std::move(err));
    return;
  }
  link.targets.push_back(reply_target{std::move(rp), {}, {}});
  link.core->submit(req, clock_type::now());
  push_out(self);
  link.arm_tick();
}

/// Runs `f` with the link's lock held (every broker step that touches the
/// core, the socket state or the targets).
template <class F>
void locked(broker_ptr self, F f) {
  lock_type guard{self->state.link->mutex};
  f(self->state, *self->state.link, *self->state.link->core);
}

caf::behavior connection(broker_ptr self, redis_options opts, caf::actor listener,
                         std::shared_ptr<connection_metrics> metrics,
                         std::shared_ptr<connection_link> link,
                         std::shared_ptr<master_address> master) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.listener = std::move(listener);
  st.metrics = std::move(metrics);
  st.master = std::move(master);
  if (st.master) {
    st.master->enlist(self->address());
    self->attach_functor([m = st.master, addr = self->address()] { m->forget(addr); });
  }
  st.link = std::move(link); // its broker address is set by spawn_redis_connection
  self->attach_functor([m = st.metrics, l = st.link, addr = self->address()] {
    m->up.store(false, std::memory_order_relaxed);
    connection_link::forget(addr);
    lock_type guard{l->mutex};
    l->stopped = true;
    l->ready = false;
    for (auto& early : l->early) // the broker never started
      early.second.deliver(make_error(sec::stopped, "connection actor stopped"));
    l->early.clear();
  });
  st.sink.self = self;
  if (!st.master) // Sentinel mode resolves the master's address per connect
    st.resolve_error = resolve(st);
  if (st.opts.tls && !st.resolve_error) {
    if (auto ctx = make_tls_context(st.opts))
      st.tls_ctx = std::move(*ctx);
    else
      st.resolve_error = ctx.error();
  }
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    locked(self, [](auto&, auto& link, auto& core) {
      link.stopped = true;
      link.ready = false;
      core.fail_all(make_error(sec::stopped, "connection actor stopped"));
    });
    self->quit(msg.reason);
  });
  {
    // Requesters may already submit through the link (it is findable once
    // spawn returns): the core appears under its lock.
    lock_type guard{st.link->mutex};
    st.link->core.emplace(st.opts, st.sink);
    connect(self);
    st.link->submit_early(); // held behind the handshake like any request now
    push_out(self);
    st.link->arm_tick();
  }
  return {
    [self](redis_command& cmd) -> caf::result<redis_reply> {
      submit(self, cmd, self->make_response_promise());
      return caf::delegated<redis_reply>{};
    },
    [self](std::vector<redis_command>& cmds) -> caf::result<std::vector<redis_reply>> {
      if (cmds.empty())
        return std::vector<redis_reply>{};
      submit(self, cmds, self->make_response_promise());
      return caf::delegated<std::vector<redis_reply>>{};
    },
    [self](caf::io::new_data_msg& msg) {
      if (msg.handle != self->state.hdl)
        return;
      locked(self, [&](auto&, auto& link, auto& core) {
        if (!link.tls) {
          core.received(msg.buf.data(), msg.buf.size());
          return;
        }
        std::vector<char> plain;
        if (auto err = link.tls->read(msg.buf.data(), msg.buf.size(), plain, link.out)) {
          core.close(err);
          return;
        }
        core.received(plain.data(), plain.size());
        if (core.current() != connection_core::phase::down)
          push_out(self); // handshake records, and what waited for the handshake
      });
    },
    [self](caf::io::data_transferred_msg& msg) {
      if (msg.handle == self->state.hdl && msg.remaining == 0)
        locked(self, [self](auto&, auto& link, auto&) {
          link.scribe_busy = false;
          push_out(self); // what requesters queued meanwhile
        });
    },
    [self](flush_atom) {
      // A requester left bytes that send() did not take (see connection_link).
      locked(self, [self](auto&, auto& link, auto&) {
        link.flush_posted = false;
        push_out(self);
      });
    },
    [self](caf::io::connection_closed_msg& msg) {
      if (msg.handle != self->state.hdl)
        return;
      locked(self, [](auto&, auto&, auto& core) {
        core.close(core.current() == connection_core::phase::connecting
                     ? make_error(sec::connect_failed, "cannot connect to redis " + core.endpoint())
                     : make_error(sec::connection_lost,
                                  "redis " + core.endpoint() + " closed the connection"));
      });
    },
    [self](tick_atom) {
      locked(self, [](auto&, auto& link, auto& core) {
        link.tick_armed = false;
        core.check_deadline(clock_type::now());
        if (core.current() != connection_core::phase::down)
          link.arm_tick();
      });
    },
    [self](deadline_atom, uint64_t attempt) {
      locked(self, [attempt](auto& st, auto& link, auto& core) {
        if (attempt != st.attempt || core.current() != connection_core::phase::connecting)
          return;
        if (link.tls && !link.tls->established() && !link.scribe_busy) {
          // Connected (the ClientHello was written), but a plaintext port
          // never answers one: it has no newline. A host that never took the
          // TCP connect is "no connection", as without TLS.
          core.close(
            make_error(sec::tls_failed,
                       "no TLS handshake from redis " + core.endpoint() + " within "
                         + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            st.opts.connect_timeout)
                                            .count())
                         + " ms (is TLS on at that port?)"));
          return;
        }
        core.close(
          make_error(sec::connect_failed,
                     "no connection to redis " + core.endpoint() + " within "
                       + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          st.opts.connect_timeout)
                                          .count())
                       + " ms"));
      });
    },
    [self](moved_atom) {
      // The sentinels named another master: a connection elsewhere goes
      // there now (an old master cut off from the sentinels may still take
      // writes that its demotion would throw away).
      locked(self, [self](auto& st, auto&, auto& core) {
        auto ep = st.master ? st.master->get() : std::nullopt;
        if (!ep || ep == st.target)
          return;
        core.close(make_error(sec::redis_unavailable, "the sentinels moved the master '"
                                                        + st.opts.sentinel_master + "' to "
                                                        + endpoint_text(*ep)));
        connect(self);
      });
    },
    [self](reconnect_atom) {
      locked(self, [self](auto&, auto&, auto& core) {
        if (core.current() == connection_core::phase::down)
          connect(self);
      });
    },
  };
}

} // namespace

connection_actor spawn_redis_connection(caf::actor_system& sys, redis_options opts,
                                        caf::actor listener,
                                        std::shared_ptr<connection_metrics> metrics,
                                        std::shared_ptr<master_address> master) {
  if (!metrics)
    metrics = std::make_shared<connection_metrics>();
  // The broker's full behaviour also takes I/O events and its own timers;
  // others get the typed request interface only.
  auto link = std::make_shared<connection_link>(sys);
  auto conn = caf::actor_cast<connection_actor>(sys.middleman().spawn_broker(
    connection, std::move(opts), std::move(listener), std::move(metrics), link, std::move(master)));
  // Findable at once: requests that come before the broker starts wait in
  // the link (submit_early).
  link->broker = caf::actor_cast<caf::actor_addr>(conn);
  connection_link::enlist(link->broker, link);
  return conn;
}

} // namespace rill
