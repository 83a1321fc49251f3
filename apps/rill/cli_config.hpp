#pragma once

// The rill binary's configuration: the library's (rill::config: redis,
// consumer, producer, node, log and their short flags) plus the flags only
// the subcommands read. librill never sees these.

#include <rill/runtime/config.hpp>

#include <cstdint>
#include <string>

namespace rill::cli {

class cli_config : public rill::config {
public:
  cli_config();

  /// `rill <command> --help`: exactly the options `command` takes (its short
  /// flags and option groups), headed by `title` ("rill bench latency").
  /// Empty for an unknown command.
  std::string help_for(const std::string& command, const std::string& title) const;

  /// `--payload-bytes B`: size of the payload field `rill produce` writes.
  uint64_t payload_bytes = 100;
  /// `--rate R`: entries per second for `rill produce` (0: unlimited).
  uint64_t rate = 0;
  /// `--keys N`: `rill produce` adds a field `key` = "k<0..N-1>" (load_plan).
  uint64_t keys = 0;
  /// `--record FILE`: `rill consume` appends each processed seq to FILE.
  std::string record;
  /// `--fail-percent P`: `rill consume` fails every entry whose seq % 100 < P
  /// (always, so it is retried and then dead-lettered): a fault drill.
  uint64_t fail_percent = 0;
  /// `--work-us N` or `MIN-MAX`: `rill consume` waits N µs per entry (or a
  /// random time in MIN..MAX), asynchronously. Parsed by `parse_work_us`.
  std::string work_us_text;
  uint64_t work_us = 0;     // N, or MIN
  uint64_t work_us_max = 0; // N, or MAX

  /// `work_us_text` into `work_us` and `work_us_max`; an error text or "".
  std::string parse_work_us();
  /// `--effect-counter KEY`: `rill consume` stages `HINCRBY KEY total 1` per
  /// entry, applied atomically with its XACK (docs/exactly-once.md): a drill.
  std::string effect_counter;
  /// `--forward-to STREAM`: with --effect-counter, also stages `XADD STREAM`
  /// of the entry's fields plus `src` = its ID.
  std::string forward_to;
  /// `--effects-pipelined`: the same writes sent from an async callback as
  /// one pipeline before a plain ack, without atomicity (bench comparison).
  bool effects_pipelined = false;
  /// `--measure-latency`: consume / worker nodes report p50/p99 of entry `ts`
  /// -> callback start.
  bool measure_latency = false;
  /// `rill bench`: rounds per case, seconds per latency run, streams.
  uint64_t rounds = 3;
  uint64_t seconds = 10;
  uint64_t streams = 1;
  /// `rill bench gateway`: event-stream clients (spread over --streams).
  uint64_t clients = 1000;
  /// `rill dead-letters replay|purge`: `--ids ID,ID,...` or `--all`.
  std::string ids;
  bool all = false;
  /// `rill status`: `--json` (one line of JSON), `--watch N` (refresh every N s).
  bool json = false;
  uint64_t watch = 0;
};

} // namespace rill::cli
