#pragma once

// The protocol half of a Redis connection, without a socket: the FIFO of
// pending requests, the handshake (AUTH, SELECT, CLIENT SETNAME, CONFIG GET
// proto-max-bulk-len, CLIENT ID), requests held until the handshake is done,
// deadlines, and the close/reconnect transitions. Bytes go in (`received`),
// bytes and events come out through a `connection_core::sink`. The
// connection actor (actors/redis_connection.cpp) owns the socket and the
// timers; the unit tests drive this class directly, byte by byte.

#include <rill/actors/backoff.hpp>
#include <rill/actors/options.hpp>
#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/reply.hpp>
#include <rill/actors/redis/reply_reader.hpp>

#include <caf/error.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace rill {

class connection_core {
public:
  using clock_type = std::chrono::steady_clock;
  enum class phase : uint8_t { down, connecting, ready };

  /// The outcome of one caller's request: a reply, a pipeline's replies (error
  /// replies stay in them), or an error.
  using answer = std::variant<redis_reply, std::vector<redis_reply>, caf::error>;

  /// Where the core's output goes.
  class sink {
  public:
    virtual ~sink() = default;
    /// The buffer of bytes for the socket (flushed by the owner after a call).
    virtual std::vector<char>& wire() = 0;
    /// The answer to the oldest unanswered request, in submission order.
    virtual void answer(connection_core::answer&& result) = 0;
    /// Handshake done; `client_id` from CLIENT ID.
    virtual void up(int64_t client_id) = 0;
    /// The connection is given up: close the socket, call `connecting` again
    /// after `retry_in`.
    virtual void down(const caf::error& err, caf::timespan retry_in) = 0;
    /// A message on a subscribed connection (`["message", channel, payload]`),
    /// which answers no request.
    virtual void push(redis_reply&& message) { (void)message; }
  };

  connection_core(redis_options opts, sink& out);

  phase current() const noexcept { return phase_; }
  const std::string& endpoint() const noexcept { return endpoint_; }
  /// The server's proto-max-bulk-len (Redis' default until it told us).
  uint64_t max_bulk() const noexcept { return max_bulk_; }
  size_t pending() const noexcept { return pending_.size(); }

  /// A socket is open and connecting: writes the handshake.
  void connecting(clock_type::time_point now);

  /// The next connect goes to `ep` (Sentinel named another master). Down only.
  void retarget(const redis_endpoint& ep);

  /// Why a request cannot be sent now (down, too many pending, an argument
  /// longer than the server takes), or none. A refused request is answered
  /// by the caller, not by the core.
  caf::error refuse(const std::vector<redis_command>& cmds) const;
  caf::error refuse(const redis_command& cmd) const;

  /// Sends (or holds until the handshake is done) one request.
  void submit(const redis_command& cmd, clock_type::time_point now);
  /// Sends a pipeline: one answer with all its replies.
  void submit(const std::vector<redis_command>& cmds, clock_type::time_point now);

  /// Bytes from the socket.
  void received(const char* data, size_t size);

  /// No socket could be opened (resolve, socket(), connect() failed).
  void connect_failed(caf::error reason);

  /// The socket closed (or the connect failed, or its deadline passed): fail
  /// what is pending and go down. Ignored when down already.
  void close(caf::error reason);

  /// The earliest deadline of a pending request.
  std::optional<clock_type::time_point> next_deadline() const;
  /// Closes the connection if the oldest request is past its deadline.
  void check_deadline(clock_type::time_point now);

  /// Fails every pending request with `err` (the actor stops).
  void fail_all(const caf::error& err);

private:
  struct request {
    /// `probe`: a handshake step whose error is fine (CONFIG GET for an ACL
    /// user without the permission).
    /// `role`: in Sentinel mode, ROLE must say "master" (a stale address
    /// from the sentinels, or a master demoted since).
    enum class kind : uint8_t { single, pipeline, handshake, probe, role };
    kind what = kind::single;
    size_t remaining = 1;
    std::vector<redis_reply> replies;
    clock_type::time_point deadline;
    /// First argument, for error messages ("no reply to XREADGROUP ...").
    std::string name;
    /// On the socket (not held behind the handshake).
    bool sent = false;
  };

  bool caller_request(const request& r) const noexcept {
    return r.what == request::kind::single || r.what == request::kind::pipeline;
  }
  std::vector<char>& out_buf(request& req);
  void enqueue(request req, const std::string& name, caf::timespan blocks_for,
               clock_type::time_point now);
  void send_handshake(clock_type::time_point now);
  void on_reply(redis_reply& reply);
  void on_handshake_reply(const request& req, redis_reply& reply);
  /// In Sentinel mode: a reply that shows the server is no longer the master
  /// (ROLE other than master, READONLY) closes the connection, so that the
  /// next connect asks the sentinels again. True when it did.
  bool closed_for_role(const request& req, const redis_reply& reply);

  redis_options opts_;
  sink& out_;
  std::string endpoint_;
  phase phase_ = phase::down;
  reply_reader reader_;
  std::deque<request> pending_;
  /// Requests admitted while connecting, encoded, not yet on the socket: a
  /// request written behind a handshake that stalls (a frozen server) would
  /// run later on a connection given up on, without its caller knowing
  /// (DEBUG SLEEP 12 during `rill produce` wrote every batch 6 times).
  std::vector<char> held_;
  /// A longer argument would make Redis close the connection with a protocol
  /// error, so it is refused here.
  uint64_t max_bulk_ = 512ull << 20;
  rill::backoff retry_;
  caf::error last_error_;
  bool ever_connected_ = false;
  /// A SUBSCRIBE was sent on this connection: "message" arrays are pushes.
  bool subscribed_ = false;
};

} // namespace rill
