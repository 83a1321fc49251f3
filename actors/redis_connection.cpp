#include <rill/actors/redis_connection.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/redis/connection_core.hpp>

#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>

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

/// The core's output, onto the broker: bytes to the scribe, answers to the
/// callers' promises (in submission order), up/down to the listener.
class broker_sink : public connection_core::sink {
public:
  broker_ptr self = nullptr;
  /// One promise per caller request the core holds, oldest first.
  std::deque<caf::response_promise> promises;

  std::vector<char>& wire() override;
  void answer(connection_core::answer&& result) override;
  void up(int64_t client_id) override;
  void down(const caf::error& err, caf::timespan retry_in) override;
};

struct connection_state {
  redis_options opts;
  caf::actor listener;
  std::shared_ptr<connection_metrics> metrics; // never null
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  caf::error resolve_error;
  caf::io::connection_handle hdl;
  int fd = -1;
  /// What the core wrote and nobody sent yet (see push_out).
  std::vector<char> out;
  /// The scribe holds bytes it has not written yet: new bytes queue behind.
  bool scribe_busy = false;
  bool ready = false; ///< the handshake is done (between up and down)
  uint64_t attempt = 0;
  bool tick_armed = false;
  clock_type::time_point tick_at;
  broker_sink sink;
  std::optional<connection_core> core;

  static inline const char* name = "rill.redis_connection";
};

std::vector<char>& broker_sink::wire() {
  return self->state.out;
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
  auto& st = self->state;
  if (st.out.empty())
    return;
  size_t sent = 0;
  if (st.ready && !st.scribe_busy) {
    auto n = ::send(st.fd, st.out.data(), st.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
      sent = static_cast<size_t>(n);
  }
  if (sent < st.out.size()) {
    auto& buf = self->wr_buf(st.hdl);
    buf.insert(buf.end(), st.out.begin() + static_cast<std::ptrdiff_t>(sent), st.out.end());
    st.scribe_busy = true;
    self->flush(st.hdl);
  }
  st.out.clear();
}

void broker_sink::answer(connection_core::answer&& result) {
  auto rp = std::move(promises.front());
  promises.pop_front();
  if (!rp.pending())
    return;
  std::visit([&](auto& x) { rp.deliver(std::move(x)); }, result);
}

void broker_sink::up(int64_t client_id) {
  self->state.ready = true;
  self->state.metrics->up.store(true, std::memory_order_relaxed);
  self->state.metrics->connects.fetch_add(1, std::memory_order_relaxed);
  push_out(self); // the requests held behind the handshake
  if (self->state.listener)
    self->send(self->state.listener, conn_up_atom::value, client_id);
}

void broker_sink::down(const caf::error& err, caf::timespan retry_in) {
  self->state.ready = false;
  self->state.metrics->up.store(false, std::memory_order_relaxed);
  self->state.metrics->losses.fetch_add(1, std::memory_order_relaxed);
  self->close(self->state.hdl);
  if (self->state.listener)
    self->send(self->state.listener, conn_down_atom::value, err);
  self->delayed_send(self, retry_in, reconnect_atom::value);
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

/// One timer for the earliest request deadline (not one per request).
void arm_tick(broker_ptr self) {
  auto& st = self->state;
  auto when = st.core->next_deadline();
  if (!when || (st.tick_armed && st.tick_at <= *when))
    return;
  st.tick_armed = true;
  st.tick_at = *when;
  auto delay = std::max(*when - clock_type::now(), clock_type::duration{1ms});
  self->delayed_send(self, delay, tick_atom::value);
}

void connect(broker_ptr self) {
  auto& st = self->state;
  auto& core = *st.core;
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
  st.fd = fd;
  st.out.clear();
  st.scribe_busy = false;
  st.ready = false;
  self->configure_read(st.hdl, caf::io::receive_policy::at_most(64 * 1024));
  self->ack_writes(st.hdl, true); // tells when the scribe has written all it holds
  ++st.attempt;
  core.connecting(clock_type::now());
  push_out(self);
  arm_tick(self);
  self->delayed_send(self, st.opts.connect_timeout, deadline_atom::value, st.attempt);
}

/// Submits a request the core accepts; answers a refused one at once.
template <class Request>
void submit(broker_ptr self, const Request& req, caf::response_promise rp) {
  auto& st = self->state;
  if (auto err = st.core->refuse(req)) {
    rp.deliver(std::move(err));
    return;
  }
  st.sink.promises.emplace_back(std::move(rp));
  st.core->submit(req, clock_type::now());
  push_out(self);
  arm_tick(self);
}

caf::behavior connection(broker_ptr self, redis_options opts, caf::actor listener,
                         std::shared_ptr<connection_metrics> metrics) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.listener = std::move(listener);
  st.metrics = std::move(metrics);
  self->attach_functor([m = st.metrics] { m->up.store(false, std::memory_order_relaxed); });
  st.sink.self = self;
  st.core.emplace(st.opts, st.sink);
  st.resolve_error = resolve(st);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    self->state.core->fail_all(make_error(sec::stopped, "connection actor stopped"));
    self->quit(msg.reason);
  });
  connect(self);
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
      if (msg.handle == self->state.hdl)
        self->state.core->received(msg.buf.data(), msg.buf.size());
    },
    [self](caf::io::data_transferred_msg& msg) {
      if (msg.handle == self->state.hdl && msg.remaining == 0)
        self->state.scribe_busy = false;
    },
    [self](caf::io::connection_closed_msg& msg) {
      auto& st = self->state;
      if (msg.handle != st.hdl)
        return;
      auto& core = *st.core;
      core.close(core.current() == connection_core::phase::connecting
                   ? make_error(sec::connect_failed, "cannot connect to redis " + core.endpoint())
                   : make_error(sec::connection_lost,
                                "redis " + core.endpoint() + " closed the connection"));
    },
    [self](tick_atom) {
      auto& st = self->state;
      st.tick_armed = false;
      st.core->check_deadline(clock_type::now());
      if (st.core->current() != connection_core::phase::down)
        arm_tick(self);
    },
    [self](deadline_atom, uint64_t attempt) {
      auto& st = self->state;
      auto& core = *st.core;
      if (attempt == st.attempt && core.current() == connection_core::phase::connecting)
        core.close(
          make_error(sec::connect_failed,
                     "no connection to redis " + core.endpoint() + " within "
                       + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          st.opts.connect_timeout)
                                          .count())
                       + " ms"));
    },
    [self](reconnect_atom) {
      if (self->state.core->current() == connection_core::phase::down)
        connect(self);
    },
  };
}

} // namespace

connection_actor spawn_redis_connection(caf::actor_system& sys, redis_options opts,
                                        caf::actor listener,
                                        std::shared_ptr<connection_metrics> metrics) {
  if (!metrics)
    metrics = std::make_shared<connection_metrics>();
  // The broker's full behaviour also takes I/O events and its own timers;
  // others get the typed request interface only.
  return caf::actor_cast<connection_actor>(sys.middleman().spawn_broker(
    connection, std::move(opts), std::move(listener), std::move(metrics)));
}

} // namespace rill
