#pragma once

#include <nlohmann/json.hpp>

#include "cli_config.hpp"
#include <rill/actors/callbacks.hpp>
#include <rill/runtime/callback_registry.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace rill::cli {

/// What the built-in callbacks add up, shared by all workers of a process.
struct seq_tally {
  std::atomic<uint64_t> checksum{0};
  std::atomic<uint64_t> processed{0};
  /// --record FILE, opened for appending (-1: none).
  int record_fd = -1;
  /// --measure-latency: µs from the entry's `ts` to callback start.
  std::vector<double> latencies;
  std::atomic<size_t> latency_count{0};

  /// The same as fields of a JSON line.
  void add_latency(nlohmann::ordered_json& line);

  ~seq_tally();
  /// Opens `path` for --record; returns an error text or "".
  std::string open_record(const std::string& path);
};

/// The callbacks of `rill consume` and of worker nodes: wait --work-us
/// asynchronously; then parse `seq` (an entry without a numeric one is
/// dead-lettered), fail it for --fail-percent, append it to --record with one
/// write(2) (after the work, before the ack), add it to the checksum.
void add_seq_callbacks(callback_list& list, const cli_config& cfg, seq_tally& tally);

/// With a `counter` (--effect-counter): "effects", staging `HINCRBY counter
/// total 1` (and, with a `forward` stream, XADD of the entry's fields plus
/// `src`) per entry; `pipelined` (--effects-pipelined) sends the same writes
/// before a plain ack instead (not atomic). register_seq_callbacks registers
/// it after "seq"; `rill bench effects` uses it too.
void register_effect_callbacks(callback_registry& registry, const std::string& counter,
                               const std::string& forward, bool pipelined);

/// The same callbacks registered by name for `rill node`: "latency" (with
/// --measure-latency), "work" (with --work-us) and "seq", in that order (a
/// pool's callbacks= list may name another order).
void register_seq_callbacks(callback_registry& registry, const cli_config& cfg, seq_tally& tally);

} // namespace rill::cli
