#include <rill/runtime/metrics_exporter.hpp>

#include <rill/runtime/json_text.hpp>
#include <rill/runtime/runtime.hpp>

#include <prometheus/text_serializer.h>

#include <sstream>
#include <unordered_map>

namespace rill {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using labels = std::vector<ClientMetric::Label>;

/// The families in the order they are first added, each filled per consumer.
class families {
public:
  /// The family `name`. Names are literals, so a family is found by the
  /// literal's address first (a scrape of 1,000 consumers asks ~30,000
  /// times: no string made and hashed each time), and by its text when an
  /// address is new, so two equal literals still make one family.
  MetricFamily& get(const char* name, const char* help, MetricType type) {
    if (auto hit = by_address_.find(name); hit != by_address_.end())
      return all_[hit->second];
    auto [at, added] = by_name_.emplace(name, all_.size());
    if (added)
      all_.push_back(MetricFamily{name, help, type, {}});
    by_address_.emplace(name, at->second);
    return all_[at->second];
  }

  void counter(const char* name, const char* help, const labels& l, double v) {
    ClientMetric m;
    m.label = l;
    m.counter.value = v;
    get(name, help, MetricType::Counter).metric.push_back(std::move(m));
  }

  void gauge(const char* name, const char* help, const labels& l, double v) {
    ClientMetric m;
    m.label = l;
    m.gauge.value = v;
    get(name, help, MetricType::Gauge).metric.push_back(std::move(m));
  }

  void histogram(const char* name, const char* help, const labels& l,
                 const rill::histogram::snapshot& s) {
    ClientMetric m;
    m.label = l;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < s.bounds.size() && i < s.counts.size(); ++i) {
      cumulative += s.counts[i];
      m.histogram.bucket.push_back(ClientMetric::Bucket{cumulative, s.bounds[i]});
    }
    m.histogram.sample_count = s.count();
    m.histogram.sample_sum = s.sum;
    // The +Inf bucket is added by the serializer from sample_count.
    get(name, help, MetricType::Histogram).metric.push_back(std::move(m));
  }

  std::vector<MetricFamily> take() { return std::move(all_); }

private:
  std::vector<MetricFamily> all_;
  std::unordered_map<const char*, size_t> by_address_;
  std::unordered_map<std::string, size_t> by_name_;
};

double load(const std::atomic<uint64_t>& x) {
  return static_cast<double>(x.load(std::memory_order_relaxed));
}

/// The three series of one Redis connection.
void add_connection(families& f, const labels& l, const connection_metrics& m) {
  f.gauge("rill_redis_connection_up", "1 while the connection's handshake is done.", l,
          m.up.load(std::memory_order_relaxed) ? 1 : 0);
  auto connects = m.connects.load(std::memory_order_relaxed);
  f.counter("rill_redis_reconnects_total", "Handshakes after the first one.", l,
            connects > 0 ? static_cast<double>(connects - 1) : 0);
  f.counter("rill_redis_connection_losses_total", "Connections lost or failed to connect.", l,
            load(m.losses));
}

void add_consumer(families& f, const consumer& c, bool per_consumer, bool group_histograms) {
  const auto& m = c.metrics();
  labels l{{"stream", utf8_or_replaced(c.options().stream)},
           {"group", utf8_or_replaced(c.options().group)}};
  if (per_consumer)
    l.push_back({"consumer", utf8_or_replaced(m.consumer_name)});
  f.counter("rill_entries_delivered_total", "Entries handed to workers (redeliveries included).", l,
            load(m.delivered));
  f.counter("rill_entries_acked_total",
            "Entries acknowledged by a confirmed XACK (or the effects script).", l, load(m.acked));
  f.counter("rill_entries_nacked_total", "Deliveries whose callbacks failed (nacks).", l,
            load(m.failed));
  f.counter("rill_entries_retried_total", "Failed entries delivered again after their backoff.", l,
            load(m.redelivered));
  f.counter("rill_entries_dead_lettered_total", "Entries written to the dead-letter stream.", l,
            load(m.dead_lettered));
  f.counter("rill_entries_claimed_total", "Entries claimed from other (dead) consumers.", l,
            load(m.claimed));
  f.counter("rill_entries_deleted_acked_total",
            "Pending IDs whose entry was deleted from the stream (acked, never delivered).", l,
            load(m.deleted));
  f.counter("rill_reads_total", "XREADGROUP calls answered.", l, load(m.reads));
  f.counter("rill_xack_commands_total", "XACK commands confirmed.", l, load(m.ack_batches));
  f.counter("rill_xack_failures_total", "XACK commands that failed (retried).", l,
            load(m.ack_failures));
  f.counter("rill_workers_down_total", "Workers that went down (replaced if they crashed).", l,
            load(m.workers_down));
  f.gauge("rill_in_flight", "Entries delivered and not yet acked or nacked.", l,
          m.in_flight.load(std::memory_order_relaxed));
  f.gauge("rill_workers", "Workers known to the reader (local and remote).", l,
          m.workers.load(std::memory_order_relaxed));
  f.gauge("rill_idle_workers", "Workers with no entry (each offers the reader one credit).", l,
          m.idle_workers.load(std::memory_order_relaxed));
  if (load(m.effect_scripts) + load(m.effect_script_failures) > 0) { // staged effects
    f.counter("rill_effects_applied_total",
              "Entries whose staged effects were applied with their XACK (one script).", l,
              load(m.effects_applied));
    f.counter("rill_effects_fenced_total",
              "Entries whose effects the fence stopped: no longer pending for this consumer "
              "(claimed by another) or with another delivery count.",
              l, load(m.fenced));
    f.counter("rill_effect_scripts_total", "Effects scripts answered.", l, load(m.effect_scripts));
    f.counter("rill_effect_script_failures_total",
              "Effects scripts that failed as a whole (sent again; NOSCRIPT included).", l,
              load(m.effect_script_failures));
  }
  if (m.ordered.load(std::memory_order_relaxed)) { // consumer.order-by
    f.gauge("rill_keys_active", "Keys with an entry at a worker (order-by).", l,
            m.keys_active.load(std::memory_order_relaxed));
    f.gauge("rill_key_waiting_entries", "Entries waiting behind a busy key (order-by).", l,
            m.keys_waiting.load(std::memory_order_relaxed));
    f.gauge("rill_key_longest_queue", "The most entries waiting behind one key (order-by).", l,
            m.key_longest_queue.load(std::memory_order_relaxed));
    f.counter("rill_key_waits_total", "Entries that waited behind their key (order-by).", l,
              load(m.key_waits));
    f.gauge("rill_key_parked_entries",
            "Entries parked behind hot keys: pending in Redis, only their IDs held (order-by).", l,
            m.keys_parked.load(std::memory_order_relaxed));
  }
  f.gauge("rill_reader_attached", "1 while the reader reads from an existing group.", l,
          m.attached.load(std::memory_order_relaxed) ? 1 : 0);
  const auto& g = m.group;
  // Group figures come from the probe; a gauge that is not known yet is left out.
  auto known = [&](const char* name, const char* help, int64_t v, double scale = 1) {
    if (v >= 0)
      f.gauge(name, help, l, static_cast<double>(v) * scale);
  };
  known("rill_group_lag", "Entries not yet delivered to the group (XINFO GROUPS lag).",
        g.lag.load(std::memory_order_relaxed));
  known("rill_group_pending", "Entries delivered to the group and not acked (all consumers).",
        g.pending.load(std::memory_order_relaxed));
  known("rill_group_entries_read", "Entries the group has read (XINFO GROUPS entries-read).",
        g.entries_read.load(std::memory_order_relaxed));
  known("rill_stream_length", "XLEN of the stream.", g.length.load(std::memory_order_relaxed));
  if (g.probed_ns.load(std::memory_order_relaxed) != 0 && g.exists.load()) {
    f.gauge("rill_group_lag_estimated", "1 when Redis had no lag figure and rill derived it.", l,
            g.lag_estimated.load(std::memory_order_relaxed) ? 1 : 0);
    known("rill_oldest_undelivered_age_seconds",
          "Age of the first entry after the group's last-delivered-id (0: none).",
          g.oldest_undelivered_ms.load(std::memory_order_relaxed), 1e-3);
    known("rill_oldest_pending_idle_seconds", "Idle time of the group's oldest pending entry.",
          g.oldest_pending_idle_ms.load(std::memory_order_relaxed), 1e-3);
  }
  if (group_histograms) {
    auto timings = m.timings->read();
    f.histogram("rill_callback_duration_seconds",
                "Time from delivery to ack or nack: all callbacks of one entry.", l, timings.first);
    f.histogram("rill_entry_age_seconds",
                "Age of an entry (now - its ID's time) when its first callback starts.", l,
                timings.second);
  }
  auto conn = l;
  conn.push_back({"connection", "reader"});
  add_connection(f, conn, m.connection);
}

} // namespace

std::vector<MetricFamily> metrics_exporter::Collect() const {
  families f;
  const bool group_histograms = !rt_.cfg().metrics.process_histograms;
  for (const auto& c : rt_.consumers())
    add_consumer(f, *c, rt_.cfg().metrics.per_consumer, group_histograms);
  add_connection(f, {{"connection", "shared"}}, rt_.shared_connection_metrics());
  // One series per process for what is not a group's: round trips go over
  // the shared connection (XACK, the probes' XINFO), and with
  // metrics.process-histograms on, the callback histograms are summed here too.
  rill::histogram::snapshot xacks, probes, durations, ages;
  for (const auto& c : rt_.consumers()) {
    c->metrics().xack_rtt.add_to(xacks);
    c->metrics().probe_rtt.add_to(probes);
    if (!group_histograms) {
      auto t = c->metrics().timings->read();
      durations.merge(t.first);
      ages.merge(t.second);
    }
  }
  if (!group_histograms && !durations.counts.empty()) {
    f.histogram("rill_callback_duration_seconds",
                "Time from delivery to ack or nack: all callbacks of one entry.", {}, durations);
    f.histogram("rill_entry_age_seconds",
                "Age of an entry (now - its ID's time) when its first callback starts.", {}, ages);
  }
  const char* rtt_help = "Redis round trips on the shared connection: XACK, the probes' XINFO.";
  if (!xacks.counts.empty())
    f.histogram("rill_redis_round_trip_seconds", rtt_help, {{"command", "XACK"}}, xacks);
  if (!probes.counts.empty())
    f.histogram("rill_redis_round_trip_seconds", rtt_help, {{"command", "XINFO"}}, probes);
  for (const auto& pool : rt_.worker_pools()) {
    labels l{{"stream", utf8_or_replaced(pool.stream)}, {"group", utf8_or_replaced(pool.group)}};
    auto timings = pool.timings->read();
    f.histogram("rill_pool_callback_duration_seconds",
                "Callback durations of worker pools serving readers on other nodes.", l,
                timings.first);
    f.histogram("rill_pool_entry_age_seconds",
                "Entry ages at callback start in worker pools serving readers on other nodes.", l,
                timings.second);
  }
  return f.take();
}

std::string metrics_exporter::text(std::vector<MetricFamily> extra) const {
  std::ostringstream out;
  auto all = Collect();
  all.insert(all.end(), std::make_move_iterator(extra.begin()),
             std::make_move_iterator(extra.end()));
  prometheus::TextSerializer{}.Serialize(out, all);
  return out.str();
}

} // namespace rill
