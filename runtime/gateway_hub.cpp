#include <rill/runtime/gateway_hub.hpp>

#include <rill/actors/clock.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/stream_entry.hpp>
#include <rill/actors/tail_subscriber.hpp>
#include <rill/runtime/http_server.hpp>
#include <rill/runtime/sse_event.hpp>

#include <caf/send.hpp>

#include <algorithm>

namespace rill {

void server_poster::attach(http_server* server) {
  std::lock_guard<std::mutex> guard{mtx_};
  server_ = server;
}

void server_poster::post(std::function<void()> fn) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (server_ != nullptr)
    server_->post(std::move(fn));
}

struct gateway_hub::client {
  std::shared_ptr<http_stream> out;
  /// The ID the client asked after (what a gap event names).
  std::string from;
  /// The last entry ID it was sent (empty: none yet).
  std::string last;
  /// Its own subscriber while it catches up from Redis; null once live.
  caf::actor feed;
  /// Entries its feed sent that were not granted back yet.
  uint32_t owed = 0;
  bool live = false;
};

namespace {

/// Entries a catching-up client's subscriber may have on the way.
constexpr uint32_t catch_up_window = 256;

} // namespace

gateway_hub::gateway_hub(context ctx, std::string stream, caf::actor tailer) :
  ctx_(ctx), stream_(std::move(stream)), tailer_(std::move(tailer)),
  idle_since_ns_(steady_now_ns()) {}

gateway_hub::~gateway_hub() {
  for (auto& c : clients_) {
    if (c->feed)
      caf::anon_send_exit(c->feed, caf::exit_reason::user_shutdown);
    c->out->close();
  }
  ctx_.counters.clients -= clients_.size();
  if (feed_)
    caf::anon_send_exit(feed_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(tailer_, caf::exit_reason::user_shutdown);
}

tail_callbacks gateway_hub::posting(std::function<void(gateway_hub&, const event&)> on_event,
                                    std::function<void(gateway_hub&, const std::string&)> on_gap) {
  std::weak_ptr<gateway_hub> self = shared_from_this();
  auto poster = ctx_.poster;
  tail_callbacks cb;
  // The event text is made here, on the subscriber's scheduler thread.
  cb.on_entry = [self, poster, field = ctx_.cfg.event_field, on_event](const stream_entry& e) {
    poster->post(
      [self, on_event, ev = event{e.id, std::make_shared<const std::string>(sse_event(e, field))}] {
        if (auto h = self.lock())
          on_event(*h, ev);
      });
  };
  cb.on_gap = [self, poster, on_gap](const std::string& first) {
    poster->post([self, on_gap, first] {
      if (auto h = self.lock())
        on_gap(*h, first);
    });
  };
  return cb;
}

void gateway_hub::start() {
  // One feed for all live clients: each entry's text is made once.
  feed_ = spawn_tail_subscriber(
    ctx_.sys, tailer_, {},
    posting([](gateway_hub& h, const event& ev) { h.on_event(ev); },
            [](gateway_hub& h, const std::string& first) { h.on_gap(first); }));
}

void gateway_hub::attach(std::shared_ptr<http_stream> out, std::string from) {
  auto c = std::make_shared<client>();
  c->out = std::move(out);
  c->from = from;
  c->last = std::move(from);
  clients_.push_back(c);
  ++ctx_.counters.clients;
  idle_since_ns_ = 0;
  std::weak_ptr<gateway_hub> self = shared_from_this();
  const client* key = c.get();
  c->out->on_close([self, key] {
    if (auto h = self.lock())
      h->remove(key);
  });
  std::weak_ptr<client> wc = c;
  c->out->on_written([self, wc] {
    auto h = self.lock();
    auto cl = wc.lock();
    if (h && cl)
      h->grant_credit(*cl);
  });
  if (c->last.empty()) {
    c->live = true; // from now on: the next event the feed brings
    return;
  }
  if (try_join(*c)) {
    ++ctx_.counters.resumed_from_memory;
    return;
  }
  ++ctx_.counters.resumed_from_redis;
  catch_up_from_redis(c);
}

void gateway_hub::catch_up_from_redis(const std::shared_ptr<client>& c) {
  std::weak_ptr<client> wc = c;
  auto cb = posting(
    [wc](gateway_hub& h, const event& ev) {
      if (auto cl = wc.lock())
        h.on_private_event(*cl, ev);
    },
    [wc](gateway_hub& h, const std::string& first) {
      if (auto cl = wc.lock())
        h.on_private_gap(*cl, first);
    });
  cb.caller_grants_credit = true; // as the socket drains (grant_credit)
  c->feed = spawn_tail_subscriber(ctx_.sys, tailer_, c->last, std::move(cb), catch_up_window);
}

void gateway_hub::send(client& c, const event& ev, bool now) {
  if (c.out->closed() || (!c.last.empty() && compare_ids(ev.id, c.last) <= 0))
    return; // seen already (it came both ways)
  if (!(now ? c.out->send(ev.text) : c.out->queue(ev.text))) {
    ++ctx_.counters.dropped; // past its buffer: closed; it resumes from c.last
    return;
  }
  c.last = ev.id;
  ++ctx_.counters.events_sent;
}

bool gateway_hub::try_join(client& c) {
  if (kept_.empty() || compare_ids(kept_.front().id, c.last) > 0)
    return false;
  auto after = std::upper_bound(
    kept_.begin(), kept_.end(), c.last,
    [](const std::string& id, const event& ev) { return compare_ids(id, ev.id) < 0; });
  for (; after != kept_.end(); ++after)
    send(c, *after);
  c.live = true;
  if (c.feed) {
    caf::anon_send_exit(c.feed, caf::exit_reason::user_shutdown);
    c.feed = nullptr;
  }
  return true;
}

void gateway_hub::on_event(event ev) {
  kept_.push_back(ev);
  while (kept_.size() > std::max<uint64_t>(1, ctx_.cfg.replay))
    kept_.pop_front();
  for (auto& c : clients_) {
    if (c->live)
      send(*c, ev, false);
    else if (!c->last.empty())
      try_join(*c);
  }
  // One write per client for this event and any that come before the flush
  // runs: when writing to every client takes longer than the gap between
  // entries, the entries that came meanwhile leave together.
  if (!flush_posted_) {
    flush_posted_ = true;
    std::weak_ptr<gateway_hub> self = shared_from_this();
    ctx_.poster->post([self] {
      if (auto h = self.lock())
        h->flush_all();
    });
  }
}

void gateway_hub::flush_all() {
  flush_posted_ = false;
  for (auto& c : clients_)
    c->out->flush();
}

void gateway_hub::on_gap(const std::string& first_available) {
  // The feed itself fell behind a trim (its resubscription came too late):
  // the kept events are no longer contiguous with what follows.
  kept_.clear();
  for (auto& c : clients_)
    if (c->live
        && c->out->send(
          std::make_shared<const std::string>(sse_gap_event(c->last, first_available))))
      ++ctx_.counters.gaps;
}

void gateway_hub::on_private_event(client& c, const event& ev) {
  if (c.live || !c.feed)
    return; // joined the live clients; this one came the other way too
  send(c, ev);
  ++c.owed;
  if (!try_join(c))
    grant_credit(c);
}

void gateway_hub::on_private_gap(client& c, const std::string& first_available) {
  if (c.live)
    return;
  ++ctx_.counters.gaps;
  c.out->send(std::make_shared<const std::string>(sse_gap_event(c.last, first_available)));
}

void gateway_hub::grant_credit(client& c) {
  // Half the bound left: the socket keeps up; more entries may come.
  if (!c.feed || c.owed == 0 || c.out->queued_bytes() > ctx_.cfg.client_buffer / 2)
    return;
  caf::anon_send(c.feed, credit_atom::value, c.owed);
  c.owed = 0;
}

void gateway_hub::heartbeat(const std::shared_ptr<const std::string>& beat) {
  for (auto& c : clients_)
    if (!c->out->closed() && !c->out->send(beat))
      ++ctx_.counters.dropped;
}

void gateway_hub::remove(const client* c) {
  auto at = std::find_if(clients_.begin(), clients_.end(),
                         [c](const std::shared_ptr<client>& x) { return x.get() == c; });
  if (at == clients_.end())
    return;
  if ((*at)->feed)
    caf::anon_send_exit((*at)->feed, caf::exit_reason::user_shutdown);
  clients_.erase(at);
  --ctx_.counters.clients;
  if (clients_.empty())
    idle_since_ns_ = steady_now_ns();
}

} // namespace rill
