#pragma once

// The part of a connection actor (actors/redis_connection.cpp) that a
// requester on a scheduler thread uses directly: the connection core, its
// output buffer, the socket and the reply targets, behind one lock.
//
// Why: a request sent to the broker's mailbox wakes the I/O multiplexer
// thread through its pipe (a pipe write, an epoll round, a pipe read) only
// for that thread to call send(). At a moderate rate every XREADGROUP and
// XACK paid that wake-up (docs/architecture.md#threads). Through the link the
// requester encodes the command and sends it itself, with the same
// non-blocking send() the broker used; replies still arrive on the I/O
// thread, which answers the requester directly.
//
// What stays on the I/O thread: reading, the scribe (bytes that send() did
// not take, and everything while connecting), the handshake, closing and
// reconnecting, the deadline timer. The lock is held only for the core's
// bookkeeping and one send(); it is recursive because the core's callbacks
// (answer, up, down) run inside core calls the broker makes with the lock.

#include <rill/actors/interfaces.hpp>
#include <rill/actors/redis/connection_core.hpp>
#include <rill/actors/redis/tls_session.hpp>

#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>
#include <caf/message_id.hpp>
#include <caf/response_promise.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

namespace rill {

/// Where the answer to one request goes: the promise of a request that came
/// through the broker's mailbox, or the requester itself, as the response to
/// its request ID (a request made through the link).
struct reply_target {
  caf::response_promise promise;
  caf::strong_actor_ptr requester;
  caf::message_id id;

  void deliver(connection_core::answer&& result);
};

class connection_link {
public:
  using lock_type = std::unique_lock<std::recursive_mutex>;

  /// The link of `conn` if it is a connection actor of this process, else
  /// null (a scripted connection in tests, or one on another node).
  static std::shared_ptr<connection_link> find(const connection_actor& conn);
  /// Makes the link findable from its connection actor, until `forget`.
  static void enlist(const caf::actor_addr& conn, const std::shared_ptr<connection_link>& link);
  static void forget(const caf::actor_addr& conn);

  explicit connection_link(caf::actor_system& sys) : sys_(sys) {}

  /// A request from `requester` under request ID `id`, on the requester's
  /// thread. Refused requests (down, too large, the actor stopped) are
  /// answered at once.
  void submit(const redis_command& cmd, caf::strong_actor_ptr requester, caf::message_id id);
  void submit(const std::vector<redis_command>& cmds, caf::strong_actor_ptr requester,
              caf::message_id id);

  // -- for the broker (with the lock held) ---------------------------------------------

  /// Sends `out` with one non-blocking send() when the socket takes bytes
  /// directly now (ready, nothing queued in the scribe or for it). What it
  /// does not take stays in `out`.
  void send_out();
  /// Schedules the broker's deadline tick for the earliest pending deadline,
  /// unless one is due earlier already.
  void arm_tick();
  /// Submits what requesters sent before the broker made its core (the
  /// broker starts on the multiplexer thread, after spawn returned).
  void submit_early();

  std::recursive_mutex mutex;
  std::optional<connection_core> core;
  /// What the core wrote and nobody sent yet (with TLS: records).
  std::vector<char> out;
  /// With TLS: the session of this connection attempt, the core's plaintext
  /// before `seal` turns it into records in `out`, and a failure of that
  /// (the broker closes the connection with it).
  std::unique_ptr<tls_session> tls;
  std::vector<char> plain;
  caf::error tls_error;
  /// Encrypts what the core wrote (no-op without TLS).
  void seal();
  /// One target per caller request the core holds, oldest first.
  std::deque<reply_target> targets;
  caf::actor_addr broker;
  int fd = -1;
  bool ready = false;       ///< the handshake is done (between up and down)
  bool scribe_busy = false; ///< the scribe holds bytes: new ones queue behind
  /// A requester left bytes in `out` and asked the broker to write them.
  bool flush_posted = false;
  bool stopped = false; ///< the broker is gone
  bool tick_armed = false;
  connection_core::clock_type::time_point tick_at;
  /// Requests that came before the core, in order.
  std::vector<std::pair<std::variant<redis_command, std::vector<redis_command>>, reply_target>>
    early;

private:
  template <class Request>
  void submit_impl(const Request& req, caf::strong_actor_ptr requester, caf::message_id id);

  caf::actor_system& sys_;
};

} // namespace rill
