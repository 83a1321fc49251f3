#include <rill/actors/group_probe.hpp>

#include <rill/actors/clock.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/redis/group_info.hpp>
#include <rill/actors/stream_entry.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

#include <chrono>

namespace rill {

namespace {

struct probe_state {
  std::string stream;
  std::string group;
  connection_actor conn;
  std::shared_ptr<consumer_metrics> metrics;
  caf::timespan interval{0};
  caf::timespan timeout{0};
  /// One error line per streak of failed probes.
  bool failing = false;

  static inline const char* name = "rill.group_probe";
};

using probe_ptr = caf::stateful_actor<probe_state>*;

void next_probe(probe_ptr self) {
  self->delayed_send(self, self->state.interval, tick_atom::value);
}

void failed(probe_ptr self, const caf::error& err) {
  auto& st = self->state;
  if (!st.failing)
    spdlog::debug("group probe {}/{}: {}", st.stream, st.group, describe(err));
  st.failing = true;
  next_probe(self);
}

void done(probe_ptr self) {
  auto& st = self->state;
  st.failing = false;
  st.metrics->group.probed_ns.store(steady_now_ns(), std::memory_order_relaxed);
  next_probe(self);
}

/// The second step: the first entry after last-delivered-id (its age), and,
/// where Redis had no lag figure, the entries after it up to a bound.
void probe_undelivered(probe_ptr self, std::string last_delivered, bool count_them) {
  auto& st = self->state;
  auto count = count_them ? probe_count_bound : 1;
  self->request(st.conn, st.timeout, xrange_after(st.stream, last_delivered, count))
    .then(
      [self, count_them](redis_reply& reply) {
        auto& g = self->state.metrics->group;
        auto ids = parse_range_ids(reply);
        if (!ids) {
          failed(self, ids.error());
          return;
        }
        auto first_ms = ids->empty() ? 0 : id_time_ms(ids->front());
        g.oldest_undelivered_ms.store(first_ms > 0 ? std::max<int64_t>(0, unix_now_ms() - first_ms)
                                                   : 0,
                                      std::memory_order_relaxed);
        if (count_them)
          g.lag.store(static_cast<int64_t>(ids->size()), std::memory_order_relaxed);
        done(self);
      },
      [self](caf::error& err) { failed(self, err); });
}

void probe(probe_ptr self) {
  auto& st = self->state;
  std::vector<redis_command> cmds{xinfo_stream(st.stream), xinfo_groups(st.stream),
                                  xpending_oldest(st.stream, st.group)};
  auto sent = std::chrono::steady_clock::now();
  self->request(st.conn, st.timeout, std::move(cmds))
    .then(
      [self, sent](std::vector<redis_reply>& replies) {
        auto& st = self->state;
        auto& g = st.metrics->group;
        st.metrics->probe_rtt.observe(std::chrono::steady_clock::now() - sent);
        if (replies.size() != 3) {
          failed(self, make_error(sec::unexpected_reply, "probe: short pipeline reply"));
          return;
        }
        auto stream = parse_stream_info(replies[0]);
        auto groups = stream ? parse_groups(replies[1])
                             : caf::expected<std::vector<group_info>>{stream.error()};
        const group_info* mine = nullptr;
        if (groups)
          for (const auto& x : *groups)
            if (x.name == st.group)
              mine = &x;
        if (mine == nullptr) { // no stream, or no such group (yet)
          g.exists.store(false, std::memory_order_relaxed);
          g.lag.store(-1, std::memory_order_relaxed);
          g.pending.store(-1, std::memory_order_relaxed);
          done(self);
          return;
        }
        g.exists.store(true, std::memory_order_relaxed);
        g.length.store(stream->length, std::memory_order_relaxed);
        g.pending.store(mine->pending, std::memory_order_relaxed);
        g.entries_read.store(mine->entries_read, std::memory_order_relaxed);
        auto oldest = parse_oldest_pending(replies[2]);
        g.oldest_pending_idle_ms.store(oldest && *oldest ? (*oldest)->idle_ms : 0,
                                       std::memory_order_relaxed);
        auto lag = mine->lag >= 0 ? std::optional<int64_t>{mine->lag} : derived_lag(*stream, *mine);
        g.lag_estimated.store(mine->lag < 0, std::memory_order_relaxed);
        if (lag)
          g.lag.store(*lag, std::memory_order_relaxed);
        if (lag && *lag == 0) {
          g.oldest_undelivered_ms.store(0, std::memory_order_relaxed);
          done(self);
          return;
        }
        auto from = mine->last_delivered_id.empty() ? std::string{"0-0"} : mine->last_delivered_id;
        probe_undelivered(self, std::move(from), !lag);
      },
      [self](caf::error& err) { failed(self, err); });
}

caf::behavior group_probe(probe_ptr self, std::string stream, std::string group,
                          connection_actor conn, std::shared_ptr<consumer_metrics> metrics,
                          caf::timespan interval, caf::timespan timeout, caf::actor reader) {
  auto& st = self->state;
  st.stream = std::move(stream);
  st.group = std::move(group);
  st.conn = std::move(conn);
  st.metrics = std::move(metrics);
  st.interval = interval;
  st.timeout = timeout;
  if (reader) {
    self->monitor(reader);
    self->set_down_handler([self](const caf::down_msg&) { self->quit(); });
  }
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) { probe(self); },
  };
}

} // namespace

caf::actor spawn_group_probe(caf::actor_system& sys, std::string stream, std::string group,
                             connection_actor conn, std::shared_ptr<consumer_metrics> metrics,
                             caf::timespan interval, caf::timespan timeout, caf::actor reader) {
  return sys.spawn(group_probe, std::move(stream), std::move(group), std::move(conn),
                   std::move(metrics), interval, timeout, std::move(reader));
}

} // namespace rill
