#include "apps/rill/commands.hpp"
#include "apps/rill/seq_callbacks.hpp"
#include "runtime/node_main.hpp"
#include "runtime/runtime.hpp"

#include <algorithm>
#include <cstdio>

namespace rill::cli {

int node_command(config& cfg) {
  seq_tally tally;
  if (!cfg.record.empty())
    if (auto err = tally.open_record(cfg.record); !err.empty())
      return config_error("node", err);
  callback_registry callbacks;
  register_seq_callbacks(callbacks, cfg, tally);
  return run_node(cfg, callbacks, [&](runtime& rt) {
    // One JSON line per reader (what its workers, local or remote, acked) ...
    for (const auto& c : rt.consumers()) {
      const auto& m = c->metrics();
      auto seconds = std::max(1e-9, (m.finished_ns - m.first_delivery_ns) / 1e9);
      std::printf("{\"impl\":\"rill\",\"role\":\"reader\",\"stream\":\"%s\",\"group\":\"%s\","
                  "\"processed\":%llu,\"seconds\":%.3f,\"msgs_per_s\":%.0f}\n",
                  c->options().stream.c_str(), c->options().group.c_str(),
                  static_cast<unsigned long long>(m.processed.load()), seconds,
                  m.processed / seconds);
    }
    // ... and one for what this node's callbacks processed.
    std::printf("{\"impl\":\"rill\",\"role\":\"workers\",\"processed\":%llu,\"checksum\":%llu%s}\n",
                static_cast<unsigned long long>(tally.processed.load()),
                static_cast<unsigned long long>(tally.checksum.load()),
                tally.latency_json().c_str());
    std::fflush(stdout);
  });
}

} // namespace rill::cli
