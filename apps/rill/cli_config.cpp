#include "cli_config.hpp"

namespace rill::cli {

cli_config::cli_config() {
  // One parser per flag, for every subcommand that takes it.
  opt_group{custom_options_, "global"}
    .add(payload_bytes, "payload-bytes", "size of the produced payload field")
    .add(rate, "rate", "entries per second to produce (0: unlimited)")
    .add(record, "record", "append every processed seq to this file")
    .add(fail_percent, "fail-percent", "consume: fail entries with seq % 100 < P (drill)")
    .add(work_us, "work-us", "consume: wait this many µs per entry, asynchronously")
    .add(measure_latency, "measure-latency", "consume/node: p50/p99 of ts -> callback start")
    .add(rounds, "rounds", "bench: rounds per case")
    .add(seconds, "seconds", "bench latency: how long to produce")
    .add(streams, "streams", "bench scale/responsiveness: number of streams")
    .add(clients, "clients", "bench gateway: event-stream clients, spread over --streams")
    .add(ids, "ids", "dead-letters replay/purge: these dead-letter IDs (comma-separated)")
    .add(all, "all", "dead-letters replay/purge: every dead letter")
    .add(json, "json", "status: one line of JSON instead of the table")
    .add(watch, "watch", "status: refresh every N seconds (0: once)");
}

} // namespace rill::cli
