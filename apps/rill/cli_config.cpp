#include "cli_config.hpp"

namespace rill::cli {

cli_config::cli_config() {
  // One parser per flag, for every subcommand that takes it.
  opt_group{custom_options_, "global"}
    .add(payload_bytes, "payload-bytes", "size of the produced payload field")
    .add(rate, "rate", "entries per second to produce (0: unlimited)")
    .add(keys, "keys",
         "produce: add a field key = k<0..N-1>, pseudo-random by seq, for consumer.order-by=key; "
         "bench keys: only this cardinality")
    .add(record, "record",
         "append every processed seq to this file (after --work-us, before the ack)")
    .add(fail_percent, "fail-percent", "consume: fail entries with seq % 100 < P (drill)")
    .add(work_us_text, "work-us",
         "consume: wait N µs per entry, asynchronously (MIN-MAX: a random time in that range)")
    .add(effect_counter, "effect-counter",
         "consume: HINCRBY KEY total 1 per entry, atomically with its XACK (drill)")
    .add(forward_to, "forward-to",
         "consume: with --effect-counter, XADD each entry's fields + src=<its ID> to STREAM")
    .add(effects_pipelined, "effects-pipelined",
         "consume: send the --effect-counter writes pipelined before a plain ack (not atomic)")
    .add(measure_latency, "measure-latency", "consume/node: p50/p99 of ts -> callback start")
    .add(rounds, "rounds", "bench: rounds per case")
    .add(seconds, "seconds", "bench latency: how long to produce; bench keys: per run")
    .add(streams, "streams", "bench scale/responsiveness: number of streams")
    .add(clients, "clients", "bench gateway: event-stream clients, spread over --streams")
    .add(ids, "ids", "dead-letters replay/purge: these dead-letter IDs (comma-separated)")
    .add(all, "all", "dead-letters replay/purge: every dead letter")
    .add(json, "json", "status: one line of JSON instead of the table")
    .add(watch, "watch", "status: refresh every N seconds (0: once)");
}

std::string cli_config::parse_work_us() {
  if (work_us_text.empty())
    return {};
  auto bad = "--work-us " + work_us_text + ": expected N or MIN-MAX (microseconds)";
  auto number = [](const std::string& s, uint64_t& out) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
      return false;
    out = std::stoull(s);
    return true;
  };
  auto dash = work_us_text.find('-');
  if (dash == std::string::npos) {
    if (!number(work_us_text, work_us))
      return bad;
    work_us_max = work_us;
    return {};
  }
  if (!number(work_us_text.substr(0, dash), work_us)
      || !number(work_us_text.substr(dash + 1), work_us_max) || work_us_max < work_us)
    return bad;
  return {};
}

} // namespace rill::cli
