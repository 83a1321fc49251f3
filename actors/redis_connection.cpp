#include <rill/actors/redis_connection.hpp>

#include <rill/actors/backoff.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/redis/reply_reader.hpp>

#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <deque>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace rill {

namespace {

using clock_type = std::chrono::steady_clock;

/// One request waiting for its replies, in the order it was written.
struct pending_request {
  /// `probe`: a handshake step whose error is fine (CONFIG GET for an ACL
  /// user without the permission).
  enum class kind : uint8_t { single, pipeline, handshake, probe };
  kind what = kind::single;
  caf::response_promise promise;
  /// Replies still expected (pipelines).
  size_t remaining = 1;
  std::vector<redis_reply> replies;
  clock_type::time_point deadline;
  /// First argument, for error messages ("no reply to XREADGROUP ...").
  std::string name;
  /// On the socket: a request admitted while connecting waits in
  /// `connection_state::held` until the handshake is done.
  bool sent = false;
};

struct connection_state {
  enum class phase : uint8_t { down, connecting, ready };

  redis_options opts;
  caf::actor listener;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string endpoint; // "host:port" for messages
  caf::error resolve_error;

  phase current = phase::down;
  caf::io::connection_handle hdl;
  uint64_t attempt = 0;
  reply_reader reader;
  std::deque<pending_request> pending;
  bool tick_armed = false;
  clock_type::time_point tick_at;
  rill::backoff retry{50ms, 2s};
  caf::error last_error;
  bool ever_connected = false;
  /// Requests admitted while connecting, encoded, not yet on the socket: a
  /// request written behind a handshake that stalls (a frozen server) would
  /// run later on a connection given up on, without its caller knowing
  /// (DEBUG SLEEP 12 during `rill produce` wrote every batch 6 times).
  std::vector<char> held;
  /// The server's proto-max-bulk-len (CONFIG GET at each handshake, where
  /// allowed; Redis' default otherwise). A longer argument would make Redis
  /// close the connection with a protocol error, so it is refused here.
  uint64_t max_bulk = 512ull << 20;

  static inline const char* name = "rill.redis_connection";
};

using broker_ptr = caf::io::stateful_broker<connection_state>*;

caf::error resolve(connection_state& st) {
  st.endpoint = endpoint_text(st.opts.host, st.opts.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto host = st.opts.host == "localhost" ? std::string{"127.0.0.1"} : st.opts.host;
  auto port = std::to_string(st.opts.port);
  if (auto rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return make_error(sec::connect_failed,
                      "cannot resolve " + st.endpoint + ": " + gai_strerror(rc));
  std::memcpy(&st.addr, res->ai_addr, res->ai_addrlen);
  st.addr_len = static_cast<socklen_t>(res->ai_addrlen);
  freeaddrinfo(res);
  return caf::none;
}

void arm_tick(broker_ptr self) {
  auto& st = self->state;
  if (st.pending.empty())
    return;
  auto when = st.pending.front().deadline;
  if (st.tick_armed && st.tick_at <= when)
    return;
  st.tick_armed = true;
  st.tick_at = when;
  auto delay = std::max(when - clock_type::now(), clock_type::duration{1ms});
  self->delayed_send(self, delay, tick_atom::value);
}

void fail_all(broker_ptr self, const caf::error& err) {
  auto& st = self->state;
  for (auto& p : st.pending)
    if (p.promise.pending())
      p.promise.deliver(err);
  st.pending.clear();
}

void connect(broker_ptr self);

/// Tears the connection down, fails what was pending and schedules a
/// reconnect.
void close_with(broker_ptr self, caf::error err) {
  auto& st = self->state;
  if (st.current == connection_state::phase::down)
    return;
  bool was_ready = st.current == connection_state::phase::ready;
  st.current = connection_state::phase::down;
  self->close(st.hdl);
  st.reader.reset();
  auto pending_err = was_ready
                       ? make_error(sec::connection_lost, "connection to redis " + st.endpoint
                                                            + " lost (" + context_text(err) + ")")
                       : err;
  auto unsent_err
    = make_error(sec::redis_unavailable, "not sent: no connection to redis " + st.endpoint + " ("
                                           + context_text(err) + ")");
  for (auto& p : st.pending)
    if (p.promise.pending())
      p.promise.deliver(p.sent ? pending_err : unsent_err);
  st.pending.clear();
  st.held.clear();
  // First failure of a streak is worth a warning; repeats are debug noise.
  if (st.retry.attempts() == 0)
    spdlog::warn("redis {}: {}", st.endpoint, describe(err));
  else
    spdlog::debug("redis {}: {}", st.endpoint, describe(err));
  st.last_error = err;
  if (st.listener)
    self->send(st.listener, conn_down_atom::value, err);
  auto delay = st.retry.next();
  self->delayed_send(self, delay, reconnect_atom::value);
}

/// Where a request's bytes go: the socket for the handshake and once ready,
/// else the held buffer.
std::vector<char>& out_buf(broker_ptr self, pending_request& req) {
  auto& st = self->state;
  req.sent = req.what == pending_request::kind::handshake
             || req.what == pending_request::kind::probe
             || st.current == connection_state::phase::ready;
  return req.sent ? self->wr_buf(st.hdl) : st.held;
}

/// Refuses a command with an argument longer than the server takes.
caf::error too_long(const connection_state& st, const redis_command& cmd) {
  for (size_t i = 0; i < cmd.argv.size(); ++i)
    if (cmd.argv[i].size() > st.max_bulk)
      return make_error(sec::invalid_argument,
                        "argument " + std::to_string(i + 1) + " of " + cmd.argv.front() + " has "
                          + std::to_string(cmd.argv[i].size())
                          + " bytes, more than the server's proto-max-bulk-len ("
                          + std::to_string(st.max_bulk) + "); not sent");
  return caf::none;
}

void write(broker_ptr self, const redis_command& cmd, pending_request req) {
  auto& st = self->state;
  encode(cmd, out_buf(self, req));
  auto timeout = st.opts.request_timeout + cmd.blocks_for;
  if (st.current != connection_state::phase::ready)
    timeout += st.opts.connect_timeout;
  req.deadline = clock_type::now() + timeout;
  req.name = cmd.argv.empty() ? std::string{} : cmd.argv.front();
  st.pending.emplace_back(std::move(req));
}

void send_handshake(broker_ptr self) {
  auto& o = self->state.opts;
  auto step = [&](redis_command cmd) {
    pending_request req;
    req.what = pending_request::kind::handshake;
    write(self, cmd, std::move(req));
  };
  // hiredis 0.14 speaks RESP2 only: never HELLO 3.
  if (!o.password.empty()) {
    if (o.user.empty())
      step(make_command({"AUTH", o.password}));
    else
      step(make_command({"AUTH", o.user, o.password}));
  }
  if (o.db != 0)
    step(make_command({"SELECT", std::to_string(o.db)}));
  if (!o.client_name.empty())
    step(make_command({"CLIENT", "SETNAME", o.client_name}));
  pending_request probe;
  probe.what = pending_request::kind::probe;
  write(self, make_command({"CONFIG", "GET", "proto-max-bulk-len"}), std::move(probe));
  step(make_command({"CLIENT", "ID"})); // its reply marks the end of the handshake
}

void connect(broker_ptr self) {
  auto& st = self->state;
  if (st.resolve_error) {
    st.current = connection_state::phase::connecting; // so close_with runs
    close_with(self, st.resolve_error);
    return;
  }
  auto fd = ::socket(st.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    st.current = connection_state::phase::connecting;
    close_with(self,
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
    st.current = connection_state::phase::connecting;
    close_with(self, make_error(sec::connect_failed, "connect to " + st.endpoint + ": " + reason));
    return;
  }
  st.hdl = self->add_scribe(fd);
  self->configure_read(st.hdl, caf::io::receive_policy::at_most(64 * 1024));
  st.current = connection_state::phase::connecting;
  ++st.attempt;
  send_handshake(self);
  self->flush(st.hdl);
  arm_tick(self);
  self->delayed_send(self, st.opts.connect_timeout, deadline_atom::value, st.attempt);
}

void on_handshake_reply(broker_ptr self, pending_request& req, redis_reply& reply) {
  auto& st = self->state;
  if (reply.is_error()) {
    // e.g. "WRONGPASS invalid username-password pair": Redis never echoes the
    // password, so the text is safe to show.
    auto err = error_from_reply(reply.str);
    close_with(self, make_error(code_of(err), "handshake with redis " + st.endpoint + " failed ("
                                                + req.name + "): " + reply.str));
    return;
  }
  if (reply.type != redis_reply::kind::integer)
    return; // AUTH / SELECT / SETNAME: +OK
  // CLIENT ID: the handshake is complete; what waited for it goes out now.
  st.current = connection_state::phase::ready;
  if (!st.held.empty()) {
    auto& buf = self->wr_buf(st.hdl);
    buf.insert(buf.end(), st.held.begin(), st.held.end());
    st.held.clear();
    self->flush(st.hdl);
  }
  for (auto& p : st.pending)
    p.sent = true;
  if (!st.ever_connected || st.retry.attempts() > 0)
    spdlog::info("redis {}: connected{}", st.endpoint, st.ever_connected ? " again" : "");
  st.ever_connected = true;
  st.retry.reset();
  st.last_error = caf::none;
  if (st.listener)
    self->send(st.listener, conn_up_atom::value, reply.integer);
}

void on_reply(broker_ptr self, redis_reply& reply) {
  auto& st = self->state;
  if (st.pending.empty()) {
    close_with(self, make_error(sec::protocol_error, "unsolicited reply: " + to_string(reply)));
    return;
  }
  auto& req = st.pending.front();
  switch (req.what) {
    case pending_request::kind::probe: {
      // [name, value] when allowed; an error (NOPERM) keeps the default.
      if (reply.is_array() && reply.elements.size() == 2)
        if (auto v = std::strtoull(reply.elements[1].str.c_str(), nullptr, 10); v > 0)
          st.max_bulk = v;
      st.pending.pop_front();
      return;
    }
    case pending_request::kind::handshake: {
      auto taken = std::move(req);
      st.pending.pop_front();
      on_handshake_reply(self, taken, reply);
      return;
    }
    case pending_request::kind::single:
      if (reply.is_error())
        req.promise.deliver(error_from_reply(reply.str));
      else
        req.promise.deliver(std::move(reply));
      break;
    case pending_request::kind::pipeline:
      req.replies.emplace_back(std::move(reply));
      if (--req.remaining > 0)
        return;
      req.promise.deliver(std::move(req.replies));
      break;
  }
  st.pending.pop_front();
}

/// Common admission for both request shapes; returns false (and answers) when
/// the request cannot be written.
bool admit(broker_ptr self, caf::response_promise& rp) {
  auto& st = self->state;
  if (st.current == connection_state::phase::down) {
    // A rejected password will not fix itself by waiting: say so, rather
    // than a generic "unavailable".
    auto code = code_of(st.last_error);
    if (code != sec::auth_failed && code != sec::no_permission)
      code = sec::redis_unavailable;
    rp.deliver(
      make_error(code, "redis " + st.endpoint + " is unavailable"
                         + (st.last_error ? " (" + context_text(st.last_error) + ")" : "")));
    return false;
  }
  if (st.pending.size() >= st.opts.max_queued) {
    rp.deliver(make_error(sec::backpressure, "more than " + std::to_string(st.opts.max_queued)
                                               + " requests pending at redis " + st.endpoint));
    return false;
  }
  return true;
}

caf::behavior connection(broker_ptr self, redis_options opts, caf::actor listener) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.listener = std::move(listener);
  st.retry = rill::backoff{st.opts.reconnect_min, st.opts.reconnect_max};
  st.resolve_error = resolve(st);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    fail_all(self, make_error(sec::stopped, "connection actor stopped"));
    self->quit(msg.reason);
  });
  connect(self);
  return {
    [self](redis_command& cmd) -> caf::result<redis_reply> {
      auto rp = self->make_response_promise();
      if (auto err = too_long(self->state, cmd)) {
        rp.deliver(std::move(err));
      } else if (admit(self, rp)) {
        pending_request req;
        req.promise = rp;
        write(self, cmd, std::move(req));
        self->flush(self->state.hdl);
        arm_tick(self);
      }
      return caf::delegated<redis_reply>{};
    },
    [self](std::vector<redis_command>& cmds) -> caf::result<std::vector<redis_reply>> {
      auto rp = self->make_response_promise();
      if (cmds.empty()) {
        rp.deliver(std::vector<redis_reply>{});
        return caf::delegated<std::vector<redis_reply>>{};
      }
      for (const auto& cmd : cmds)
        if (auto err = too_long(self->state, cmd)) {
          rp.deliver(std::move(err));
          return caf::delegated<std::vector<redis_reply>>{};
        }
      if (admit(self, rp)) {
        auto& st = self->state;
        pending_request req;
        auto& out = out_buf(self, req);
        for (const auto& cmd : cmds)
          encode(cmd, out);
        req.what = pending_request::kind::pipeline;
        req.promise = rp;
        req.remaining = cmds.size();
        req.replies.reserve(cmds.size());
        caf::timespan blocks{0};
        for (const auto& cmd : cmds)
          blocks += cmd.blocks_for;
        auto timeout = st.opts.request_timeout + blocks;
        if (st.current != connection_state::phase::ready)
          timeout += st.opts.connect_timeout;
        req.deadline = clock_type::now() + timeout;
        req.name = cmds.front().argv.empty() ? "" : cmds.front().argv.front();
        st.pending.emplace_back(std::move(req));
        self->flush(st.hdl);
        arm_tick(self);
      }
      return caf::delegated<std::vector<redis_reply>>{};
    },
    [self](caf::io::new_data_msg& msg) {
      auto& st = self->state;
      if (msg.handle != st.hdl || st.current == connection_state::phase::down)
        return;
      st.reader.feed(msg.buf.data(), msg.buf.size());
      redis_reply reply;
      for (;;) {
        auto got = st.reader.next(reply);
        if (!got) {
          close_with(self, got.error());
          return;
        }
        if (!*got)
          break;
        on_reply(self, reply);
        if (st.current == connection_state::phase::down)
          return;
      }
    },
    [self](caf::io::connection_closed_msg& msg) {
      auto& st = self->state;
      if (msg.handle != st.hdl)
        return;
      close_with(self, st.current == connection_state::phase::connecting
                         ? make_error(sec::connect_failed, "cannot connect to redis " + st.endpoint)
                         : make_error(sec::connection_lost,
                                      "redis " + st.endpoint + " closed the connection"));
    },
    [self](tick_atom) {
      auto& st = self->state;
      st.tick_armed = false;
      if (st.pending.empty() || st.current == connection_state::phase::down)
        return;
      auto& front = st.pending.front();
      if (front.deadline <= clock_type::now()) {
        close_with(self,
                   make_error(sec::request_timeout, "no reply to " + front.name + " from redis "
                                                      + st.endpoint + " in time"));
        return;
      }
      arm_tick(self);
    },
    [self](deadline_atom, uint64_t attempt) {
      auto& st = self->state;
      if (attempt == st.attempt && st.current == connection_state::phase::connecting)
        close_with(
          self, make_error(sec::connect_failed,
                           "no connection to redis " + st.endpoint + " within "
                             + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                st.opts.connect_timeout)
                                                .count())
                             + " ms"));
    },
    [self](reconnect_atom) {
      if (self->state.current == connection_state::phase::down)
        connect(self);
    },
  };
}

} // namespace

caf::actor spawn_redis_connection(caf::actor_system& sys, redis_options opts, caf::actor listener) {
  return sys.middleman().spawn_broker(connection, std::move(opts), std::move(listener));
}

} // namespace rill
