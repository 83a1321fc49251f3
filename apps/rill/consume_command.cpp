#include "commands.hpp"
#include "json_line.hpp"
#include "seq_callbacks.hpp"
#include <rill/actors/error.hpp>
#include <rill/actors/redis/key_slot.hpp>
#include <rill/runtime/runtime.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

namespace rill::cli {

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace

int consume_command(cli_config& cfg) {
  cfg.consumer.limit = cfg.count;
  if (!cfg.forward_to.empty() && cfg.effect_counter.empty())
    return config_error("consume", "--forward-to needs --effect-counter");
  if (auto err = validate(cfg.consumer))
    return config_error("consume", describe(err));
  seq_tally tally;
  if (!cfg.record.empty())
    if (auto err = tally.open_record(cfg.record); !err.empty())
      return config_error("consume", err);
  runtime rt{cfg};
  auto& c = rt.add_consumer(cfg.consumer);
  // The drill's keys are declared up front: in a cluster they must share the
  // stream's slot (one script), or no entry could ever be applied.
  for (const auto& key : {cfg.effect_counter, cfg.forward_to})
    if (rt.cluster() && !key.empty() && key_slot(key) != key_slot(cfg.consumer.stream))
      return config_error("consume",
                          "'" + key + "' is in hash slot " + std::to_string(key_slot(key))
                            + ", the stream in " + std::to_string(key_slot(cfg.consumer.stream))
                            + ": effect keys need the stream's hash tag in Redis Cluster");
  add_seq_callbacks(c.callbacks(), cfg, tally);
  auto start_ns = now_ns();
  rt.start();
  const auto& m = c.metrics();
  auto last_ns = start_ns;
  uint64_t last_processed = 0;
  auto rc = rt.run({}, [&] {
    auto t = now_ns();
    auto processed = m.processed.load();
    auto rate = (processed - last_processed) * 1e9 / std::max<int64_t>(1, t - last_ns);
    last_ns = t;
    last_processed = processed;
    auto err = m.last_error();
    progress("processed " + grouped(processed) + "  acked " + grouped(m.acked) + "  in flight "
             + std::to_string(m.in_flight) + "  " + grouped(static_cast<uint64_t>(rate)) + "/s"
             + (err.empty() ? "" : "  error: " + err));
  });
  auto end_ns = now_ns();
  progress_done();
  // From the first delivery to the reader's end (all acks confirmed).
  auto begin = m.first_delivery_ns != 0 ? m.first_delivery_ns.load() : start_ns;
  auto end = m.finished_ns != 0 ? m.finished_ns.load() : end_ns;
  auto seconds = std::max(1e-9, (end - begin) / 1e9);
  auto processed = m.processed.load();
  spdlog::info("consumer {}: {} deliveries in {} reads ({:.1f} per read), {} XACKs ({:.1f} IDs "
               "each), {} failed, {} redelivered, {} dead-lettered, {} claimed",
               m.consumer_name, m.delivered.load(), m.reads.load(),
               m.delivered / std::max(1.0, double(m.reads)), m.ack_batches.load(),
               m.acked / std::max(1.0, double(m.ack_batches)), m.failed.load(),
               m.redelivered.load(), m.dead_lettered.load(), m.claimed.load());
  if (m.effect_scripts > 0)
    spdlog::info("consumer {}: {} entries' effects applied with their XACK in {} scripts, {} "
                 "fenced",
                 m.consumer_name, m.effects_applied.load(), m.effect_scripts.load(),
                 m.fenced.load());
  nlohmann::ordered_json line{{"impl", "rill"},
                              {"processed", processed},
                              {"seconds", rounded(seconds, 3)},
                              {"msgs_per_s", whole(processed / seconds)},
                              {"checksum", tally.checksum.load()}};
  if (!cfg.effect_counter.empty()) {
    line["effects_applied"] = m.effects_applied.load();
    line["fenced"] = m.fenced.load();
  }
  tally.add_latency(line);
  std::puts(json_line(line).c_str());
  std::fflush(stdout);
  if (rc != 0)
    return rc;
  if (m.dead_lettered > 0)
    spdlog::warn("{} entries were dead-lettered to {}", m.dead_lettered.load(),
                 c.options().dead_letter_stream);
  return 0;
}

} // namespace rill::cli
