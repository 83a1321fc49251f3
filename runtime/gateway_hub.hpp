#pragma once

// Internal to the runtime (not installed): one stream of the gateway.

#include <rill/actors/tail_subscriber.hpp>
#include <rill/runtime/http_stream.hpp>
#include <rill/runtime/settings.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rill {

class http_server;

/// Runs functions on the HTTP server's thread from actors, until the server
/// goes (then they are dropped).
class server_poster {
public:
  void attach(http_server* server);
  void post(std::function<void()> fn);

private:
  std::mutex mtx_;
  http_server* server_ = nullptr;
};

/// The gateway's figures (/metrics, /readyz); written on the server's thread.
struct gateway_counters {
  std::atomic<uint64_t> clients{0};
  std::atomic<uint64_t> streams{0};
  std::atomic<uint64_t> events_sent{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> gaps{0};
  std::atomic<uint64_t> resumed_from_memory{0};
  std::atomic<uint64_t> resumed_from_redis{0};
};

/// One stream's event-stream clients, on the HTTP server's thread.
///
/// A tailer (actors/tailer.hpp) follows the stream; one subscriber of it,
/// the hub's feed, turns each entry into its event text once, and the hub
/// keeps the last `gateway.replay` of them - contiguous: every entry of the
/// stream from the first kept to the last - and writes each to every live
/// client (the same bytes, shared). A client that asks after an ID the
/// kept events cover starts from them; an older ID gets a subscriber of its
/// own that catches up from Redis (XRANGE, with credits granted only as its
/// socket drains), told of a gap if the stream was trimmed past it, and
/// that client joins the live clients as soon as the kept events reach back
/// to its last ID. A client is sent an entry only if its ID is above the
/// last it was sent: no duplicate, whichever way the entry came.
class gateway_hub : public std::enable_shared_from_this<gateway_hub> {
public:
  struct context {
    caf::actor_system& sys;
    const gateway_settings& cfg;
    std::shared_ptr<server_poster> poster;
    gateway_counters& counters;
  };

  gateway_hub(context ctx, std::string stream, caf::actor tailer);

  /// Ends the feeds and the tailer and closes every client.
  ~gateway_hub();

  /// Starts the feed (after construction: it needs a weak pointer to this).
  void start();

  /// Adds a client that asked for entries after `from` (an entry ID; empty:
  /// from now on).
  void attach(std::shared_ptr<http_stream> out, std::string from);

  /// Sends `beat` to every client.
  void heartbeat(const std::shared_ptr<const std::string>& beat);

  const std::string& stream() const noexcept { return stream_; }
  size_t clients() const noexcept { return clients_.size(); }
  /// When the last client went (steady ns; 0 while there are clients).
  int64_t idle_since_ns() const noexcept { return idle_since_ns_; }

private:
  struct event {
    std::string id;
    std::shared_ptr<const std::string> text;
  };
  struct client;

  /// Subscriber callbacks that make each entry's event text on the
  /// subscriber's thread and hand it (and gaps) to this hub on the server's
  /// thread, while the hub lives.
  tail_callbacks posting(std::function<void(gateway_hub&, const event&)> on_event,
                         std::function<void(gateway_hub&, const std::string&)> on_gap);
  void on_event(event ev);
  void on_gap(const std::string& first_available);
  void on_private_event(client& c, const event& ev);
  void on_private_gap(client& c, const std::string& first_available);
  void catch_up_from_redis(const std::shared_ptr<client>& c);
  /// Moves `c` to the live clients if the kept events reach back to its
  /// last ID (sending it those after it).
  bool try_join(client& c);
  /// Sends (or with `now` false, queues: `flush_all` writes) `ev` to `c`.
  void send(client& c, const event& ev, bool now = true);
  void flush_all();
  void grant_credit(client& c);
  void remove(const client* c);

  context ctx_;
  std::string stream_;
  caf::actor tailer_;
  caf::actor feed_;
  std::deque<event> kept_;
  std::vector<std::shared_ptr<client>> clients_;
  int64_t idle_since_ns_ = 0;
  bool flush_posted_ = false;
};

} // namespace rill
